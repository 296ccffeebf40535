"""A relay on a GPIO pin, through gpiozero's OutputDevice.

Wiring: the relay board's IN pin to a GPIO (BCM numbering), its VCC and GND
to the Pi. Most cheap boards are *active low* (the relay pulls in when the pin
is low): set ``active_high: false`` for those.

The pin factory comes from ``Resources.pin_factory`` (gpiozero's native or
lgpio factory on a Pi, ``MockFactory`` on a laptop or in tests), so the same
code runs everywhere.

    - {id: ac-301, kind: relay, driver: gpio, pin: 17, active_high: false, initial: off}
"""

from __future__ import annotations

from typing import Any

from gpiozero import OutputDevice

from drivers.base import DeviceContext, DriverSpec
from edge.config.schema import Bool, Enum, Field, Float, Int, Obj

FAILSAFE = Obj(
    {
        "offline_seconds": Field(Float(min=1), "broker unreachable this long ...", required=True),
        "state": Field(Enum(choices=("on", "off")), "... then switch to this state", required=True),
    }
)

FIELDS = {
    "pin": Field(Int(min=0, max=53), "GPIO number (BCM) wired to the relay's input", required=True),
    "active_high": Field(
        Bool(), "true if a high pin closes the relay; false for active-low boards", default=True
    ),
    "initial": Field(
        Enum(choices=("off", "on", "restore")),
        "state at start-up; `restore` takes the last state from storage",
        default="off",
    ),
    "safe_state": Field(
        Enum(choices=("off", "on", "keep")),
        "state when the agent stops; `keep` leaves the relay as it is. After the process exits, the "
        "board's own pull resistor decides (README, relays)",
        default="off",
    ),
    "failsafe": Field(FAILSAFE, "optional: switch to a set state when the broker is gone too long"),
    "max_pulse_seconds": Field(Float(min=0.1, max=86400), "longest `pulse` command accepted", default=3600.0),
}


class GpioRelay:
    kind = "relay"

    def __init__(self, config: dict[str, Any], context: DeviceContext) -> None:
        self.id: str = config["id"]
        self.config = config
        self._pin = config["pin"]
        self._active_high = config["active_high"]
        self._factory = context.resources.pin_factory
        self._context = context
        self._out: OutputDevice | None = None

    def initial_on(self) -> bool:
        initial = self.config["initial"]
        if initial == "restore":
            saved = self._context.load("state") or {}
            return bool(saved.get("on", False))
        return initial == "on"

    def start(self) -> None:
        # initial_value is applied before the pin becomes an output: no glitch at boot.
        self._out = OutputDevice(
            self._pin,
            active_high=self._active_high,
            initial_value=self.initial_on(),
            pin_factory=self._factory,
        )

    def set_on(self, on: bool) -> None:
        assert self._out is not None, "relay not started"
        if on:
            self._out.on()
        else:
            self._out.off()

    def is_on(self) -> bool:
        return bool(self._out is not None and self._out.value)

    def stop(self) -> None:
        if self._out is not None:
            if self.config["safe_state"] != "keep":
                self.set_on(self.config["safe_state"] == "on")
            self._out.close()
            self._out = None


SPEC = DriverSpec(
    kind="relay",
    driver="gpio",
    fields=FIELDS,
    build=GpioRelay,
    doc="relay on a GPIO pin (gpiozero OutputDevice)",
)
