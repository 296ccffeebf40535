"""A DL/T 645-2007 electricity meter on an RS-485 bus (pyserial), polled by the bus's thread.

Wiring: the meter's RS-485 A/B terminals to a USB-RS485 adapter (A to A, B to
B; several meters daisy-chained on one pair). Default line settings are the
standard's: 2400 baud, 8 data bits, even parity, 1 stop bit. The address is
printed on the meter's name plate (12 digits); ``999999999999`` is not
accepted (broadcast: every meter would answer).

    - {id: meter-a, kind: electricity_meter, driver: dlt645, port: /dev/ttyUSB0,
       address: "000000000161", poll_seconds: 30}
"""

from __future__ import annotations

from typing import Any

from drivers.base import DriverSpec
from drivers.dlt645 import codec
from drivers.metering import MeterFailure, PolledMeter, at, serial_fields
from drivers.serial_bus import SerialBus
from edge.config.schema import Field, Str

# What one poll reads, in order; the first answers "is the meter there at all?".
POLL = (0x00010000, 0x00000000, 0x02010100, 0x02020100, 0x02030000)

FIELDS = {
    **serial_fields(2400, "E"),
    "address": Field(Str(pattern=r"\d{12}", hint="expected 12 digits, as on the name plate"),
                     "meter address (12 digits, most significant first as printed)", required=True),
}


def _check(entry: dict, path: str, errors: list[str]) -> None:
    if entry["address"] == codec.BROADCAST:
        errors.append(f"{at(path, 'address')}: 999999999999 is the broadcast address; use the meter's own")


Problems = list[tuple[str, str]]


def find_reply(buf: bytes, address: str, di: int | None = None) -> tuple[codec.Frame | None, Problems]:
    """The first frame from ``address`` (answering ``di``) in ``buf``, and what was wrong before it.

    Problems are [(failure kind, text)]. A normal reply for another data id is a
    late answer to an earlier question: skipped, so the right one can still come.
    """
    problems: list[tuple[str, str]] = []
    while buf:
        scan = codec.scan(buf)
        if scan.problem:
            kind = "checksum" if "checksum" in scan.problem else "garbage"
            problems.append((kind, scan.problem))
        if scan.frame is not None:
            stale = (di is not None and scan.frame.control in (codec.REPLY, codec.REPLY_MORE)
                     and scan.frame.data[:4] != codec.di_bytes(di))
            if scan.frame.address == address and not stale:
                return scan.frame, problems
            if stale and scan.frame.address == address:
                problems.append(("bad_value", f"late reply for data id {scan.frame.data[:4][::-1].hex(' ')}"))
            else:
                problems.append(("wrong_address",
                                 f"reply from address {scan.frame.address}, expected {address}"))
        if scan.consumed == 0:
            break
        buf = buf[scan.consumed:]
    if buf.lstrip(b"\xfe"):
        problems.append(("truncated", f"incomplete frame: {buf[:24].hex(' ')}"))
    return None, problems


class Dlt645Meter(PolledMeter):
    kind = "electricity_meter"

    def __init__(self, config: dict[str, Any], context: Any) -> None:
        super().__init__(config, context)
        self.address: str = config["address"]

    def _done(self, buf: bytes, di: int) -> bool:
        frame, problems = find_reply(buf, self.address, di)
        # Stop at our frame, or at a complete frame that is broken (waiting longer will not mend it).
        return frame is not None or any(k == "checksum" for k, _ in problems)

    def read_di(self, bus: SerialBus, di: int) -> float | None:
        """One transaction; None when the meter says it has no such data (error reply)."""
        reply = bus.transact(codec.encode_read(self.address, di), lambda b: self._done(b, di),
                             self.cfg["timeout_seconds"])
        if not reply:
            raise MeterFailure("timeout", f"no answer from {self.address} in "
                                          f"{self.cfg['timeout_seconds']:g} s")
        frame, problems = find_reply(reply, self.address, di)
        if frame is None:
            kind, text = problems[-1] if problems else ("garbage", reply[:24].hex(" "))
            raise MeterFailure(kind, f"{self.address} DI {di:08X}: {text}")
        try:
            result = codec.decode_reply(frame, self.address, di)
        except codec.CodecError as exc:
            raise MeterFailure("bad_value", f"{self.address} DI {di:08X}: {exc}") from None
        if isinstance(result, codec.MeterError):
            raise MeterFailure("error_reply", f"{self.address} DI {di:08X}: meter says "
                                              f"{', '.join(result.reasons)} (error word {result.code:#04x})")
        return result.value

    def read(self, bus: SerialBus) -> dict[str, float]:
        values: dict[str, float] = {}
        for i, di in enumerate(POLL):
            try:
                value = self.transaction(lambda di=di: self.read_di(bus, di))
            except MeterFailure as exc:
                if i == 0 and exc.kind in ("timeout", "truncated", "garbage", "checksum", "wrong_address"):
                    raise  # no sane answer to the first question: do not spend the bus on the rest
                if exc.kind == "timeout":
                    break  # the meter went quiet mid-poll: keep what was read, free the bus
                continue
            name = codec.DATA_IDS[di].name
            if name == "power_kw":
                values["power_w"] = round(value * 1000, 1)
            else:
                values[name] = value
        if not values:
            raise MeterFailure("error_reply", f"{self.address}: no value could be read")
        return values


SPEC = DriverSpec(kind="electricity_meter", driver="dlt645", fields=FIELDS, build=Dlt645Meter, check=_check,
                  doc="DL/T 645-2007 electricity meter on RS-485 (pyserial)")
