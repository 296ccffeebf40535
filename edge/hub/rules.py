"""Pure routing: which channels hear about an alert, at which stage, from when; and rate-limit packing.

    >>> plan(rules, alert, tz)   # -> [Planned(channel="gate-group", stage="notify", due_ms=...), ...]

The dispatcher (edge/hub/dispatch.py) stores these as delivery rows in the same transaction as the
alert, so the decision is made once and survives a restart. Everything here is a function of its
arguments, tested with vectors (tests/edge/hub/test_rules.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from edge.hub.model import Alert
from edge.i18n import local

NOTIFY, ESCALATE = "notify", "escalate"


@dataclass(frozen=True)
class Planned:
    channel: str
    stage: str  # notify | escalate
    due_ms: int


def matches(rule: dict[str, Any], alert: Alert) -> bool:
    events = rule["events"]
    if "any" not in events and alert.type not in events:
        return False
    for key, value in (("sites", alert.site), ("nodes", alert.node), ("devices", alert.device)):
        if rule.get(key) and value not in rule[key]:
            return False
    if rule.get("min_temp_c") is not None:
        temp = alert.fields.get("temp_c")
        if not isinstance(temp, int | float) or isinstance(temp, bool) or temp < rule["min_temp_c"]:
            return False
    return True


def _hm(text: str) -> time:
    h, m = text.split(":")
    return time(int(h), int(m))


def quiet_until(ts_ms: int, quiet: str | None, tz: tzinfo | None) -> int:
    """``ts_ms`` if it is outside the quiet hours ("21:00-07:00", local), else the end of that quiet spell."""
    if not quiet:
        return ts_ms
    start_s, end_s = quiet.split("-")
    start, end = _hm(start_s), _hm(end_s)
    if start == end:
        return ts_ms
    now = local(ts_ms, tz)
    t = now.time().replace(tzinfo=None)
    if start < end:
        inside = start <= t < end
        end_day = now.date()
    else:  # across midnight
        inside = t >= start or t < end
        end_day = now.date() + timedelta(days=1) if t >= start else now.date()
    if not inside:
        return ts_ms
    end_dt = datetime.combine(end_day, end, tzinfo=now.tzinfo)
    if tz is not None:  # wall-clock end in the zone (DST-safe via zoneinfo)
        end_dt = datetime.combine(end_day, end).replace(tzinfo=tz)
    return max(ts_ms, int(end_dt.timestamp() * 1000))


def plan(rules: list[dict[str, Any]], alert: Alert, tz: tzinfo | None) -> list[Planned]:
    """The deliveries an alert needs: one per (channel, stage), the earliest due time if rules overlap.

    Notices are due when the alert arrived (``received_ms``: an agent's backlog replayed after an
    outage is still news to people), held past a rule's quiet hours; escalations are due
    ``after_minutes`` after that, also held past quiet hours.
    """
    base = alert.received_ms or alert.ts_ms
    out: dict[tuple[str, str], int] = {}

    def add(channel: str, stage: str, due: int) -> None:
        key = (channel, stage)
        out[key] = min(out.get(key, due), due)

    for rule in rules:
        if not matches(rule, alert):
            continue
        quiet = rule.get("quiet_hours")
        for ch in rule["channels"]:
            add(ch, NOTIFY, quiet_until(base, quiet, tz))
        esc = rule.get("escalate")
        if esc:
            due = base + int(esc["after_minutes"] * 60_000)
            for ch in esc["channels"]:
                add(ch, ESCALATE, quiet_until(due, quiet, tz))
    return [Planned(ch, st, due) for (ch, st), due in sorted(out.items())]


def pack(costs: list[int], left: int | None, per_summary: int = 30) -> tuple[int, int]:
    """How to send due notices through a channel with ``left`` requests free in its rate window.

    ``costs``: requests each notice takes (a WeCom notice with a snapshot is two); a summary (one
    request) lists up to ``per_summary`` alerts, so every alert is named in a message the service
    accepts. Returns (how many of the first notices go one by one, how many summaries carry the
    next ones). As many go one by one as leave room for the summaries of the rest; with too little
    room even for those, the summaries that fit go now and the remaining alerts wait for the window
    to move (nothing is dropped, the limit is kept).
    """
    n_all = len(costs)
    if left is None:
        return n_all, 0
    if left <= 0 or not costs:
        return 0, 0
    if sum(costs) <= left:
        return n_all, 0
    best, spent = 0, 0
    for n in range(1, n_all):
        spent += costs[n - 1]
        if spent + -(-(n_all - n) // per_summary) > left:
            break
        best = n
    summaries = -(-(n_all - best) // per_summary)
    if best == 0:
        summaries = min(summaries, left)
    return best, summaries
