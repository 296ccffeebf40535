"""Can this camera screen right now? The pipeline's own health, frame by frame, with the reason.

A gate that silently stops screening is worse than none: the school believes it is covered. Reasons
(names are part of the event payloads, docs/screening.md):

- ``blackbody_not_uniform``: the ROI's p90 - p10 is above 0.6 degC (drawn across the blackbody's blurred
  edge, or someone in front of it for long); ``blackbody_far``: the ROI reads more than
  ``blackbody_max_offset_c`` from the set temperature (not on the blackbody, or the blackbody is off);
  ``blackbody_unstable``: its readings wander; ``blackbody_roi_outside``: the ROI is not in the frame;
- ``frozen``: ``frozen_frames`` identical frames in a row (a live sensor always has noise);
- ``low_fps``: frames arrive slower than ``min_fps`` (too few good frames per person);
- ``ambient_out_of_range``: the scene's median (blackbody-corrected) is outside ``ambient_range_c``;
- ``warming_up``: within ``warmup_seconds`` of the first frame;
- ``crowd_reference_filling``: ``threshold_mode: relative`` before the crowd reference has its samples.

A reason must last ``health_seconds`` (a pupil walking past the blackbody is not a fault; frozen and
warming-up count at once) before the state turns degraded; it turns ready once no reason has been seen
for ``health_seconds``. The first state is announced ``health_seconds`` after the first frame. Degraded
for ``degraded_alert_seconds`` while faces are in view: one ``ScreeningBlind`` per episode.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from edge.screening.config import ScreeningConfig
from edge.screening.reference import Reference
from edge.screening.roi import check_roi

BLACKBODY_REASONS = ("blackbody_not_uniform", "blackbody_far", "blackbody_roi_outside")
IMMEDIATE = ("frozen", "warming_up", "crowd_reference_filling")
FPS_WINDOW_S = 3.0


@dataclass(frozen=True)
class HealthChange:
    """screening_ready (ready) or screening_degraded (not ready, with its reasons)."""

    ready: bool
    reasons: tuple[str, ...]
    detail: str  # for operators (English): what is wrong and, for an ROI, a fix
    ts: float


@dataclass(frozen=True)
class ScreeningBlind:
    """Degraded for degraded_alert_seconds while people pass: nobody in view is being screened."""

    reasons: tuple[str, ...]
    detail: str
    seconds: float  # how long it has been degraded
    face_frames: int  # frames with a face in view since then
    ts: float


class Health:
    def __init__(self, cfg: ScreeningConfig) -> None:
        self.cfg = cfg
        self.start: float | None = None
        self.ready: bool | None = None  # None: not announced yet
        self.since = 0.0  # when the current state began
        self.first_seen: dict[str, float] = {}  # reason -> start of its current run
        self.last_seen: dict[str, float] = {}
        self.detail = ""
        self._prev: np.ndarray | None = None
        self._same = 0
        self._ts: deque[float] = deque()
        self._face_frames = 0
        self._blind_sent = False

    def reasons_now(self, ts: float, raw: np.ndarray, ref: Reference, corrected: np.ndarray,
                    extra: tuple[str, ...] = ()) -> list[str]:
        cfg = self.cfg
        out = list(extra)
        if self.start is not None and ts - self.start < cfg.warmup_seconds:
            out.append("warming_up")
        self._same = self._same + 1 if self._prev is not None and np.array_equal(raw, self._prev) else 0
        self._prev = raw.copy()
        if self._same + 1 >= cfg.frozen_frames:
            out.append("frozen")
        self._ts.append(ts)
        while self._ts and ts - self._ts[0] > FPS_WINDOW_S:
            self._ts.popleft()
        span = ts - self._ts[0]
        if len(self._ts) >= 2 and span >= FPS_WINDOW_S / 2 and (len(self._ts) - 1) / span < cfg.min_fps:
            out.append("low_fps")
        elif len(self._ts) == 1 and self.start is not None and ts - self.start > FPS_WINDOW_S:
            out.append("low_fps")  # a single frame in the whole window
        if ref.degraded and ref.reason:
            out.append(ref.reason)
        ambient = float(np.median(corrected[::4, ::4]))
        lo, hi = cfg.ambient_range_c
        if not lo <= ambient <= hi:
            out.append("ambient_out_of_range")
        return out

    def update(self, ts: float, raw: np.ndarray, ref: Reference, corrected: np.ndarray, faces: int,
               extra: tuple[str, ...] = ()) -> list[HealthChange | ScreeningBlind]:
        cfg = self.cfg
        if self.start is None:
            self.start = ts
        now = self.reasons_now(ts, raw, ref, corrected, extra)
        for r in now:
            self.first_seen.setdefault(r, ts)
            self.last_seen[r] = ts
        for r in [r for r in self.first_seen if r not in now]:
            del self.first_seen[r]
        counted = sorted(r for r, t0 in self.first_seen.items()
                         if r in IMMEDIATE or ts - t0 >= cfg.health_seconds)
        recent = [r for r, t in self.last_seen.items() if ts - t < cfg.health_seconds]
        out: list[HealthChange | ScreeningBlind] = []
        announce = self.ready is None and ts - self.start >= cfg.health_seconds
        if counted and (self.ready or announce):
            self.ready, self.since, self._face_frames, self._blind_sent = False, ts, 0, False
            self.detail = self._describe(counted, raw, ref, corrected)
            out.append(HealthChange(False, tuple(counted), self.detail, ts))
        elif not counted and not recent and (self.ready is False or announce):
            self.ready, self.since = True, ts
            out.append(HealthChange(True, (), "", ts))
        elif self.ready is False and counted and ts - self.since > cfg.health_seconds:
            self.detail = self.detail or self._describe(counted, raw, ref, corrected)
        if self.ready is False:
            self._face_frames += faces > 0
            if not self._blind_sent and self._face_frames and ts - self.since >= cfg.degraded_alert_seconds:
                self._blind_sent = True
                out.append(ScreeningBlind(tuple(counted or recent), self.detail, round(ts - self.since, 1),
                                          self._face_frames, ts))
        return out

    def _describe(self, reasons: list[str], raw: np.ndarray, ref: Reference, corrected: np.ndarray) -> str:
        cfg = self.cfg
        parts = []
        for r in reasons:
            if r in BLACKBODY_REASONS and cfg.blackbody is not None:
                bb = cfg.blackbody
                parts.append(check_roi(raw, bb.roi, bb.temp_c, cfg.blackbody_max_offset_c)
                             or f"blackbody ROI {list(bb.roi)}: {r}")
            elif r == "blackbody_unstable":
                parts.append("the blackbody's readings wander by more than 0.3 °C")
            elif r == "frozen":
                parts.append(f"{self._same + 1} identical frames in a row: the camera has frozen")
            elif r == "low_fps":
                span = self._ts[-1] - self._ts[0] if len(self._ts) > 1 else FPS_WINDOW_S
                fps = (len(self._ts) - 1) / span if span else 0.0
                parts.append(f"{fps:.1f} frames/s, below min_fps {cfg.min_fps:g}")
            elif r == "ambient_out_of_range":
                med = float(np.median(corrected[::4, ::4]))
                lo, hi = cfg.ambient_range_c
                parts.append(f"scene at {med:.1f} °C, outside ambient_range_c [{lo:g}, {hi:g}]")
            elif r == "warming_up":
                parts.append(f"sensor warming up (warmup_seconds {cfg.warmup_seconds:g})")
            elif r == "crowd_reference_filling":
                parts.append(f"relative threshold: waiting for {cfg.crowd_samples} healthy people")
            else:
                parts.append(r)
        return "; ".join(parts)
