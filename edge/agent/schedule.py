"""Which schedule entries are due at a given local minute (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def due(schedules: list[dict[str, Any]], local: datetime) -> list[dict[str, Any]]:
    hhmm = local.strftime("%H:%M")
    day = DAYS[local.weekday()]
    date = local.strftime("%Y-%m-%d")
    return [s for s in schedules if s["at"] == hhmm and day in s["days"] and date not in s["skip_dates"]]
