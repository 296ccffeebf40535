"""A pulse-output water meter (reed switch, so many litres per pulse) on a GPIO input, via gpiozero.

Wiring: the reed switch between a GPIO and GND; the Pi's internal pull-up
holds the line high, each pulse pulls it low (``pull_up: true``, the
default). Long cables pick up noise: keep ``debounce_ms`` above the switch's
bounce (a few ms) and below half the shortest pulse period at the meter's
largest flow.

    - {id: water-main, kind: water_meter, driver: pulse, pin: 5, litres_per_pulse: 10,
       initial_m3: 1234.5, leak: {burst_lpm: 200}}

The pulse count is stored with the agent (``context.save``) at every report
and at stop, so the volume survives restarts (a crash loses at most the
pulses of one ``poll_seconds``). ``simulate:`` runs a pulse generator on the
same (mock) pin, for demos without hardware: the one the wiring layer put in
``Resources.pulse_simulator`` (this driver never imports the simulators). Leak
alerts (``leak:``) are attached by edge.processors.meters.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from gpiozero import DigitalInputDevice

from drivers.base import DeviceContext, DriverSpec
from drivers.metering import MeterPublisher
from drivers.pulse.debounce import Debouncer
from edge.config.schema import Bool, Enum, Field, Float, Int, Obj, Str

SIMULATE = Obj({
    "profile": Field(Enum(choices=("school_day", "night", "weekend", "slow_leak", "burst_pipe", "constant")),
                     "consumption profile (docs/meters.md)", default="school_day"),
    "scale": Field(Float(positive=True, max=10_000), "simulated seconds per real second", default=1.0),
    "start": Field(Str(pattern=r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", hint="expected YYYY-MM-DDTHH:MM"),
                   "simulated time at start-up; default now"),
    "onset": Field(Str(pattern=r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?", hint="expected YYYY-MM-DDTHH:MM"),
                   "when the leak or burst begins; default at once"),
    "flow_lpm": Field(Float(min=0), "flow of the `constant` profile", default=10.0),
    "leak_lpm": Field(Float(min=0), "extra flow of `slow_leak`", default=2.0),
    "burst_lpm": Field(Float(min=0), "extra flow of `burst_pipe`", default=80.0),
    "bounce": Field(Bool(), "add contact bounce to every pulse", default=True),
})

FIELDS = {
    "pin": Field(Int(min=0, max=53), "GPIO number (BCM) the reed switch pulls to GND", required=True),
    "litres_per_pulse": Field(Float(positive=True), "litres per pulse (on the meter's dial: 1, 10, 100)",
                              required=True),
    "pull_up": Field(Bool(), "true when the switch pulls the line low (to GND)", default=True),
    "debounce_ms": Field(Float(min=0, max=1000), "quiet time before a closing edge counts", default=20.0),
    "poll_seconds": Field(Float(min=0.01, max=86400), "seconds between two reports", default=10.0),
    "initial_m3": Field(Float(min=0), "the meter's dial when counting started", default=0.0),
    "simulate": Field(SIMULATE, "drive the (mock) pin with a simulated meter"),
}


class PulseMeter:
    kind = "water_meter"

    def __init__(self, config: dict[str, Any], context: DeviceContext) -> None:
        self.id: str = config["id"]
        self.cfg = config
        self.ctx = context
        self.publisher = MeterPublisher(config, context)
        self.debouncer = Debouncer(config["debounce_ms"] / 1000)
        self.pulses: int = int(context.load("pulses", 0) or 0)
        self._lock = threading.Lock()
        self._input: DigitalInputDevice | None = None
        self._factory: Any = None
        self._t0: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.generator: Any = None

    # -- pin edges (gpiozero's thread, or whoever drives a mock pin) -----------------------------------------
    def _edge(self, ticks: Any, state: Any) -> None:
        """Every edge with the pin's own timestamp (the kernel's, on a Pi), not the time a callback ran."""
        assert self._factory is not None
        t = self._factory.ticks_diff(ticks, self._t0)
        closed = not state if self.cfg["pull_up"] else bool(state)
        with self._lock:
            if self.debouncer.edge(t, closed):
                self.pulses += 1

    def volume_m3(self, pulses: int) -> float:
        return round(self.cfg["initial_m3"] + pulses * self.cfg["litres_per_pulse"] / 1000, 6)

    # -- life cycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        factory = self.ctx.resources.pin_factory
        self._input = DigitalInputDevice(self.cfg["pin"], pull_up=self.cfg["pull_up"], bounce_time=None,
                                         pin_factory=factory)
        self._factory = self._input.pin_factory
        self._t0 = self._factory.ticks()
        # The device reserves the pin and sets its pull; edges (with their ticks) come straight from the pin.
        self._input.pin.when_changed = self._edge
        if self.cfg.get("simulate"):
            self._start_generator(factory)
        self._thread = threading.Thread(target=self._run, name=f"pulse {self.id}", daemon=True)
        self._thread.start()

    def _start_generator(self, factory: Any) -> None:
        from gpiozero.pins.mock import MockFactory

        if not isinstance(factory, MockFactory):
            self.ctx.log.error("simulate: needs gpiozero's MockFactory (GPIOZERO_PIN_FACTORY=mock); "
                               "not started")
            return
        simulator = self.ctx.resources.pulse_simulator
        if simulator is None:
            self.ctx.log.error("simulate: no pulse simulator was registered with the agent's resources; "
                               "not started")
            return
        self.generator = simulator(factory.pin(self.cfg["pin"]), self.cfg)
        self.generator.start()

    def _run(self) -> None:
        beats = self.ctx.resources.heartbeats
        hb = beats.register(f"pulse {self.id}", max(beats.default_limit_s, 3 * self.cfg["poll_seconds"]))
        try:
            self._loop(hb)
        finally:
            hb.close()

    def _loop(self, hb: Any) -> None:
        last_t, last_n = time.monotonic(), self.pulses
        while not self._stop.wait(self.cfg["poll_seconds"]):
            hb.beat()
            try:
                last_t, last_n = self.report(last_t, last_n)
            except Exception:  # storage trouble (disk full, locked): the pulses keep counting meanwhile
                self.ctx.log.exception("reporting failed; trying again next period")

    def report(self, last_t: float, last_n: int) -> tuple[float, int]:
        now = time.monotonic()
        with self._lock:
            n = self.pulses
        self.ctx.save("pulses", n)
        minutes = (now - last_t) / 60
        flow = (n - last_n) * self.cfg["litres_per_pulse"] / minutes if minutes > 0 else 0.0
        self.publisher.publish({"volume_m3": self.volume_m3(n), "flow_lpm": round(flow, 3)})
        return now, n

    def stop(self) -> None:
        self._stop.set()
        if self.generator is not None:
            self.generator.stop()
        if self._thread is not None:
            self._thread.join(5)
        if self._input is not None:
            self._input.close()
            self._input = None
        with self._lock:
            self.ctx.save("pulses", self.pulses)
        self.publisher.save_counter()


SPEC = DriverSpec(kind="water_meter", driver="pulse", fields=FIELDS, build=PulseMeter,
                  doc="pulse-output water meter (reed switch) on a GPIO input (gpiozero)")
