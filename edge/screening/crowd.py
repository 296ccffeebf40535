"""Crowd reference: a trimmed running mean of recent healthy core estimates.

As screening thermographs do (FLIR's screening mode keeps the last 10 normal samples, drops the highest
and the lowest and alarms above their average plus an allowed deviation): healthy people's core
temperatures average ~36.8 degC, so the mean of the last ``crowd_samples`` healthy estimates says whether
the camera's calibration still holds. Outside ``crowd_band_c`` it raises ``CalibrationDrift`` once per
excursion; it never moves the threshold by itself. Only ``threshold_mode: relative`` (cameras without a
blackbody, whose absolute error is +/-2 degC) alarms above mean + ``allowed_deviation_c``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from edge.screening.config import ScreeningConfig


@dataclass(frozen=True)
class CalibrationDrift:
    mean_c: float  # trimmed mean of the last samples
    band_c: tuple[float, float]
    samples: int
    ts: float


class CrowdReference:
    def __init__(self, cfg: ScreeningConfig) -> None:
        self.cfg = cfg
        self.samples: deque[float] = deque(maxlen=cfg.crowd_samples)
        self.drifting = False

    @property
    def full(self) -> bool:
        return len(self.samples) == self.samples.maxlen

    def mean(self) -> float | None:
        """Trimmed mean (highest and lowest dropped) once the window is full, else None."""
        if not self.full:
            return None
        kept = sorted(self.samples)[1:-1] if len(self.samples) >= 3 else list(self.samples)
        return sum(kept) / len(kept)

    def add(self, core_c: float, ts: float) -> CalibrationDrift | None:
        self.samples.append(core_c)
        mean = self.mean()
        if mean is None:
            return None
        lo, hi = self.cfg.crowd_band_c
        outside = not lo <= mean <= hi
        if outside and not self.drifting:
            self.drifting = True
            return CalibrationDrift(round(mean, 2), (lo, hi), len(self.samples), ts)
        if not outside:
            self.drifting = False
        return None

    def threshold(self) -> float | None:
        """threshold_mode relative: the alarm threshold now (None while the window fills)."""
        mean = self.mean()
        return None if mean is None else mean + self.cfg.allowed_deviation_c
