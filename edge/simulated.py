"""The built-in simulators, plugged in by the wiring layer as resources.

gpiozero hands a device its pin factory; in the same way the agent (and the
tests, and the benchmarks) hand the meter drivers a port opener for ``sim:``
ports and a pulse generator for a water meter's ``simulate:``. The drivers
never import ``simulators``: only this module does, so a ``sim:`` port keeps
working and the production code path (pyserial on a pty, a gpiozero pin) is the
one exercised.
"""

from __future__ import annotations

from typing import Any

from drivers.base import Resources, SimulatedPort


class SimPorts:
    """Opens ``sim:dlt645?...`` / ``sim:modbus?...`` ports (docs/meters.md) on pseudo-terminals."""

    def check(self, port: str) -> None:
        from simulators.meters.sim_port import parse

        parse(port)

    def open(self, port: str, baudrate: int, bits_per_char: float) -> SimulatedPort:
        from simulators.meters.sim_port import start_sim  # only configs that ask for a simulator

        return start_sim(port, baudrate, bits_per_char)


def pulse_generator(pin: Any, config: dict[str, Any]) -> Any:
    from simulators.meters.pulse import generator_from_config

    return generator_from_config(pin, config)


def register(resources: Resources) -> Resources:
    """Add the built-in simulators to ``resources`` unless the caller chose its own."""
    resources.port_openers.setdefault("sim", SimPorts())
    if resources.pulse_simulator is None:
        resources.pulse_simulator = pulse_generator
    return resources


def check_port(port: Any) -> str | None:
    """What is wrong with a ``sim:`` port name, or None (a device path is checked when it opens)."""
    if not isinstance(port, str) or not port.startswith("sim:"):
        return None
    try:
        SimPorts().check(port)
    except ValueError as exc:
        return str(exc)
    return None
