"""DL/T 645-2007 frames as pure functions between bytes and values.

Frame layout (multi-byte fields least significant byte first)::

    [FE x0..4] 68 A0 A1 A2 A3 A4 A5 68 C L DATA(L bytes, each +0x33) CS 16

- A0..A5: the meter address, 12 BCD digits, *reversed* (``000000000161`` -> ``61 01 00 00 00 00``).
- C: 0x11 read request, 0x91 normal reply (0xB1: reply with more data to follow), 0xD1 error reply.
- CS: sum of every byte from the first 0x68 to the last data byte, mod 256.

A frame is found by its length byte, never by the first 0x16 seen: 0x16 is a
valid address or data byte. Nothing here touches a port (see meter.py).
"""

from __future__ import annotations

from dataclasses import dataclass

PREAMBLE = b"\xfe\xfe\xfe\xfe"
START = 0x68
END = 0x16
READ = 0x11
REPLY = 0x91
REPLY_MORE = 0xB1
ERROR_REPLY = 0xD1
MAX_DATA = 200  # the 2007 standard caps L at 200 for a read reply
BROADCAST = "999999999999"

# Error bits of a 0xD1 reply (DL/T 645-2007, 7.3.1, table "error information word").
ERROR_BITS = {
    0: "other error",
    1: "no requested data",
    2: "password error or unauthorized",
    3: "baud rate cannot be changed",
    4: "too many year time zones",
    5: "too many daily time periods",
    6: "too many tariffs",
}


class CodecError(ValueError):
    """Bytes that are not a valid frame or value; the message says why."""


@dataclass(frozen=True)
class DataId:
    """A data identifier (DI3 DI2 DI1 DI0) and the layout of its value."""

    di: int
    name: str
    length: int  # bytes of BCD
    decimals: int
    signed: bool  # top bit of the most significant byte is the sign
    unit: str


# Data identifiers we read, as data: name, format, unit (DL/T 645-2007 appendix A).
DATA_IDS: dict[int, DataId] = {d.di: d for d in (
    DataId(0x00000000, "energy_combined_kwh", 4, 2, True, "kWh"),  # combined active energy, XXXXXX.XX
    DataId(0x00010000, "energy_kwh", 4, 2, False, "kWh"),  # total forward active energy, XXXXXX.XX
    DataId(0x02010100, "voltage_v", 2, 1, False, "V"),  # phase A voltage, XXX.X
    DataId(0x02020100, "current_a", 3, 3, True, "A"),  # phase A current, XXX.XXX
    DataId(0x02030000, "power_kw", 3, 4, True, "kW"),  # total active power, XX.XXXX
)}


@dataclass(frozen=True)
class Frame:
    address: str
    control: int
    data: bytes  # already unscrambled (0x33 removed)


@dataclass(frozen=True)
class Reading:
    address: str
    di: int
    value: float


@dataclass(frozen=True)
class MeterError:
    """A 0xD1 error reply: the meter understood us and said no."""

    address: str
    code: int

    @property
    def reasons(self) -> list[str]:
        return [text for bit, text in ERROR_BITS.items() if self.code & (1 << bit)] or ["unspecified"]


@dataclass(frozen=True)
class Scan:
    """Result of looking for one frame at the start of a byte stream."""

    frame: Frame | None  # a complete frame with a good checksum
    consumed: int  # bytes to drop from the buffer (the frame, or garbage before it)
    problem: str | None = None  # why bytes were dropped, if they were


# -- addresses and numbers -----------------------------------------------------------------------------------
def encode_address(address: str) -> bytes:
    if len(address) != 12 or not address.isdigit():
        raise CodecError(f"address must be 12 decimal digits, got {address!r}")
    return bytes(int(address[i:i + 2], 16) for i in range(10, -1, -2))


def decode_address(raw: bytes) -> str:
    if len(raw) != 6:
        raise CodecError(f"address must be 6 bytes, got {len(raw)}")
    text = raw[::-1].hex()
    if not text.isdigit() and text.upper() != "AAAAAAAAAAAA":
        raise CodecError(f"address is not BCD: {text}")
    return text


def scramble(data: bytes) -> bytes:
    return bytes((b + 0x33) & 0xFF for b in data)


def unscramble(data: bytes) -> bytes:
    return bytes((b - 0x33) & 0xFF for b in data)


def checksum(frame_from_first_68: bytes) -> int:
    return sum(frame_from_first_68) & 0xFF


def di_bytes(di: int) -> bytes:
    return di.to_bytes(4, "little")  # DI0 goes first on the wire


def encode_bcd(value: float, spec: DataId) -> bytes:
    """A value as the little-endian BCD field of ``spec`` (the meter's side; used by the simulator)."""
    scaled = round(abs(value) * 10 ** spec.decimals)
    digits = spec.length * 2 - (1 if spec.signed else 0)
    scaled %= 10 ** digits  # a register that rolls over, as a real meter's does
    raw = bytearray(int(f"{scaled:0{spec.length * 2}d}"[i:i + 2], 16) for i in range(0, spec.length * 2, 2))
    if spec.signed and value < 0:
        raw[0] |= 0x80
    return bytes(raw[::-1])


