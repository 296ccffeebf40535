"""A pseudo-terminal pair with a protocol handler on the far end: the driver opens ``path`` with pyserial.

A pty does not enforce a baud rate, so the link paces each reply as the wire
would: it answers only after the request and the reply would have taken to
cross an RS-485 line at ``baudrate`` (``bits_per_char`` bits per byte: 11 for
8E1), plus ``turnaround`` seconds. Throughput measured against a simulator
therefore means something (benchmarks/bench_meters.py).
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from typing import Protocol


class Handler(Protocol):
    def feed(self, data: bytes) -> list[tuple[bytes, bytes | None, float]]:
        """Bytes from the driver -> [(request, reply or None, extra delay seconds)]."""


class PtyLink:
    def __init__(self, handler: Handler, baudrate: int = 2400, bits_per_char: float = 11.0,
                 turnaround: float = 0.0) -> None:
        self.handler = handler
        self.baudrate = baudrate
        self.bits_per_char = bits_per_char
        self.turnaround = turnaround
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no CR/LF translation before pyserial configures the port
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"sim {self.path}", daemon=True)
        self.replies = 0

    def start(self) -> PtyLink:
        self._thread.start()
        return self

    def wire_time(self, n_bytes: int) -> float:
        return n_bytes * self.bits_per_char / self.baudrate

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._master], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(self._master, 4096)
            except OSError:
                time.sleep(0.01)  # no reader on the slave side yet (or it just closed): keep serving
                continue
            for request, reply, delay in self.handler.feed(data):
                if reply is None:
                    continue
                pause = self.wire_time(len(request) + len(reply)) + self.turnaround + delay
                if self._stop.wait(pause):
                    return
                try:
                    os.write(self._master, reply)
                    self.replies += 1
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        for fd in (self._master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
