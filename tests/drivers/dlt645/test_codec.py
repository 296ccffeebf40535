"""DL/T 645-2007 codec against byte vectors from published frames, plus round trips and broken input."""

import pytest

from drivers.dlt645 import codec

ADDR = "000000000161"

# Published example (meter 000000000161, read total active energy DI 00 01 00 00). Verified by hand:
# request checksum = sum(68 61 01 00 00 00 00 68 11 04 33 33 34 33) mod 256 = 0x14;
# reply checksum = sum(68 61 01 00 00 00 00 68 91 08 33 33 34 33 59 33 33 33) mod 256 = 0x8A,
# so the printed reply checksum 8A is right; data 59 33 33 33 - 33 = 26 00 00 00 -> 000000.26 kWh.
REQUEST = bytes.fromhex("FE FE FE FE 68 61 01 00 00 00 00 68 11 04 33 33 34 33 14 16")
REPLY = bytes.fromhex("68 61 01 00 00 00 00 68 91 08 33 33 34 33 59 33 33 33 8A 16")


def test_encode_read_matches_published_request():
    assert codec.encode_read(ADDR, 0x00010000) == REQUEST


def test_published_reply_decodes_to_0_26_kwh():
    scan = codec.scan(REPLY)
    assert scan.frame is not None and scan.consumed == len(REPLY) and scan.problem is None
    reading = codec.decode_reply(scan.frame, ADDR, 0x00010000)
    assert reading == codec.Reading(ADDR, 0x00010000, 0.26)


@pytest.mark.parametrize("preamble", [b"", b"\xfe", b"\xfe" * 2, b"\xfe" * 3, b"\xfe" * 4])
def test_zero_to_four_wakeup_bytes_are_tolerated(preamble):
    scan = codec.scan(preamble + REPLY)
    assert scan.frame is not None and scan.problem is None
    assert codec.decode_reply(scan.frame, ADDR, 0x00010000).value == 0.26


def test_address_is_reversed_bcd():
    assert codec.encode_address(ADDR) == bytes.fromhex("61 01 00 00 00 00")
    assert codec.decode_address(bytes.fromhex("61 01 00 00 00 00")) == ADDR
    with pytest.raises(codec.CodecError):
        codec.encode_address("12345")


def test_address_containing_0x16_is_not_mistaken_for_the_end():
    # Address 000000001616: bytes 16 16 00 00 00 00. A splitter that stops at the first 0x16 breaks here.
    addr = "000000001616"
    frame = codec.encode_reply(addr, 0x00010000, 12.34)
    assert frame.count(0x16) > 1
    scan = codec.scan(frame)
    assert scan.frame is not None
    assert codec.decode_reply(scan.frame, addr, 0x00010000).value == 12.34


@pytest.mark.parametrize("di,value", [
    (0x00010000, 123456.78), (0x00010000, 0.0), (0x00000000, -12.5), (0x02010100, 229.7),
    (0x02020100, 5.123), (0x02020100, -5.123), (0x02030000, 1.2345), (0x02030000, -0.0456),
])
def test_round_trip_every_data_id(di, value):
    scan = codec.scan(codec.encode_reply(ADDR, di, value))
    assert scan.frame is not None
    assert codec.decode_reply(scan.frame, ADDR, di).value == pytest.approx(value)


def test_sign_bit_of_current_and_power():
    # Phase A current -1.500 A: BCD 00 15 00 (little-endian 00 15 80 with the sign bit on the top byte).
    raw = codec.encode_bcd(-1.5, codec.DATA_IDS[0x02020100])
    assert raw == bytes.fromhex("00 15 80")
    assert codec.decode_bcd(raw, codec.DATA_IDS[0x02020100]) == -1.5


def test_request_round_trip():
    scan = codec.scan(codec.encode_read(ADDR, 0x02010100))
    assert scan.frame is not None and codec.decode_request(scan.frame) == 0x02010100


def test_error_reply_and_its_bits():
    frame = codec.scan(codec.encode_error(ADDR, 0b0000_0110)).frame
    result = codec.decode_reply(frame, ADDR, 0x00010000)
    assert isinstance(result, codec.MeterError)
    assert result.reasons == ["no requested data", "password error or unauthorized"]


def test_bad_checksum_is_reported_and_dropped():
    bad = bytearray(REPLY)
    bad[-2] ^= 0xFF
    scan = codec.scan(bytes(bad))
    assert scan.frame is None and scan.consumed == len(bad) and "checksum" in scan.problem


def test_truncated_frame_waits_for_more():
    scan = codec.scan(REPLY[:12])
    assert scan.frame is None and scan.consumed == 0


def test_garbage_before_a_frame_is_skipped_and_reported():
    scan = codec.scan(b"\x16\x00\x68\x12" + REPLY)
    assert scan.frame is not None and scan.problem and "garbage" in scan.problem


def test_pure_garbage_is_consumed():
    scan = codec.scan(b"\x01\x02\x16\x16")
    assert scan.frame is None and scan.consumed == 4


def test_reply_from_wrong_address_or_for_wrong_data_id_is_refused():
    frame = codec.scan(REPLY).frame
    with pytest.raises(codec.CodecError, match="address"):
        codec.decode_reply(frame, "000000000162", 0x00010000)
    with pytest.raises(codec.CodecError, match="data id"):
        codec.decode_reply(frame, ADDR, 0x02010100)


def test_non_bcd_value_is_refused():
    data = codec.di_bytes(0x00010000) + b"\xaa\x00\x00\x00"
    frame = codec.scan(codec.encode_frame(ADDR, codec.REPLY, data)).frame
    with pytest.raises(codec.CodecError, match="BCD"):
        codec.decode_reply(frame, ADDR, 0x00010000)
