"""A simulated Modbus RTU bus of SDM120/SDM630 meters, framed by pymodbus's own server-side framer.

Requests are decoded and replies built with pymodbus (``FramerRTU`` with a
server ``DecodePDU``): the CRC and framing are pymodbus's, not ours. Registers
come from the driver's register maps (device knowledge is data). Faults as in
the DL/T 645 simulator; ``error`` answers exception 4 (server device failure).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse
from pymodbus.pdu.register_message import ReadHoldingRegistersResponse, ReadInputRegistersResponse

from drivers.modbus import registers as regs
from simulators.meters.model import SimMeter


class ModbusBus:
    def __init__(self, make_meter: Callable[[str], SimMeter] | None = None, units: list[int] | None = None,
                 model: str = "sdm120") -> None:
        self.meters: dict[int, SimMeter] = {}
        self.map = {r.address: r for r in regs.MODELS[model]}
        self._make = make_meter
        self._open = units is None
        self._framer = FramerRTU(DecodePDU(is_server=True))
        self._buf = b""
        self._lock = threading.Lock()
        for u in units or []:
            if make_meter is not None:
                self.meters[u] = make_meter(str(u))

    def add(self, unit: int, meter: SimMeter) -> SimMeter:
        with self._lock:
            self.meters[unit] = meter
        return meter

    def meter(self, unit: int) -> SimMeter:
        with self._lock:
            if unit not in self.meters and self._open and self._make is not None:
                self.meters[unit] = self._make(str(unit))
            return self.meters[unit]

    def feed(self, data: bytes) -> list[tuple[bytes, bytes | None, float]]:
        self._buf += data
        used, unit, _tid, frame = self._framer.decode(self._buf)
        if used == 0:
            if len(self._buf) > 256:
                self._buf = b""  # nothing decodable in a buffer this long: start over
            return []
        raw, self._buf = self._buf[:used], self._buf[used:]
        if not frame:
            return [(raw, None, 0.0)]  # bad CRC: a real slave stays silent
        return [self.answer(raw, unit, frame)]

    def answer(self, raw: bytes, unit: int, frame: bytes) -> tuple[bytes, bytes | None, float]:
        try:
            meter = self.meter(unit)
        except KeyError:
            return raw, None, 0.0
        meter.requests += 1
        request = self._framer.decoder.decode(frame)
        faults = meter.faults
        if request is None or "silent" in faults:
            return raw, None, 0.0
        fc = request.function_code
        reply_unit = unit + 1 if "wrong_address" in faults else unit
        if "error" in faults or fc not in (3, 4):
            pdu: Any = ExceptionResponse(fc, 4 if "error" in faults else 1, device_id=reply_unit)
        else:
            registers = self._registers(meter, request.address, request.count)
            if registers is None:
                pdu = ExceptionResponse(fc, 2, device_id=reply_unit)  # illegal data address
            else:
                cls = ReadInputRegistersResponse if fc == 4 else ReadHoldingRegistersResponse
                pdu = cls(registers=registers, dev_id=reply_unit)
        reply = bytearray(self._framer.buildFrame(pdu))
        if "corrupt" in faults:
            reply[3] ^= 0x40
        if "bad_checksum" in faults:
            reply[-1] ^= 0xFF
        if "truncate" in faults:
            reply = reply[: len(reply) // 2]
        if "garbage" in faults:
            reply = bytearray((i * 37 + 0x16) & 0xFF for i in range(len(reply)))
        return raw, bytes(reply), meter.slow_seconds if "slow" in faults else 0.0

    def _registers(self, meter: SimMeter, address: int, count: int) -> list[int] | None:
        values = meter.readings()
        out: list[int] = []
        at = address
        while at < address + count:
            reg = self.map.get(at)
            if reg is None:
                return None
            out += regs.encode(reg, values[reg.name])
            at += reg.count
        return out[:count] if at == address + count else None
