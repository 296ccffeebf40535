"""What a notification says: pure functions from journalled alerts to a channel-neutral Notice.

Every word comes from the message table (edge/i18n/table.py, keys ``notify.*``), in the configured
language and time zone; the place is the device's human name. Each channel then dresses the Notice
in its service's format (WeCom markdown, a Feishu card, an e-mail, a JSON body).

    >>> n = render(alert, "zh-CN", ZoneInfo("Asia/Shanghai"))
    >>> n.text.splitlines()[0]
    '【发热预警】东门 07:42 体温 38.1°C（阈值 37.3°C），请立即复测'
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

from edge.hub.model import Alert
from edge.i18n import clock, has, local, stamp, text

log = logging.getLogger(__name__)

ALERT, SUMMARY, ESCALATION, TEST = "alert", "summary", "escalation", "test"
SUMMARY_LINES = 30  # lines listed in one summary; keeps it under WeCom's 4096-byte markdown limit


@dataclass(frozen=True)
class Notice:
    """One message to deliver, in every shape a channel may need.

    title: short subject (e-mail subject, DingTalk/Feishu title), e.g. "【发热预警】东门".
    markdown: headline in bold, then detail lines (the subset WeCom, DingTalk and Feishu share).
    text: the same as plain text; its first line is the headline.
    snapshot: the thermal snapshot PNG, when the alert has one.
    alert_ids: the journal ids this notice covers (one, or many for a summary).
    data: JSON-safe description of the alerts, for the generic webhook.
    """

    title: str
    markdown: str
    text: str
    snapshot: bytes | None = None
    alert_ids: tuple[int, ...] = ()
    language: str = "zh-CN"
    kind: str = ALERT
    data: dict[str, Any] = field(default_factory=dict)
    snapshot_missing: bool = False  # the alert had a snapshot file that could not be read

    @property
    def headline(self) -> str:
        return self.text.splitlines()[0] if self.text else self.title

    def __repr__(self) -> str:  # a snapshot is kilobytes of PNG: keep logs readable
        snap = f"{len(self.snapshot)} B" if self.snapshot else "none"
        return f"Notice({self.kind}, alerts={list(self.alert_ids)}, {self.headline!r}, snapshot={snap})"


# For each text key: its fields and where they come from: (event field, decimals or None as given).
FIELDS: dict[str, dict[str, tuple[str, int | None]]] = {
    "notify.fever": {"temp": ("temp_c", 1), "threshold": ("threshold_c", 1)},
    "notify.recheck": {"temp": ("temp_c", 1)},
    "notify.recheck.too_fast_hot": {"temp": ("temp_c", 1)},
    "notify.leak.burst": {"flow": ("flow_lpm", 1), "limit": ("limit_lpm", 1), "minutes": ("minutes", 0)},
    "notify.leak.night_flow": {
        "flow": ("min_night_flow_lpm", 2), "baseline": ("baseline_lpm", 2),
        "limit": ("threshold_lpm", 2), "nights": ("nights", 0),
    },
    "notify.leak.continuous_flow": {"hours": ("hours", 0), "flow": ("min_flow_lpm", 2)},
    "notify.leak.other": {"reason": ("reason", None)},
    "notify.after_hours_load": {
        "power": ("power_w", 0), "baseload": ("baseload_w", 0), "limit": ("threshold_w", 0),
        "minutes": ("minutes", 0),
    },
    "notify.meter_offline": {"failures": ("failures", 0), "error": ("last_error", None)},
    "notify.meter_online": {"minutes": ("offline_seconds", None)},
    "notify.camera_offline": {"error": ("error", None)},
    "notify.broker_offline": {"broker": ("broker", None), "minutes": ("minutes", None)},
    "notify.broker_online": {"broker": ("broker", None), "minutes": ("minutes", None)},
    "notify.counter_reset": {"previous": ("previous", None), "current": ("current", None)},
    "notify.maintenance_due": {"detail": ("detail", None)},
    "notify.repair_request": {"detail": ("detail", None), "by": ("by", None), "repair": ("repair", None)},
    "notify.camera_fault": {"reason": ("reason", None)},
    **{f"notify.repair_update.{step}": {"repair": ("repair", None), "by": ("by", None),
                                        "description": ("description", None), "reason": ("reason", None),
                                        "date": ("expected_date", None)}
       for step in ("accept", "fix", "defer", "recovered", "recovered_open")},
    "notify.rule_action": {
        "action": ("action", None), "target": ("target", None), "trigger": ("trigger", None),
    },
    # screening (edge/screening/payloads.py); `reason` is a code, put into words by screening.reason.*
    "notify.screening_degraded": {"reason": ("reason", None)},
    "notify.screening_blind": {"reason": ("reason", None), "seconds": ("seconds", 0)},
    "notify.calibration_drift": {"mean": ("mean_c", 2), "low": ("band_low_c", 1), "high": ("band_high_c", 1)},
}
SCREENING_REASONS = ("notify.screening_degraded", "notify.screening_blind")

# Leak reasons by another name (older agents) that share a text.
LEAK_ALIASES = {"no_zero_hour": "continuous_flow"}


def text_key(alert: Alert) -> str:
    """The message key of an alert's headline: its type's, by reason for leaks, else the generic one."""
    if alert.type == "leak":
        reason = str(alert.fields.get("reason"))
        reason = LEAK_ALIASES.get(reason, reason)
        key = f"notify.leak.{reason}"
        return key if isinstance(reason, str) and has(key) else "notify.leak.other"
    if alert.type == "repair_update":  # one text per step of the request (edge/hub/upkeep/service.py)
        key = f"notify.repair_update.{alert.fields.get('step')}"
        return key if has(key) else "notify.other"
    if alert.type == "recheck" and has(f"notify.recheck.{alert.fields.get('reason')}"):  # a hot runner
        return f"notify.recheck.{alert.fields.get('reason')}"
    key = f"notify.{alert.type}"
    return key if has(key) and alert.type not in ("other", "unknown", "line", "summary") else "notify.other"


def title_of(alert_type: str, language: str) -> str:
    key = f"alert.title.{alert_type}"
    return text(key if has(key) else "alert.title.other", language)


def place_of(alert: Alert) -> str:
    return alert.place or alert.device or alert.node


def fmt(value: Any, decimals: int | None, language: str) -> str:
    """A figure for people: fixed decimals for measurements, "unknown" for a missing one."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return text("notify.unknown", language)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float) and decimals is not None:
        return f"{value:.{decimals}f}"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)[:200]


