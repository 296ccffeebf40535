"""A simulated meter's registers, integrated along a consumption profile, and the faults it can show."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

from simulators.meters.profiles import Profile

FAULTS = ("silent", "slow", "corrupt", "bad_checksum", "truncate", "wrong_address", "error", "garbage")
STEP_S = 60.0  # integrate in steps of at most one simulated minute, so a profile's edges are followed
MAX_STEPS = 100_000


@dataclass
class SimMeter:
    """One meter on a simulated bus. Tests change ``faults`` / ``energy_kwh`` while it runs."""

    address: str
    profile: Profile
    clock: Any  # SimClock or ManualClock
    energy_kwh: float = 0.0
    volume_m3: float = 0.0
    faults: set[str] = field(default_factory=set)
    slow_seconds: float = 2.0
    requests: int = 0
    _last: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self) -> None:
        with self._lock:
            now = self.clock.now()
            if self._last is None or now <= self._last:
                self._last = now if self._last is None else self._last
                return
            span = now - self._last
            steps = min(MAX_STEPS, max(1, math.ceil(span / STEP_S)))
            dt = span / steps
            for i in range(steps):
                load = self.profile(self._when(self._last + (i + 0.5) * dt))
                self.energy_kwh += load.power_w * dt / 3_600_000
                self.volume_m3 += load.flow_lpm * dt / 60_000
            self._last = now

    def _when(self, ts: float) -> Any:
        from datetime import datetime

        return datetime.fromtimestamp(ts, self.clock.tz) if self.clock.tz else datetime.fromtimestamp(ts)

    def readings(self) -> dict[str, float]:
        """What the meter shows now, in our telemetry names (plus kW for DL/T 645)."""
        self.update()
        load = self.profile(self._when(self.clock.now()))
        volts = 230.0 + 2.0 * math.sin(self.clock.now() / 300)
        return {"energy_kwh": self.energy_kwh, "power_w": load.power_w, "voltage_v": volts,
                "current_a": load.power_w / (volts * 0.95), "frequency_hz": 50.0,
                "volume_m3": self.volume_m3, "flow_lpm": load.flow_lpm}
