"""A Modbus RTU electricity meter (Eastron SDM120 / SDM630, or any meter with a register map in config).

Wiring as any RS-485 meter: A to A, B to B, several meters on one pair, each
with its own unit id (1-247, set on the meter's front panel). Eastron's
defaults are 2400 baud 8N1, unit 1.

    - {id: meter-b, kind: electricity_meter, driver: modbus, port: /dev/ttyUSB1, baudrate: 9600,
       parity: N, unit: 2, model: sdm120}
    - {id: meter-c, kind: electricity_meter, driver: modbus, port: /dev/ttyUSB1, unit: 3, model: custom,
       registers: [{name: energy_kwh, register: 0, type: uint32, scale: 0.01, unit: kWh, function: holding}]}

Modbus replies carry no register address, so a reply that arrives after its
timeout could pass for the answer to the next question: after a failed
transaction the bus is drained for ``timeout_seconds`` before the next one.
"""

from __future__ import annotations

from typing import Any

from drivers.base import DriverSpec
from drivers.metering import MeterFailure, PolledMeter, at, serial_fields
from drivers.modbus import registers as regs
from drivers.modbus import rtu
from drivers.serial_bus import SerialBus
from edge.config.schema import Enum, Field, Float, Int, ListOf, Obj, Str

REGISTER = Obj({
    "name": Field(Str(pattern=r"[a-z0-9_]+", hint="lower-case letters, digits and '_'"),
                  "telemetry name (energy_kwh, voltage_v, current_a, power_w, or your own)", required=True),
    "register": Field(Int(min=0, max=65535), "0-based register address", required=True),
    "type": Field(Enum(choices=tuple(regs.TYPES)), "how the registers hold the value", default="float32"),
    "scale": Field(Float(), "value = raw x scale (e.g. 0.01 for a counter in hundredths of a kWh)",
                   default=1.0),
    "unit": Field(Str(), "unit of the scaled value, for the reader (kWh, V, A, W)", default=""),
    "function": Field(Enum(choices=("input", "holding")), "input registers (04) or holding (03)",
                      default="input"),
    "word_order": Field(Enum(choices=("big", "little")), "which 16-bit word comes first", default="big"),
})

FIELDS = {
    **serial_fields(9600, "N"),
    "unit": Field(Int(min=1, max=247), "Modbus unit (device) id of the meter", required=True),
    "model": Field(Enum(choices=(*regs.MODELS, "custom")),
                   "built-in register map, or `custom` with registers", default="sdm120"),
    "registers": Field(ListOf(REGISTER, min_len=1), "the register map of a `custom` meter"),
}


def _check(entry: dict, path: str, errors: list[str]) -> None:
    if entry["model"] == "custom" and not entry["registers"]:
        errors.append(f"{at(path, 'registers')}: a custom meter needs its register map")
    if entry["model"] != "custom" and entry["registers"]:
        errors.append(f"{at(path, 'registers')}: only for model: custom "
                      f"({entry['model']} has a built-in map)")


class ModbusMeter(PolledMeter):
    kind = "electricity_meter"

    def __init__(self, config: dict[str, Any], context: Any) -> None:
        super().__init__(config, context)
        self.unit: int = config["unit"]
        if config["model"] == "custom":
            self.map = tuple(regs.Register(r["name"], r["register"], r["type"], r["scale"], r["unit"],
                                           r["function"], r["word_order"]) for r in config["registers"])
        else:
            self.map = regs.MODELS[config["model"]]

    def read_register(self, bus: SerialBus, reg: regs.Register) -> float:
        request = rtu.read_request(self.unit, reg.function, reg.address, reg.count)
        reply = bus.transact(request, lambda b: rtu.complete(b, reg.count), self.cfg["timeout_seconds"])
        where = f"unit {self.unit} register {reg.address} ({reg.name})"
        try:
            result = rtu.parse_reply(reply, self.unit, reg.function, reg.count)
        except rtu.ReplyError as exc:
            bus.drain(self.cfg["timeout_seconds"])
            detail = f"no answer in {self.cfg['timeout_seconds']:g} s" if exc.kind == "timeout" else str(exc)
            raise MeterFailure(exc.kind, f"{where}: {detail}") from None
        if isinstance(result, rtu.Exception_):
            raise MeterFailure("error_reply", f"{where}: meter says {result.text}")
        try:
            return regs.decode(reg, result)
        except Exception as exc:  # a value pymodbus cannot convert
            raise MeterFailure("bad_value", f"{where}: {exc}") from None

    def read(self, bus: SerialBus) -> dict[str, float]:
        values: dict[str, float] = {}
        for i, reg in enumerate(self.map):
            try:
                value = self.transaction(lambda reg=reg: self.read_register(bus, reg))
            except MeterFailure as exc:
                if i == 0 and exc.kind != "error_reply":
                    raise  # no sane answer to the first question: do not spend the bus on the rest
                if exc.kind == "timeout":
                    break  # the meter went quiet mid-poll: keep what was read, free the bus
                continue
            if value != value or value in (float("inf"), float("-inf")):
                self.publisher.count("bad_value", f"unit {self.unit} {reg.name}: {value}")
                continue
            values[reg.name] = value
        if not values:
            raise MeterFailure("error_reply", f"unit {self.unit}: no value could be read")
        return values


SPEC = DriverSpec(kind="electricity_meter", driver="modbus", fields=FIELDS, build=ModbusMeter, check=_check,
                  doc="Modbus RTU electricity meter (pymodbus framer): SDM120, SDM630 or a custom map")