def relay_fault_text(fields: dict[str, Any], lang: str) -> str:
    """A ``relay_fault`` event in words: who could not switch the relay how, and the error."""
    cause, action = str(fields.get("cause")), str(fields.get("action"))
    return text("upkeep.relay.fault", lang,
                cause=text(f"relay.cause.{cause}", lang) if has(f"relay.cause.{cause}") else cause,
                action=text(f"notify.action.{action}", lang) if has(f"notify.action.{action}") else action,
                error=str(fields.get("error") or "-")[:200])


def headline(alert: Alert, language: str, tz: tzinfo | None) -> str:
    """The one-line text of an alert, e.g. 【发热预警】东门 07:42 体温 38.1°C（阈值 37.3°C），请立即复测."""
    key = text_key(alert)
    f = alert.fields
    values = {name: fmt(f.get(src), dec, language) for name, (src, dec) in FIELDS.get(key, {}).items()}
    if key == "notify.meter_online" and isinstance(f.get("offline_seconds"), int | float):
        values["minutes"] = f"{f['offline_seconds'] / 60:.0f}"
    if key == "notify.maintenance_due" and not f.get("detail"):
        values["detail"] = text("notify.maintenance_default", language)
    if key == "notify.relay_fault":  # the agent's codes (cause, action) in words
        values["detail"] = relay_fault_text(f, language)
    if key == "notify.camera_fault" and isinstance(f.get("reasons"), list):  # patrol codes in words
        values["reason"] = text("upkeep.sep", language).join(
            text(f"patrol.reason.{r}", language) if has(f"patrol.reason.{r}") else str(r)
            for r in f["reasons"][:10])
    if key == "notify.rule_action" and has(f"notify.action.{f.get('action')}"):
        values["action"] = text(f"notify.action.{f['action']}", language)
    if key == "notify.rule_action" and has(f"alert.title.{f.get('trigger')}"):
        values["trigger"] = title_of(f["trigger"], language)
    if key in SCREENING_REASONS:
        values["reason"] = screening_reason(f.get("reason"), language)
    if key == "notify.other":
        values["type"] = alert.type
        values["detail"] = _details(f) or "-"
    return text(key, language, title=title_of(alert.type, language), place=place_of(alert),
                time=clock(alert.ts_ms, tz), **values)


def screening_reason(code: Any, language: str) -> str:
    key = f"screening.reason.{code}"
    return text(key if isinstance(code, str) and has(key) else "screening.reason.unknown", language)


def _details(fields: dict[str, Any]) -> str:
    """An unknown event's fields as "k=v" pairs (short; a snapshot or blob never goes into a text)."""
    parts = []
    for k, v in fields.items():
        if isinstance(v, str | int | float | bool) and not (isinstance(v, str) and len(v) > 80):
            parts.append(f"{k}={v}")
    return ", ".join(parts[:8])


def _detail_lines(alert: Alert, language: str, tz: tzinfo | None) -> list[str]:
    lines = [
        text("notify.line.place", language, place=place_of(alert)),
        text("notify.line.time", language, stamp=stamp(alert.ts_ms, tz)),
    ]
    f = alert.fields
    if alert.type == "fever" and f.get("uncertainty_c") is not None:
        lines.append(text("notify.line.fever", language, uncertainty=fmt(f.get("uncertainty_c"), 1, language),
                          frames=fmt(f.get("frames"), 0, language)))
    if alert.type == "unscreened":  # why the pupil was not screened (the headline says only that)
        lines.append(text("notify.line.reason", language, reason=screening_reason(f.get("reason"), language)))
    lines.append(text("notify.line.source", language, site=alert.site, node=alert.node,
                      device=alert.device or "-"))
    lines.append(text("notify.line.alert", language, id=alert.id))
    return lines