def decode_bcd(raw: bytes, spec: DataId) -> float:
    if len(raw) != spec.length:
        raise CodecError(f"{spec.name}: expected {spec.length} bytes, got {len(raw)}")
    big = bytearray(raw[::-1])
    negative = False
    if spec.signed and big[0] & 0x80:
        negative = True
        big[0] &= 0x7F
    text = big.hex()
    if not text.isdigit():
        raise CodecError(f"{spec.name}: not BCD: {raw.hex(' ')}")
    value = int(text) / 10 ** spec.decimals
    return -value if negative else value


# -- frames --------------------------------------------------------------------------------------------------
def encode_frame(address: str, control: int, data: bytes = b"", preamble: bytes = PREAMBLE) -> bytes:
    """A complete frame; ``data`` is plain (this adds the 0x33)."""
    if len(data) > 255:
        raise CodecError(f"data too long: {len(data)} bytes")
    body = bytes([START]) + encode_address(address) + bytes([START, control, len(data)]) + scramble(data)
    return preamble + body + bytes([checksum(body), END])


def encode_read(address: str, di: int, preamble: bytes = PREAMBLE) -> bytes:
    return encode_frame(address, READ, di_bytes(di), preamble)


def encode_reply(address: str, di: int, value: float) -> bytes:
    """A meter's normal reply to a read of ``di`` (the simulator's side)."""
    return encode_frame(address, REPLY, di_bytes(di) + encode_bcd(value, DATA_IDS[di]), b"\xfe")


def encode_error(address: str, code: int) -> bytes:
    return encode_frame(address, ERROR_REPLY, bytes([code]), b"\xfe")


def scan(buf: bytes) -> Scan:
    """Find the first complete frame in ``buf``.

    Skips wake-up bytes and garbage before a plausible header (68 + 6 bytes + 68);
    reads the length byte to know where the frame ends. ``consumed == 0`` and no
    frame means: wait for more bytes.
    """
    i = 0
    while True:
        start = buf.find(bytes([START]), i)
        if start < 0:
            return Scan(None, len(buf), _junk(buf))  # no header anywhere: all of it is garbage
        if len(buf) - start < 10:
            return Scan(None, start, _junk(buf[:start]))  # header not complete yet; keep it
        if buf[start + 7] != START:
            i = start + 1  # a stray 0x68, not a header
            continue
        length = buf[start + 9]
        if length > MAX_DATA:
            i = start + 1  # no reply is that long: not a header
            continue
        end = start + 12 + length
        if len(buf) < end:
            return Scan(None, start, _junk(buf[:start]))
        body = buf[start:end - 2]
        if buf[end - 1] != END:
            return Scan(None, start + 1, f"frame at byte {start} does not end with 0x16 "
                                          f"(got {buf[end - 1]:#04x})")
        if checksum(body) != buf[end - 2]:
            return Scan(None, end, f"bad checksum: computed {checksum(body):#04x}, "
                                   f"frame says {buf[end - 2]:#04x}")
        try:
            address = decode_address(bytes(body[1:7]))
        except CodecError as exc:
            return Scan(None, end, str(exc))
        frame = Frame(address, body[8], unscramble(body[10:]))
        return Scan(frame, end, _junk(buf[:start]))


def _junk(dropped: bytes) -> str | None:
    rest = dropped.lstrip(b"\xfe")
    return f"{len(rest)} garbage byte(s) before the frame: {rest[:16].hex(' ')}" if rest else None


def decode_reply(frame: Frame, address: str, di: int) -> Reading | MeterError:
    """Check a reply frame against the request it answers and decode its value."""
    if frame.address != address:
        raise CodecError(f"reply from address {frame.address}, expected {address}")
    if frame.control == ERROR_REPLY:
        if len(frame.data) != 1:
            raise CodecError(f"error reply with {len(frame.data)} data bytes (expected 1)")
        return MeterError(frame.address, frame.data[0])
    if frame.control not in (REPLY, REPLY_MORE):
        raise CodecError(f"unexpected control code {frame.control:#04x} (expected 0x91 or 0xD1)")
    if len(frame.data) < 4 or int.from_bytes(frame.data[:4], "little") != di:
        got = frame.data[:4][::-1].hex(" ") if len(frame.data) >= 4 else frame.data.hex(" ")
        raise CodecError(f"reply is for data id {got}, expected {di_bytes(di)[::-1].hex(' ')}")
    spec = DATA_IDS.get(di)
    if spec is None:
        raise CodecError(f"unknown data id {di:08X}")
    return Reading(frame.address, di, decode_bcd(frame.data[4:], spec))


def decode_request(frame: Frame) -> int:
    """The data id of a read request (the meter's side)."""
    if frame.control != READ or len(frame.data) != 4:
        raise CodecError(f"not a read request: control {frame.control:#04x}, {len(frame.data)} data bytes")
    return int.from_bytes(frame.data, "little")
