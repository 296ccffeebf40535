"""Pure upkeep arithmetic: usage from telemetry and relay states, and when a task falls due.

    >>> u = Usage()
    >>> u, litres, reset = meter_step(u, 12.000, ts_ms=1000)    # the first reading: a baseline, 0 L
    >>> u, litres, reset = meter_step(u, 12.150, ts_ms=61000)   # 150 L
    >>> r = relay_step(Usage(), True, 0); r = relay_step(r, False, 3_600_000); r.on_seconds
    3600.0

No I/O: the service (edge/hub/upkeep/service.py) keeps a ``Usage`` per item in the journal database
and hands each reading here. Robust to what the field brings: a counter that goes backwards (meter
replaced, agent database rebuilt: a reset, the litres of that one step are not counted), readings
that come again or out of order (older than the last: ignored), gaps (the next reading's delta covers
them), a relay state repeated after a reconnect (nothing changes) and either side restarting (the
relay's ``on_since`` is persisted, so on-time goes on counting).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, tzinfo
from typing import Any

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Usage:
    litres: float = 0.0  # litres counted since the hub began tracking the item
    on_seconds: float = 0.0  # relay on-time closed so far (an on spell still running: on_since)
    last_counter: float | None = None  # the meter's last volume_m3
    last_ts: int | None = None  # the last reading's or state's ts (ms)
    on_since_ms: int | None = None  # the relay is on since then (None: off or unknown)
    resets: int = 0


def meter_step(u: Usage, volume_m3: float, ts_ms: int) -> tuple[Usage, float, bool]:
    """Add one cumulative meter reading: (new usage, litres added, whether the counter went back)."""
    if u.last_ts is not None and ts_ms <= u.last_ts:
        return u, 0.0, False  # a redelivery or an old reading after a newer one
    if u.last_counter is None:
        return replace(u, last_counter=volume_m3, last_ts=ts_ms), 0.0, False
    delta_m3 = volume_m3 - u.last_counter
    if delta_m3 < 0:
        return replace(u, last_counter=volume_m3, last_ts=ts_ms, resets=u.resets + 1), 0.0, True
    litres = delta_m3 * 1000.0
    return replace(u, litres=u.litres + litres, last_counter=volume_m3, last_ts=ts_ms), litres, False


def relay_step(u: Usage, on: bool, ts_ms: int) -> Usage:
    """Add one relay state (``{"on", "ts"}``); an older or repeated state changes nothing."""
    if u.last_ts is not None and ts_ms < u.last_ts:
        return u
    if on:
        return replace(u, on_since_ms=u.on_since_ms if u.on_since_ms is not None else ts_ms, last_ts=ts_ms)
    if u.on_since_ms is None:
        return replace(u, last_ts=ts_ms)
    spell = max(0, ts_ms - u.on_since_ms) / 1000.0
    return replace(u, on_seconds=u.on_seconds + spell, on_since_ms=None, last_ts=ts_ms)


def on_seconds_at(u: Usage, now_ms: int) -> float:
    """On-time including a spell still running."""
    running = max(0, now_ms - u.on_since_ms) / 1000.0 if u.on_since_ms is not None else 0.0
    return u.on_seconds + running


@dataclass(frozen=True)
class Baseline:
    """Where a task's counters start: its last service (or when the hub began tracking it)."""

    since_ms: int
    litres: float = 0.0
    on_seconds: float = 0.0


@dataclass(frozen=True)
class TaskStatus:
    due: bool
    reasons: tuple[str, ...]  # litres | on_hours | days | term
    litres: float | None  # used since the baseline (None: not counted for this task)
    on_hours: float | None
    days: float
    litres_left: float | None
    on_hours_left: float | None
    due_date_ms: int | None  # the calendar due time (every_days / the term's start), if any
    term: str | None = None  # the term a per_term task is due in


def term_of(terms: list[tuple[date, date, str]], d: date) -> tuple[date, date, str] | None:
    for t in terms:
        if t[0] <= d <= t[1]:
            return t
    return None


def _day_start_ms(d: date, tz: tzinfo | None) -> int:
    dt = datetime(d.year, d.month, d.day, tzinfo=tz)
    return int((dt if dt.tzinfo else dt.astimezone()).timestamp() * 1000)


def task_status(task: dict[str, Any], base: Baseline, usage: Usage, now_ms: int,
                terms: list[tuple[date, date, str]] | None = None, tz: tzinfo | None = None) -> TaskStatus:
    """Whether ``task`` is due now, and how far each of its intervals has run (whichever comes first)."""
    reasons: list[str] = []
    litres = on_hours = litres_left = on_hours_left = None
    due_date: int | None = None
    term_name = None
    if task.get("every_litres"):
        litres = max(0.0, usage.litres - base.litres)
        litres_left = task["every_litres"] - litres
        if litres_left <= 0:
            reasons.append("litres")
    if task.get("every_on_hours"):
        on_hours = max(0.0, on_seconds_at(usage, now_ms) - base.on_seconds) / 3600.0
        on_hours_left = task["every_on_hours"] - on_hours
        if on_hours_left <= 0:
            reasons.append("on_hours")
    days = max(0, now_ms - base.since_ms) / DAY_MS
    if task.get("every_days"):
        due_date = base.since_ms + int(task["every_days"] * DAY_MS)
        if now_ms >= due_date:
            reasons.append("days")
    if task.get("per_term") and terms:
        today = datetime.fromtimestamp(now_ms / 1000, tz).date()
        term = term_of(terms, today)
        if term is not None:
            start_ms = _day_start_ms(term[0], tz)
            term_name = term[2] or f"{term[0]}..{term[1]}"
            if base.since_ms < start_ms:  # not done since this term began
                reasons.append("term")
                due_date = start_ms if due_date is None else min(due_date, start_ms)
    return TaskStatus(bool(reasons), tuple(reasons), litres, on_hours, days, litres_left, on_hours_left,
                      due_date, term_name)


def should_alert(due_since_ms: int | None, last_alert_ms: int | None, now_ms: int, remind_ms: int) -> bool:
    """A due task is raised once, then again every ``remind_ms`` while nobody services it."""
    if due_since_ms is None:
        return False
    return last_alert_ms is None or now_ms - last_alert_ms >= remind_ms


def timing(due_since_ms: int | None, done_ms: int, grace_ms: int) -> str:
    """How a service record counts in the term report: on_time (not due yet, or within the grace) or late."""
    if due_since_ms is None or done_ms <= due_since_ms + grace_ms:
        return "on_time"
    return "late"
