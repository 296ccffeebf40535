"""Simulated time: a clock running ``scale`` times faster than the wall clock, or one a test sets by hand."""

from __future__ import annotations

import threading
import time
from datetime import datetime, tzinfo


class SimClock:
    """Simulated epoch seconds = start + (real seconds since creation) x scale."""

    def __init__(self, start: datetime | float | None = None, scale: float = 1.0,
                 tz: tzinfo | None = None) -> None:
        if isinstance(start, datetime):
            start = start.timestamp()
        self.start = time.time() if start is None else float(start)
        self.scale = scale
        self.tz = tz
        self._real0 = time.monotonic()

    def now(self) -> float:
        return self.start + (time.monotonic() - self._real0) * self.scale

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), self.tz) if self.tz else datetime.fromtimestamp(self.now())


class ManualClock:
    """A clock that moves only when told to (tests, benchmarks replaying days)."""

    def __init__(self, start: datetime | float, tz: tzinfo | None = None) -> None:
        self._now = start.timestamp() if isinstance(start, datetime) else float(start)
        self.tz = tz
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, when: datetime | float) -> None:
        with self._lock:
            self._now = when.timestamp() if isinstance(when, datetime) else float(when)

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), self.tz) if self.tz else datetime.fromtimestamp(self.now())
