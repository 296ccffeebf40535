"""Which schedule entries are due (pure).

The agent keeps a cursor: the last epoch minute whose entries have run (on disk, so a restart
knows it). Each tick it runs the entries of every minute after the cursor up to now, at most
``catch_up`` minutes back: an 18:00 "all off" still happens when the agent restarted at 18:00:30
or the clock stepped over it, but a Pi switched on in the morning does not replay yesterday.
Minutes are converted to local time one by one, so a daylight-saving jump skips the entries of
the missing hour and runs those of a repeated hour twice (on/off are idempotent).
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def due(schedules: list[dict[str, Any]], local: datetime, calendar: Any = None) -> list[dict[str, Any]]:
    """Entries due at this local minute. ``school_days: true`` entries ask the school calendar
    (``edge.calendar``: terms, holidays, make-up Saturdays) instead of their ``days``."""
    hhmm = local.strftime("%H:%M")
    day = DAYS[local.weekday()]
    date = local.strftime("%Y-%m-%d")
    out = []
    for s in schedules:
        if s["at"] != hhmm or date in s["skip_dates"]:
            continue
        if s.get("school_days") and calendar is not None:
            if calendar.is_school_day(local.date()):
                out.append(s)
        elif day in s["days"]:
            out.append(s)
    return out


def due_between(
    schedules: list[dict[str, Any]], cursor: int | None, now_minute: int, tz: tzinfo | None, catch_up: int,
    calendar: Any = None,
) -> list[tuple[int, dict[str, Any]]]:
    """(epoch minute, entry) for every entry due after ``cursor`` up to and including ``now_minute``."""
    first = now_minute if cursor is None else max(cursor + 1, now_minute - catch_up)
    out = []
    for minute in range(first, now_minute + 1):
        local = datetime.fromtimestamp(minute * 60, tz) if tz else datetime.fromtimestamp(minute * 60)
        out += [(minute, entry) for entry in due(schedules, local, calendar)]
    return out
