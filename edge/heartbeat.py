"""Heartbeats: each long-running thread says "still making progress"; the watchdog checks them all.

A thread registers once (``beats.register("bus /dev/ttyUSB0", limit_s=120)``) and calls
``beat()`` every turn of its loop; a thread that has not beaten for ``limit_s`` is stuck (a driver
blocked in a read, a deadlock). ``close()`` takes it off the list when it ends on purpose.
The registry is handed to devices in ``drivers.base.Resources``, never global, so two agents in
one process (tests) do not see each other's threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from edge.config.schema import Field, Float, Obj

DEFAULT_LIMIT_S = 120.0

# `watchdog:` in the agent config
WATCHDOG = Obj(
    {
        "stall_seconds": Field(
            Float(min=1, max=3600),
            "a device thread (serial bus, camera, pulse meter) or the main loop that makes no progress this "
            "long is stuck: it is logged and the systemd watchdog pings stop (the unit restarts the agent); "
            "raise it for buses whose one poll can take longer (slow meters, many retries)",
            default=DEFAULT_LIMIT_S,
        ),
    }
)


class Heartbeat:
    def __init__(self, registry: Heartbeats, name: str, limit_s: float, clock: Callable[[], float]) -> None:
        self.name = name
        self.limit_s = limit_s
        self._registry = registry
        self._clock = clock
        self.last = clock()

    def beat(self) -> None:
        self.last = self._clock()

    def close(self) -> None:
        self._registry._remove(self)


@dataclass(frozen=True)
class Stuck:
    name: str
    silent_s: float
    limit_s: float

    def __str__(self) -> str:
        return f"{self.name} silent for {self.silent_s:.0f} s (limit {self.limit_s:.0f} s)"


class Heartbeats:
    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 default_limit_s: float = DEFAULT_LIMIT_S) -> None:
        self._clock = clock
        self.default_limit_s = default_limit_s  # the agent sets it from `watchdog.stall_seconds`
        self._lock = threading.Lock()
        self._beats: list[Heartbeat] = []

    def register(self, name: str, limit_s: float | None = None) -> Heartbeat:
        """A heartbeat that is overdue after ``limit_s`` (default: ``default_limit_s``)."""
        hb = Heartbeat(self, name, self.default_limit_s if limit_s is None else limit_s, self._clock)
        with self._lock:
            self._beats.append(hb)
        return hb

    def _remove(self, hb: Heartbeat) -> None:
        with self._lock:
            if hb in self._beats:
                self._beats.remove(hb)

    def names(self) -> list[str]:
        with self._lock:
            return [hb.name for hb in self._beats]

    def stuck(self) -> list[Stuck]:
        now = self._clock()
        with self._lock:
            beats = list(self._beats)
        return [Stuck(hb.name, now - hb.last, hb.limit_s) for hb in beats if now - hb.last > hb.limit_s]
