"""Small pieces the detectors share: alerts, daily time windows, local time, robust statistics."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from edge.config.schema import Date, Str

WINDOW = Str(pattern=r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d", hint="expected a window HH:MM-HH:MM")
DATE = Date()  # a real date: 2026-13-01 is refused
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Alert:
    """An event to publish: ``type`` and its figures (what the device's ``context.event`` takes)."""

    type: str
    ts_ms: int
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Window:
    """A daily window in minutes after midnight; may wrap past midnight (22:00-06:00)."""

    start: int
    end: int

    @classmethod
    def parse(cls, text: str) -> Window:
        a, b = text.split("-")
        return cls(_minutes(a), _minutes(b))

    def contains(self, minute: int) -> bool:
        if self.start <= self.end:
            return self.start <= minute < self.end
        return minute >= self.start or minute < self.end


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def zone(name: str | None) -> tzinfo | None:
    return ZoneInfo(name) if name else None


def local(ts_ms: int, tz: tzinfo | None) -> datetime:
    """Local time of a reading; ``tz=None`` means the system's zone, as the agent's schedules use."""
    if tz is None:
        return datetime.fromtimestamp(ts_ms / 1000).astimezone()
    return datetime.fromtimestamp(ts_ms / 1000, tz)


def minute_of_day(dt: datetime) -> int:
    return dt.hour * 60 + dt.minute


def median_mad(values: list[float]) -> tuple[float, float]:
    """Median and median absolute deviation: a baseline that a few odd nights do not drag."""
    med = statistics.median(values)
    return med, statistics.median(abs(v - med) for v in values)
