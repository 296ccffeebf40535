"""One RS-485 port: the only owner of its pyserial handle, and the one thread polling every meter on it.

Several meters share a port (an RS-485 bus is half duplex: one question, one
answer at a time), so each port gets exactly one ``SerialBus``, created through
``context.resources.shared(f"serial:{port}", ...)``. Meters add a ``PollJob``;
the bus runs the job that is due next, so a silent meter costs its timeout and
then backs off (its own job decides when it is next due) instead of stalling
the others.

``port`` may name a built-in simulator (``sim:dlt645?...``, see
docs/meters.md): the bus asks the opener the wiring layer registered for that
scheme (``Resources.port_openers``) to start it on a pseudo-terminal, and opens
the pty's path with real pyserial, so the production path is the one exercised.
The bus never imports a simulator itself.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import termios
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import serial

from drivers.base import PortOpener, RateLimitedLog
from edge.heartbeat import Heartbeats

log = logging.getLogger(__name__)

READ_SLICE = 0.01  # seconds one read() may block; the transaction deadline is checked in between


class PortError(OSError):
    """The port cannot be opened or has gone away."""


class PollJob(Protocol):
    name: str

    def poll(self, bus: SerialBus) -> float:
        """Talk to the device; return seconds until this job is due again."""


def bits_per_char(parity: str, stopbits: float, bytesize: int = 8) -> float:
    return 1 + bytesize + (0 if parity == "N" else 1) + stopbits


class SerialBus:
    """A serial port shared by the meters on it. Thread-safe: ``transact`` holds the bus lock."""

    def __init__(self, port: str, baudrate: int, parity: str = "E", stopbits: int = 1, bytesize: int = 8,
                 reopen_seconds: float = 5.0, heartbeats: Heartbeats | None = None,
                 opener: PortOpener | None = None) -> None:
        self.port = port
        self.heartbeats = heartbeats
        self.baudrate = baudrate
        self.parity = parity
        self.stopbits = stopbits
        self.bytesize = bytesize
        self.reopen_seconds = reopen_seconds
        self.sim: Any = None  # the simulator behind a `sim:` port, started by its opener
        self._serial: serial.Serial | None = None
        self._next_open = 0.0
        self._open_errors = RateLimitedLog(log, 60.0)  # a port that is gone fails every reopen_seconds
        self._lock = threading.Lock()  # one transaction at a time on the wire
        self._jobs_lock = threading.Condition()
        self._heap: list[tuple[float, int, PollJob]] = []
        self._removed: set[int] = set()
        self._ids: dict[int, int] = {}  # id(job) -> heap tie-breaker id
        self._count = itertools.count()
        self._running: int | None = None  # the job being polled right now
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.transactions = 0
        if opener is not None:
            self.sim = opener.open(port, baudrate, bits_per_char(parity, stopbits, bytesize))

    def matches(self, baudrate: int, parity: str) -> bool:
        return (baudrate, parity) == (self.baudrate, self.parity)

    @property
    def char_time(self) -> float:
        """Seconds one character takes on the wire at this baud rate."""
        return bits_per_char(self.parity, self.stopbits, self.bytesize) / self.baudrate

    # -- jobs ------------------------------------------------------------------------------------------------
    def add(self, job: PollJob, first_in: float = 0.0) -> None:
        with self._jobs_lock:
            n = next(self._count)
            self._ids[id(job)] = n
            heapq.heappush(self._heap, (time.monotonic() + first_in, n, job))
            self._jobs_lock.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=f"bus {self.port}", daemon=True)
                self._thread.start()

    def remove(self, job: PollJob, wait: float = 10.0) -> None:
        """Take a job off the bus; waits (up to ``wait`` s) for its poll in progress, if any, to end."""
        deadline = time.monotonic() + wait
        with self._jobs_lock:
            n = self._ids.pop(id(job), None)
            if n is None:
                return
            self._removed.add(n)
            self._jobs_lock.notify_all()
            while self._running == n and threading.current_thread() is not self._thread:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._jobs_lock.wait(min(left, 0.1))

    def _run(self) -> None:
        # A poll that never returns (a driver stuck in a blocking call) stops the beats: the watchdog notices.
        hb = self.heartbeats.register(f"bus {self.port}") if self.heartbeats is not None else None
        try:
            self._loop(hb)
        finally:
            if hb is not None:
                hb.close()

    def _loop(self, hb: Any) -> None:
        while not self._stop.is_set():
            if hb is not None:
                hb.beat()
            with self._jobs_lock:
                while self._heap and self._heap[0][1] in self._removed:
                    self._removed.discard(heapq.heappop(self._heap)[1])
                if not self._heap:
                    self._jobs_lock.wait(0.5)
                    continue
                due, n, job = self._heap[0]
                wait = due - time.monotonic()
                if wait > 0:
                    self._jobs_lock.wait(min(wait, 0.5))
                    continue
                heapq.heappop(self._heap)
                self._running = n
            try:
                delay = job.poll(self)
            except Exception:  # a driver bug must not kill the bus for the other meters
                log.exception("%s: poll of %s failed unexpectedly", self.port, job.name)
                delay = 5.0
            with self._jobs_lock:
                self._running = None
                self._jobs_lock.notify_all()
                if n in self._removed:
                    self._removed.discard(n)
                else:
                    heapq.heappush(self._heap, (time.monotonic() + max(delay, 0.0), n, job))

    # -- the wire --------------------------------------------------------------------------------------------
    def _open(self) -> serial.Serial:
        if self._serial is not None:
            return self._serial
        if time.monotonic() < self._next_open:
            wait = self._next_open - time.monotonic()
            raise PortError(f"{self.port} is not open (retrying in {wait:.0f} s)")
        path = self.port
        try:
            if self.sim is not None:
                path = self.sim.path
            elif scheme_of(self.port):
                raise ValueError(f"nothing is registered to open {scheme_of(self.port)}: ports")
            self._serial = serial.Serial(path, self.baudrate, bytesize=self.bytesize, parity=self.parity,
                                         stopbits=self.stopbits, timeout=READ_SLICE, write_timeout=2.0)
        except (OSError, ValueError, serial.SerialException) as exc:
            self._next_open = time.monotonic() + self.reopen_seconds
            self._open_errors.error("cannot open serial port %s: %s (trying again every %g s)", self.port,
                                    exc, self.reopen_seconds)
            raise PortError(f"cannot open {self.port}: {exc}") from None
        log.info("opened %s (%s) at %d baud, %d%s%d", self.port, path, self.baudrate, self.bytesize,
                 self.parity, self.stopbits)
        return self._serial

    def transact(self, request: bytes, done: Callable[[bytes], bool], timeout: float) -> bytes:
        """Send ``request``; collect the answer until ``done(bytes_so_far)`` or ``timeout``; return it."""
        with self._lock:
            ser = self._open()
            buf = bytearray()
            try:
                ser.reset_input_buffer()  # a late answer to an earlier question is not this answer
                ser.write(request)
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    chunk = ser.read(ser.in_waiting or 1)
                    if chunk:
                        buf += chunk
                        if done(bytes(buf)):
                            break
            except (OSError, serial.SerialException, termios.error) as exc:  # termios: the tty went away
                self._close_port()
                self._next_open = time.monotonic() + self.reopen_seconds
                raise PortError(f"{self.port}: {exc}") from None
            finally:
                self.transactions += 1
            return bytes(buf)

    def drain(self, seconds: float) -> int:
        """Read and drop whatever arrives for ``seconds`` (a late reply must not answer the next question)."""
        dropped = 0
        with self._lock:
            if self._serial is None:
                return 0
            deadline = time.monotonic() + seconds
            try:
                while time.monotonic() < deadline:
                    dropped += len(self._serial.read(self._serial.in_waiting or 1))
            except (OSError, serial.SerialException, termios.error):
                self._close_port()
        return dropped

    def _close_port(self) -> None:
        if self._serial is not None:
            try:
                self._serial.close()
            except (OSError, serial.SerialException):
                pass
            self._serial = None

    def stop(self) -> None:
        self._stop.set()
        with self._jobs_lock:
            self._jobs_lock.notify_all()
        if self._thread is not None:
            self._thread.join(5)
        with self._lock:
            self._close_port()
        if self.sim is not None:
            self.sim.stop()
            self.sim = None


def scheme_of(port: str) -> str | None:
    """``sim`` for ``sim:dlt645?...``; None for a device path (``/dev/ttyUSB0``, ``COM3``)."""
    scheme, sep, _ = port.partition(":")
    return scheme if sep and scheme.isidentifier() else None


def opener_for(resources: Any, port: str) -> PortOpener | None:
    scheme = scheme_of(port)
    return None if scheme is None else getattr(resources, "port_openers", {}).get(scheme)


def shared_bus(resources: Any, port: str, baudrate: int, parity: str, stopbits: int,
               logger: logging.Logger) -> SerialBus:
    """The one bus for ``port``; warns when two meters disagree about its settings (the first one wins)."""
    bus: SerialBus = resources.shared(f"serial:{port}", lambda: SerialBus(
        port, baudrate, parity, stopbits, heartbeats=getattr(resources, "heartbeats", None),
        opener=opener_for(resources, port)))
    if not bus.matches(baudrate, parity):
        logger.warning("%s is already open at %d baud parity %s; ignoring this meter's %d/%s", port,
                       bus.baudrate, bus.parity, baudrate, parity)
    return bus
