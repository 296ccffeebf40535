"""Register maps: which registers hold which reading, as data.

Eastron SDM120 / SDM630 keep their measurements in *input* registers (function
04) as IEEE-754 float32, high word first (Eastron "Modbus protocol" manuals,
tables of input registers; addresses here are 0-based, the manuals' 3xxxx
numbers minus 30001). Any other meter gets a custom map in its config.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymodbus.client.mixin import ModbusClientMixin

DATATYPE = ModbusClientMixin.DATATYPE
TYPES = {"float32": DATATYPE.FLOAT32, "int16": DATATYPE.INT16, "uint16": DATATYPE.UINT16,
         "int32": DATATYPE.INT32, "uint32": DATATYPE.UINT32}


@dataclass(frozen=True)
class Register:
    name: str  # our telemetry name
    address: int  # 0-based register address
    type: str = "float32"
    scale: float = 1.0  # value = raw x scale
    unit: str = ""
    function: str = "input"  # input (04) or holding (03)
    word_order: str = "big"

    @property
    def count(self) -> int:
        return TYPES[self.type].value[1]


SDM120 = (
    Register("voltage_v", 0x0000, unit="V"),
    Register("current_a", 0x0006, unit="A"),
    Register("power_w", 0x000C, unit="W"),
    Register("energy_kwh", 0x0156, unit="kWh"),  # total active energy
)
SDM630 = (
    Register("voltage_v", 0x0000, unit="V"),  # phase 1 line to neutral
    Register("current_a", 0x0006, unit="A"),  # phase 1
    Register("power_w", 0x0034, unit="W"),  # total system power
    Register("energy_kwh", 0x0156, unit="kWh"),  # total active energy
)
MODELS: dict[str, tuple[Register, ...]] = {"sdm120": SDM120, "sdm630": SDM630}


def decode(reg: Register, registers: list[int]) -> float:
    """Registers as read -> the value in our units (pure)."""
    raw = ModbusClientMixin.convert_from_registers(registers, TYPES[reg.type],
                                                   word_order=reg.word_order)  # type: ignore[arg-type]
    value = float(raw) * reg.scale  # type: ignore[arg-type]
    if reg.type == "float32":
        value = float(f"{value:.7g}")  # float32 carries ~7 digits; do not publish the binary noise after them
    return value


def encode(reg: Register, value: float) -> list[int]:
    """A value in our units -> registers (the meter's side; the simulator uses it)."""
    raw = value / reg.scale
    if reg.type != "float32":
        raw = int(round(raw))
    return ModbusClientMixin.convert_to_registers(raw, TYPES[reg.type],
                                                  word_order=reg.word_order)  # type: ignore[arg-type]
