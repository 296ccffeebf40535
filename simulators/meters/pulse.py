"""A pulse water meter on a gpiozero mock pin: closes the reed switch once per ``litres_per_pulse``.

The flow follows a profile in simulated time; each closure can bounce (a few
edges a fraction of a millisecond apart, on closing and on opening), because
gpiozero's mock pins do not filter bounce and real reed switches do bounce.
``emitted`` is the ground truth a test compares the driver's count with.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from simulators.meters import profiles
from simulators.meters.clock import SimClock
from simulators.meters.profiles import Profile

BOUNCE_EDGES = 4  # extra edges per closing and per opening, back to back (microseconds apart): a thread
# switch in the middle of a burst would stretch it into something a debounce rightly counts
PRESS_S = 0.012  # how long the switch stays closed
MIN_PERIOD_S = 0.04  # never faster than this (the driver's debounce must fit in between)


class PulseGenerator:
    def __init__(self, pin: Any, profile: Profile, clock: Any, litres_per_pulse: float, bounce: bool = True,
                 max_pulses: int | None = None) -> None:
        self.pin = pin  # gpiozero MockPin; driven low = switch closed (pull-up wiring)
        self.profile = profile
        self.clock = clock
        self.lpp = litres_per_pulse
        self.bounce = bounce
        self.max_pulses = max_pulses
        self.emitted = 0
        self.litres = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pulse generator", daemon=True)

    def start(self) -> PulseGenerator:
        self._thread.start()
        return self

    def pulse(self) -> None:
        """One closure of the reed switch, bounce included."""
        for _ in range(BOUNCE_EDGES if self.bounce else 0):
            self.pin.drive_low()
            self.pin.drive_high()
        self.pin.drive_low()
        time.sleep(PRESS_S)
        for _ in range(BOUNCE_EDGES if self.bounce else 0):
            self.pin.drive_high()
            self.pin.drive_low()
        self.pin.drive_high()
        self.emitted += 1

    def _run(self) -> None:
        last = self.clock.now()
        while not self._stop.is_set():
            now = self.clock.now()
            when = datetime.fromtimestamp(now, self.clock.tz)
            self.litres += self.profile(when).flow_lpm * (now - last) / 60
            last = now
            if self.litres >= self.lpp and (self.max_pulses is None or self.emitted < self.max_pulses):
                self.litres -= self.lpp
                self.pulse()
                self._stop.wait(MIN_PERIOD_S - PRESS_S)
            else:
                self._stop.wait(0.005)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)


def generator_from_config(pin: Any, cfg: dict[str, Any]) -> PulseGenerator:
    sim = cfg["simulate"]
    start = datetime.fromisoformat(sim["start"]) if sim.get("start") else None
    profile = profiles.make(sim["profile"], onset=sim.get("onset"), leak_lpm=sim["leak_lpm"],
                            burst_lpm=sim["burst_lpm"], flow_lpm=sim["flow_lpm"])
    return PulseGenerator(pin, profile, SimClock(start, sim["scale"]), cfg["litres_per_pulse"], sim["bounce"])