def alert_data(alert: Alert, tz: tzinfo | None) -> dict[str, Any]:
    """An alert as JSON-safe data (for the generic webhook): ids, place, times, the event's fields."""
    fields = {k: v for k, v in alert.fields.items() if k != "snapshot_png"}
    return {
        "id": alert.id, "site": alert.site, "node": alert.node, "device": alert.device,
        "type": alert.type, "ts_ms": alert.ts_ms, "seq": alert.seq,
        "local_time": local(alert.ts_ms, tz).isoformat(timespec="seconds"),
        "place": place_of(alert), "state": alert.state, "fields": fields,
    }


_READ = object()


def load_snapshot(alert: Alert) -> tuple[bytes | None, bool]:
    """The alert's snapshot PNG and whether a named file was missing (a note, never a failure)."""
    if not alert.snapshot_path:
        return None, False
    try:
        return Path(alert.snapshot_path).read_bytes(), False
    except OSError as exc:
        log.warning("alert %s: cannot read its snapshot %s: %s", alert.id, alert.snapshot_path, exc)
        return None, True


def _compose(head: str, lines: list[str]) -> tuple[str, str]:
    markdown = f"**{head}**\n" + "\n".join(f"> {ln}" for ln in lines)
    plain = head + "\n" + "\n".join(lines)
    return markdown, plain


def render(alert: Alert, language: str, tz: tzinfo | None, snapshot: Any = _READ) -> Notice:
    """The notice for one alert. The snapshot is read from ``alert.snapshot_path`` unless given."""
    missing = False
    if snapshot is _READ:
        snapshot, missing = load_snapshot(alert)
    head = headline(alert, language, tz)
    lines = _detail_lines(alert, language, tz)
    if missing:
        lines.append(text("notify.snapshot.missing", language, id=alert.id))
    markdown, plain = _compose(head, lines)
    return Notice(
        title=text("notify.subject", language, title=title_of(alert.type, language), place=place_of(alert)),
        markdown=markdown, text=plain, snapshot=snapshot or None, alert_ids=(alert.id,),
        language=language, kind=ALERT, data={"kind": ALERT, "alerts": [alert_data(alert, tz)]},
        snapshot_missing=missing,
    )


def render_summary(alerts: Sequence[Alert], language: str, tz: tzinfo | None) -> Notice:
    """One message listing many alerts (when a channel's rate limit is reached): nothing dropped."""
    if not alerts:
        raise ValueError("a summary needs at least one alert")
    ordered = sorted(alerts, key=lambda a: (a.ts_ms, a.id))
    title = text("notify.summary.title", language)
    head = text("notify.summary.head", language, title=title, count=len(ordered),
                start=clock(ordered[0].ts_ms, tz), end=clock(ordered[-1].ts_ms, tz))
    shown = ordered[:SUMMARY_LINES]
    lines = [f"#{a.id} {headline(a, language, tz)}" for a in shown]
    if len(ordered) > len(shown):
        lines.append(text("notify.summary.more", language, count=len(ordered) - len(shown)))
    markdown = f"**{head}**\n" + "\n".join(f"- {ln}" for ln in lines)
    plain = head + "\n" + "\n".join(lines)
    return Notice(
        title=head, markdown=markdown, text=plain, snapshot=None,
        alert_ids=tuple(a.id for a in ordered), language=language, kind=SUMMARY,
        data={"kind": SUMMARY, "alerts": [alert_data(a, tz) for a in ordered]},
    )


def render_test(channel_id: str, language: str, tz: tzinfo | None, now_ms: int) -> Notice:
    """A test message for a channel (no alert): "this robot is connected"."""
    title = text("notify.test.title", language)
    head = text("notify.test.head", language, title=title, channel=channel_id, stamp=stamp(now_ms, tz))
    return Notice(title=head, markdown=f"**{head}**", text=head, language=language, kind=TEST,
                  data={"kind": TEST, "alerts": []})


def render_escalation(alert: Alert, minutes: int | float, language: str, tz: tzinfo | None,
                      snapshot: Any = _READ) -> Notice:
    """The second-tier notice: this alert has waited ``minutes`` without acknowledgement."""
    base = render(alert, language, tz, snapshot)
    title = text("notify.escalation.title", language)
    head = text("notify.escalation.head", language, title=title, id=alert.id,
                minutes=fmt(minutes, 0, language))
    return Notice(
        title=text("notify.escalation.subject", language, title=title, subject=base.title),
        markdown=f"**{head}**\n{base.markdown}", text=f"{head}\n{base.text}", snapshot=base.snapshot,
        alert_ids=base.alert_ids, language=language, kind=ESCALATION,
        data={"kind": ESCALATION, "minutes": minutes, "alerts": base.data["alerts"]},
        snapshot_missing=base.snapshot_missing,
    )
