"""Modbus framing through pymodbus, and register maps, as byte vectors and round trips."""

import struct

import pytest

from drivers.modbus import registers as regs
from drivers.modbus import rtu


def test_read_request_matches_the_published_sdm_voltage_query():
    # Eastron's manuals and countless forum posts: read input registers 30001-30002 of unit 1.
    assert rtu.read_request(1, "input", 0, 2) == bytes.fromhex("01 04 00 00 00 02 71 CB")


def test_holding_read_uses_function_3():
    assert rtu.read_request(7, "holding", 0x10, 2)[:2] == bytes([7, 3])


def _reply(unit: int, fc: int, payload: bytes) -> bytes:
    from pymodbus.framer.rtu import FramerRTU

    frame = bytes([unit, fc]) + payload
    return frame + FramerRTU.compute_CRC(frame).to_bytes(2, "big")


def test_reply_with_a_float_decodes():
    raw = _reply(1, 4, b"\x04" + struct.pack(">f", 230.5))
    registers = rtu.parse_reply(raw, 1, "input", 2)
    assert regs.decode(regs.SDM120[0], registers) == 230.5


@pytest.mark.parametrize("mangle,kind", [
    (lambda b: b[:-1] + bytes([b[-1] ^ 0xFF]), "checksum"),
    (lambda b: b[:5], "truncated"),
    (lambda b: b"", "timeout"),
])
def test_broken_replies_say_what_is_wrong(mangle, kind):
    raw = _reply(1, 4, b"\x04" + struct.pack(">f", 230.5))
    with pytest.raises(rtu.ReplyError) as exc:
        rtu.parse_reply(mangle(raw), 1, "input", 2)
    assert exc.value.kind == kind


def test_reply_from_another_unit_is_refused():
    with pytest.raises(rtu.ReplyError) as exc:
        rtu.parse_reply(_reply(2, 4, b"\x04" + struct.pack(">f", 1.0)), 1, "input", 2)
    assert exc.value.kind == "wrong_address"


def test_exception_reply():
    result = rtu.parse_reply(_reply(1, 0x84, b"\x02"), 1, "input", 2)
    assert isinstance(result, rtu.Exception_) and result.text == "illegal data address"


@pytest.mark.parametrize("reg,value", [
    (regs.Register("energy_kwh", 0, "uint32", 0.01), 123456.78),
    (regs.Register("power_w", 0, "int16"), -1200.0),
    (regs.Register("voltage_v", 0, "float32", word_order="little"), 231.25),
    (regs.Register("energy_kwh", 0, "int32", 0.1), -5.5),
])
def test_register_round_trips(reg, value):
    assert regs.decode(reg, regs.encode(reg, value)) == pytest.approx(value)


def test_float32_is_high_word_first_for_eastron():
    assert regs.encode(regs.SDM120[0], 230.0) == list(struct.unpack(">HH", struct.pack(">f", 230.0)))
