"""Reference correction against a blackbody in view.

The camera's absolute error (about +/-2 degC on uncooled sensors, drifting with
its own temperature and stepping at shutter events) is far larger than the
fever margin. A blackbody at a set temperature in a fixed ROI gives
offset = set temperature - median of the ROI, smoothed by a median over the last
few frames (a step settles in a few frames, one bad frame changes nothing).
A reading is degraded while the ROI is not uniform (someone in front of it) or
its recent medians disagree (the camera offset is moving); the last good offset
is then kept.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from edge.screening.config import Blackbody
from edge.screening.numeric import quantiles

WINDOW = 5
MAX_SPREAD_C = 0.6  # p90 - p10 inside the ROI; a blackbody is uniform
MAX_WANDER_C = 0.3  # range of the recent ROI medians


@dataclass(frozen=True)
class Reference:
    offset_c: float  # add to every pixel
    blackbody: bool  # False: no blackbody configured, readings rest on the camera's own calibration
    degraded: bool = False
    roi_c: float | None = None  # median of the ROI as the camera saw it
    reason: str | None = None  # why degraded: blackbody_not_uniform, blackbody_unstable, blackbody_far
    spread_c: float | None = None  # p90 - p10 of the ROI


NO_BLACKBODY = Reference(0.0, blackbody=False)


class BlackbodyReference:
    def __init__(self, blackbody: Blackbody, max_offset_c: float = 3.0) -> None:
        self.bb = blackbody
        self.max_offset_c = max_offset_c
        self._medians: deque[float] = deque(maxlen=WINDOW)
        self._offset: float | None = None

    def update(self, celsius: np.ndarray) -> Reference:
        x, y, w, h = self.bb.roi
        roi = celsius[y:y + h, x:x + w]
        if roi.size == 0:
            return Reference(0.0, blackbody=True, degraded=True, reason="blackbody_roi_outside")
        lo, med, hi = quantiles(roi, (0.1, 0.5, 0.9))
        spread = float(hi - lo)
        if spread > MAX_SPREAD_C:  # occluded or not there: keep the last good offset
            return Reference(self._offset or 0.0, blackbody=True, degraded=True, roi_c=float(med),
                             reason="blackbody_not_uniform", spread_c=spread)
        if abs(self.bb.temp_c - med) > self.max_offset_c:  # uniform, but not the blackbody (or it is off)
            return Reference(self._offset or 0.0, blackbody=True, degraded=True, roi_c=float(med),
                             reason="blackbody_far", spread_c=spread)
        self._medians.append(float(med))
        smoothed = float(np.median(self._medians))
        self._offset = self.bb.temp_c - smoothed
        wander = max(self._medians) - min(self._medians)
        unstable = len(self._medians) < min(3, WINDOW) or wander > MAX_WANDER_C
        return Reference(self._offset, blackbody=True, degraded=unstable, roi_c=float(med),
                         reason="blackbody_unstable" if unstable else None, spread_c=spread)
