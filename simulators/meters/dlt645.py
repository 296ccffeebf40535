"""A simulated DL/T 645-2007 bus: every meter on it answers read requests for its own address.

Uses the driver's codec (the byte vectors in tests/drivers/dlt645 pin the codec
to published frames, so the two cannot drift apart unnoticed). Faults, per
meter: silent, slow (``slow_seconds`` late), corrupt (a flipped data byte,
checksum left as it was), bad_checksum, truncate, wrong_address, error (0xD1
"no requested data"), garbage (line noise instead of the reply).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from drivers.dlt645 import codec
from simulators.meters.model import SimMeter

VALUES = {0x00010000: "energy_kwh", 0x00000000: "energy_kwh", 0x02010100: "voltage_v",
          0x02020100: "current_a", 0x02030000: "power_w"}


class Dlt645Bus:
    def __init__(self, make_meter: Callable[[str], SimMeter] | None = None,
                 addresses: list[str] | None = None) -> None:
        """``make_meter(address)`` creates a meter on its first request when ``addresses`` is None."""
        self.meters: dict[str, SimMeter] = {}
        self._make = make_meter
        self._open = addresses is None
        self._buf = b""
        self._lock = threading.Lock()
        for a in addresses or []:
            if make_meter is not None:
                self.add(make_meter(a))

    def add(self, meter: SimMeter) -> SimMeter:
        with self._lock:
            self.meters[meter.address] = meter
        return meter

    def meter(self, address: str) -> SimMeter:
        with self._lock:
            if address not in self.meters and self._open and self._make is not None:
                self.meters[address] = self._make(address)
            return self.meters[address]

    def feed(self, data: bytes) -> list[tuple[bytes, bytes | None, float]]:
        out: list[tuple[bytes, bytes | None, float]] = []
        self._buf += data
        while self._buf:
            scan = codec.scan(self._buf)
            if scan.consumed == 0:
                break
            raw, self._buf = self._buf[:scan.consumed], self._buf[scan.consumed:]
            if scan.frame is not None:
                out.append(self.answer(raw, scan.frame))
        return out

    def answer(self, raw: bytes, frame: codec.Frame) -> tuple[bytes, bytes | None, float]:
        try:
            meter = self.meter(frame.address)
        except KeyError:
            return raw, None, 0.0  # nobody there: the bus stays quiet
        meter.requests += 1
        try:
            di = codec.decode_request(frame)
        except codec.CodecError:
            return raw, None, 0.0
        faults = meter.faults
        if "silent" in faults:
            return raw, None, 0.0
        if "error" in faults or di not in VALUES:
            reply = codec.encode_error(meter.address, 0x02)  # bit 1: no requested data
        else:
            value = meter.readings()[VALUES[di]]
            if di == 0x02030000:
                value /= 1000  # the meter speaks kW
            address = meter.address
            if "wrong_address" in faults:
                address = f"{(int(address) + 1) % 10**12:012d}"
            reply = codec.encode_reply(address, di, value)
        reply = _damage(reply, faults)
        return raw, reply, meter.slow_seconds if "slow" in faults else 0.0


def _damage(reply: bytes, faults: set[str]) -> bytes:
    b = bytearray(reply)
    if "corrupt" in faults:
        b[-4] ^= 0x40  # a data byte; checksum left as it was
    if "bad_checksum" in faults:
        b[-2] = (b[-2] + 1) & 0xFF
    if "truncate" in faults:
        b = b[: len(b) // 2]
    if "garbage" in faults:
        b = bytearray((i * 37 + 0x16) & 0xFF for i in range(len(b)))  # line noise instead of an answer
    return bytes(b)
