"""What a driver module provides and what the agent hands it.

A driver module exposes ``SPEC = DriverSpec(...)``: its kind, its name, the
config keys it adds to a device entry (validated with the rest of the file),
and ``build(config, context)`` returning a Device (or, for a camera,
``frames(config, resources)`` returning a function that opens its frame source:
the processing layer, edge.processors, puts the screening pipeline behind it).
Add the module to ``drivers.catalog.CATALOG`` and it can be used in a config file.

This module is the kernel of the device side: it imports nothing above
``edge.config.schema`` and ``edge.heartbeat``; drivers import it, never the
other way round (docs/architecture.md).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from edge.config.schema import Field
from edge.heartbeat import Heartbeats

log = logging.getLogger(__name__)


class DeviceContext(Protocol):
    """The agent's side of a device: where its readings go and what it may use."""

    device_id: str
    log: logging.Logger
    resources: Resources
    timezone: str | None  # the agent's IANA zone for local-time rules; None: the system's

    def telemetry(self, values: dict[str, float], ts_ms: int | None = None) -> None:
        """Queue a reading (outbox); durable within ``storage.flush_ms`` unless the broker has it sooner."""

    def event(self, type_: str, fields: dict[str, Any], ts_ms: int | None = None) -> None:
        """Queue an event durably (outbox)."""

    def state(self, state: dict[str, Any]) -> None:
        """Publish the device's retained state (last value wins)."""

    def load(self, key: str, default: Any = None) -> Any:
        """Read a JSON value this device stored earlier (survives restarts)."""

    def save(self, key: str, value: Any) -> None:
        """Store a JSON value durably for this device."""

    def save_soon(self, key: str, value: Any) -> None:
        """Store a JSON value that may be a minute late on disk (written with others in one
        transaction: a value that changes at every reading must not cost an SD-card write each)."""


@runtime_checkable
class Device(Protocol):
    id: str
    kind: str

    def start(self) -> None: ...

    def stop(self) -> None: ...


@runtime_checkable
class Switch(Protocol):
    """A device that can be switched on and off by commands (relays)."""

    id: str
    kind: str

    def set_on(self, on: bool) -> None: ...

    def is_on(self) -> bool: ...


@dataclass(frozen=True)
class DriverSpec:
    kind: str
    driver: str
    fields: dict[str, Field]
    build: Callable[[dict[str, Any], DeviceContext], Device] | None = None
    doc: str = ""
    check: Callable[[dict, str, list[str]], None] | None = None  # cross-field checks
    # A camera driver opens frames instead of building a device: frames(config, resources) -> open()
    frames: Callable[[dict[str, Any], Resources], Callable[[], Any]] | None = None
    # defaults this driver chooses for keys its kind's processing declares (a coarse sensor: face_max)
    defaults: dict[str, Any] = field(default_factory=dict)


class SimulatedPort(Protocol):
    """A simulator running behind a pseudo-terminal: ``path`` is opened with real pyserial."""

    path: str

    def stop(self) -> None: ...


class PortOpener(Protocol):
    """Starts what stands behind a port name with its scheme (``sim:dlt645?...``); the wiring layer
    registers one per scheme in ``Resources.port_openers``, as it hands relays their pin factory."""

    def check(self, port: str) -> None:
        """Raise ValueError saying what is wrong with this port name (checked when the config loads)."""

    def open(self, port: str, baudrate: int, bits_per_char: float) -> SimulatedPort: ...


@dataclass
class Resources:
    """Things several devices share: the GPIO pin factory, serial buses, ...

    Passed in explicitly so that tests and simulators choose them; ``shared``
    creates one object per key (e.g. one poller per serial port) and stops it
    with the agent.
    """

    pin_factory: Any = None
    # scheme -> opener for ports named "<scheme>:..." (the built-in meter simulators: "sim")
    port_openers: dict[str, PortOpener] = field(default_factory=dict)
    # drives a mock pin with a simulated pulse meter (a water meter's `simulate:`): (pin, config) -> generator
    pulse_simulator: Callable[[Any, dict[str, Any]], Any] | None = None
    heartbeats: Heartbeats = field(default_factory=Heartbeats)  # device threads beat; the watchdog checks
    _shared: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def shared(self, key: str, create: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._shared:
                self._shared[key] = create()
            return self._shared[key]

    def close(self) -> None:
        with self._lock:
            items = list(self._shared.values())
            self._shared.clear()
        for item in items:
            for name in ("stop", "close"):
                fn = getattr(item, name, None)
                if callable(fn):
                    try:
                        fn()
                    except Exception:  # closing must go on for the others
                        log.exception("closing %r failed", item)
                    break


class RateLimitedLog:
    """At most one line per `every` seconds; the next one says how many were left out.

    For faults that repeat as fast as a device polls (a vanished port, a camera sending garbage): the
    first line is written at once, the repeats are counted, never flooded."""

    def __init__(self, log: Any, every: float = 60.0) -> None:
        self.log, self.every = log, every
        self.next_at = 0.0
        self.skipped = 0

    def _emit(self, method: str, msg: str, *args: Any) -> None:
        now = time.monotonic()
        if now < self.next_at:
            self.skipped += 1
            return
        self.next_at = now + self.every
        if self.skipped:
            msg += f" ({self.skipped} similar line(s) left out in the last {self.every:g} s)"
            self.skipped = 0
        getattr(self.log, method)(msg, *args)

    def warning(self, msg: str, *args: Any) -> None:
        self._emit("warning", msg, *args)

    def error(self, msg: str, *args: Any) -> None:
        self._emit("error", msg, *args)

    def exception(self, msg: str, *args: Any) -> None:
        self._emit("exception", msg, *args)
