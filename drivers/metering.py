"""What every meter driver does with its readings, whatever the protocol.

- ``MeterPublisher``: refuses a cumulative counter that goes backwards (event
  ``counter_reset``, never negative consumption), publishes telemetry and the
  retained state, tracks online/offline (events ``meter_offline`` /
  ``meter_online``), counts failures by kind. The alert detectors (leak,
  after-hours) are not the driver's business: edge.processors.meters attaches
  them to the readings from the device entry's ``leak:`` / ``after_hours:``.
- ``PolledMeter``: a meter on a shared serial bus: one poll = a few
  transactions; a silent meter backs off so it never stalls the bus.

Telemetry names are the same for every driver: ``energy_kwh``, ``voltage_v``,
``current_a``, ``power_w`` (electricity); ``volume_m3``, ``flow_lpm`` (water).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import Any

from drivers.base import DeviceContext, RateLimitedLog
from drivers.serial_bus import PortError, SerialBus, shared_bus
from edge.config.schema import Enum, Field, Float, Int, Str

COUNTERS = {"electricity_meter": "energy_kwh", "water_meter": "volume_m3"}
FAILURES = ("timeout", "truncated", "garbage", "checksum", "wrong_address", "error_reply", "bad_value",
            "port")
FAILURE_LOG_SECONDS = 60.0  # one "timeout: ..." line per kind per meter at most this often

PORT_DOC = ("serial device (`/dev/ttyUSB0`), or a built-in simulator: `sim:dlt645?profile=school_day` / "
            "`sim:modbus?profile=ac_overnight`; options after `?`, joined by `&`: profile (profile.<address> "
            "for one meter), scale (simulated "
            "seconds per real second), start (ISO time the simulated clock starts at), addresses/units (the "
            "meters present, comma-separated; default: any address asked), faults, energy (starting kWh); "
            "meters naming the same sim port share one simulated bus (docs/meters.md)")


def serial_fields(default_baud: int, default_parity: str) -> dict[str, Field]:
    return {
        "port": Field(Str(min_len=1), PORT_DOC, required=True),
        "baudrate": Field(Int(min=300, max=115200), "bits per second on the bus", default=default_baud),
        "parity": Field(Enum(choices=("E", "N", "O")), "parity of the bus", default=default_parity),
        "stopbits": Field(Int(min=1, max=2), "stop bits", default=1),
        "poll_seconds": Field(Float(min=0.01, max=86400), "seconds between two readings of this meter",
                              default=10.0),
        "timeout_seconds": Field(Float(min=0.01, max=30), "how long to wait for an answer", default=1.0),
        "retries": Field(Int(min=0, max=5), "extra attempts after a failed transaction", default=1),
        "offline_after": Field(Int(min=1, max=100), "failed polls in a row before `meter_offline`",
                               default=3),
        "max_backoff_seconds": Field(Float(min=0.01, max=86400),
                                     "longest wait between polls of a silent meter", default=60.0),
    }


def at(path: str, key: str) -> str:
    """The place of ``key`` in an entry at ``path`` (an entry checked on its own has no path)."""
    return f"{path}.{key}" if path else key


class MeterFailure(Exception):
    """One failed transaction: ``kind`` is one of FAILURES, the message says what was seen."""

    def __init__(self, kind: str, message: str) -> None:
        assert kind in FAILURES, kind
        super().__init__(message)
        self.kind = kind


class MeterPublisher:
    def __init__(self, config: dict[str, Any], context: DeviceContext) -> None:
        self.cfg = config
        self.ctx = context
        self.counter = COUNTERS[config["kind"]]
        self.failures: Counter[str] = Counter()
        self._failure_logs: dict[str, RateLimitedLog] = {}
        self.failed_in_row = 0
        self.online: bool | None = None
        self.offline_since: float | None = None
        self.values: dict[str, float] = {}
        self.last_error: dict[str, Any] | None = None  # in the retained state: `campus-edge status` shows it
        self._last_counter: float | None = context.load("counter")
        self._lock = threading.Lock()

    def publish(self, values: dict[str, float], ts_ms: int | None = None) -> None:
        """A good reading: telemetry (where the alert detectors, if any, see it), retained state."""
        ts = ts_ms if ts_ms is not None else int(time.time() * 1000)
        with self._lock:
            count = values.get(self.counter)
            if count is not None:
                backwards = self._last_counter is not None and count < self._last_counter
                if backwards:
                    self.ctx.log.warning("%s went backwards from %s to %s (meter replaced or rolled over)",
                                         self.counter, self._last_counter, count)
                    self.ctx.event("counter_reset", {"counter": self.counter, "previous": self._last_counter,
                                                     "current": count}, ts)
                if count != self._last_counter:
                    self._last_counter = count
                    if backwards:  # the reset event is out: the new start must not raise it again
                        self.save_counter()
                    else:  # not an SD-card write per reading: the agent writes these once a minute
                        self.ctx.save_soon("counter", count)
            self.ctx.telemetry(values, ts)
            self.values = dict(values)
            self.failed_in_row = 0
            if self.online is False:
                away = time.monotonic() - (self.offline_since or time.monotonic())
                self.ctx.log.info("meter back after %.1f s", away)
                self.ctx.event("meter_online", {"offline_seconds": round(away, 1)}, ts)
            self.online, self.offline_since = True, None
            self._state(ts)

    def failed(self, kind: str, message: str, offline_after: int) -> None:
        """A failed poll (after retries); reports the meter offline after ``offline_after`` in a row."""
        with self._lock:
            self.failed_in_row += 1
            if self.failed_in_row == offline_after and self.online is not False:
                self.ctx.log.warning("meter offline after %d failed polls (last: %s)", self.failed_in_row,
                                     message)
                self.online, self.offline_since = False, time.monotonic()
                self.ctx.event("meter_offline", {"failures": self.failed_in_row, "last_error": kind,
                                                 "detail": message[:200]})
                self._state(int(time.time() * 1000))

    def count(self, kind: str, message: str) -> None:
        """One failed transaction: a counter, never a published number, and a clear log line, at most one
        per kind every FAILURE_LOG_SECONDS (a vanished port fails at every poll for as long as it is gone)."""
        self.failures[kind] += 1
        self.last_error = {"kind": kind, "detail": message[:200], "ts": int(time.time() * 1000)}
        if kind not in self._failure_logs:
            self._failure_logs[kind] = RateLimitedLog(self.ctx.log, FAILURE_LOG_SECONDS)
        self._failure_logs[kind].warning("%s: %s", kind, message)

    def _state(self, ts: int) -> None:
        state: dict[str, Any] = {"ts": ts, "online": bool(self.online), "values": self.values,
                                 "failures": dict(self.failures)}
        if self.last_error is not None:
            state["last_error"] = self.last_error
        self.ctx.state(state)

    def save_counter(self) -> None:
        """Keep the last counter now (a restart compares the next reading with it). Between these,
        save_soon keeps it at most a minute stale: a crash then compares with a slightly older value."""
        if self._last_counter is not None:
            self.ctx.save("counter", self._last_counter)


class PolledMeter:
    """Base of the serial meters: ``read(bus)`` returns values or raises MeterFailure."""

    kind = "electricity_meter"
    parity_default = "E"

    def __init__(self, config: dict[str, Any], context: DeviceContext) -> None:
        self.id: str = config["id"]
        self.name = self.id
        self.cfg = config
        self.ctx = context
        self.publisher = MeterPublisher(config, context)
        self.bus: SerialBus | None = None

    def read(self, bus: SerialBus) -> dict[str, float]:
        raise NotImplementedError

    def transaction(self, attempt: Any) -> Any:
        """Run ``attempt()`` with retries; count every failure; re-raise the last one."""
        last: MeterFailure | None = None
        for _ in range(self.cfg["retries"] + 1):
            try:
                return attempt()
            except MeterFailure as exc:
                self.publisher.count(exc.kind, str(exc))
                last = exc
                if exc.kind in ("error_reply", "port"):
                    break  # the meter answered "no", or there is no port: asking again will not help
        assert last is not None
        raise last

    def poll(self, bus: SerialBus) -> float:
        try:
            values = self.read(bus)
        except MeterFailure as exc:
            self.publisher.failed(exc.kind, str(exc), self.cfg["offline_after"])
            return self._backoff()
        except PortError as exc:  # the port itself is gone: back off like a silent meter
            self.publisher.count("port", str(exc))
            self.publisher.failed("port", str(exc), self.cfg["offline_after"])
            return self._backoff()
        self.publisher.publish(values)
        return self.cfg["poll_seconds"]

    def _backoff(self) -> float:
        """poll_seconds doubled at each failed poll in a row, up to max_backoff_seconds."""
        backoff = self.cfg["poll_seconds"] * 2 ** min(self.publisher.failed_in_row - 1, 16)
        return min(backoff, max(self.cfg["max_backoff_seconds"], self.cfg["poll_seconds"]))

    def start(self) -> None:
        self.bus = shared_bus(self.ctx.resources, self.cfg["port"], self.cfg["baudrate"], self.cfg["parity"],
                              self.cfg["stopbits"], self.ctx.log)
        self.bus.add(self)

    def stop(self) -> None:
        if self.bus is not None:
            self.bus.remove(self)
            self.bus = None
        self.publisher.save_counter()
