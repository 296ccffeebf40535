"""Modbus RTU frames through pymodbus's own framer and PDU classes: we never frame or CRC by hand.

``read_request`` builds the bytes of a read; ``parse_reply`` checks a reply's
CRC, unit and function and returns its registers, or says what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymodbus.framer.rtu import FramerRTU
from pymodbus.pdu import DecodePDU, ExceptionResponse
from pymodbus.pdu.register_message import ReadHoldingRegistersRequest, ReadInputRegistersRequest

FUNCTIONS = {"input": ReadInputRegistersRequest, "holding": ReadHoldingRegistersRequest}
EXCEPTIONS = {1: "illegal function", 2: "illegal data address", 3: "illegal data value",
              4: "server device failure", 5: "acknowledge", 6: "server device busy"}


class ReplyError(ValueError):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Exception_:
    code: int

    @property
    def text(self) -> str:
        return EXCEPTIONS.get(self.code, f"exception {self.code}")


def client_framer() -> FramerRTU:
    return FramerRTU(DecodePDU(is_server=False))


def read_request(unit: int, function: str, address: int, count: int) -> bytes:
    pdu = FUNCTIONS[function](address=address, count=count, dev_id=unit)
    return client_framer().buildFrame(pdu)


def expected_size(count: int) -> int:
    return 5 + 2 * count  # unit, function, byte count, data, CRC x2


def complete(buf: bytes, count: int) -> bool:
    """Enough bytes for a normal reply, or an exception reply (5 bytes, function | 0x80)."""
    return len(buf) >= expected_size(count) or (len(buf) >= 5 and bool(buf[1] & 0x80))


def parse_reply(buf: bytes, unit: int, function: str, count: int) -> list[int] | Exception_:
    if not buf:
        raise ReplyError("timeout", "no answer")
    framer = client_framer()
    used, dev_id, _tid, data = framer.decode(buf)
    if used == 0:
        raise ReplyError("truncated", f"incomplete frame: {buf[:24].hex(' ')}")
    if not data:
        kind = "checksum" if len(buf) >= 4 else "garbage"
        raise ReplyError(kind, f"CRC check failed or no frame: {buf[:24].hex(' ')}")
    if dev_id != unit:
        raise ReplyError("wrong_address", f"reply from unit {dev_id}, expected {unit}")
    pdu = framer.decoder.decode(data)
    if pdu is None:
        raise ReplyError("garbage", f"undecodable reply: {buf[:24].hex(' ')}")
    if isinstance(pdu, ExceptionResponse):
        return Exception_(pdu.exception_code)
    if pdu.function_code != FUNCTIONS[function].function_code:
        raise ReplyError("garbage", f"reply to function {pdu.function_code}, expected "
                                    f"{FUNCTIONS[function].function_code}")
    if len(pdu.registers) != count:
        raise ReplyError("truncated", f"{len(pdu.registers)} registers, expected {count}")
    return list(pdu.registers)
