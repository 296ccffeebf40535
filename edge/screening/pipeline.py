"""One frame in, decisions out: the screening pipeline, pure and synchronous."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from edge.screening import snapshot
from edge.screening.config import CANTHUS, ScreeningConfig
from edge.screening.crowd import CalibrationDrift, CrowdReference
from edge.screening.faces import FaceFinder
from edge.screening.health import Health, HealthChange, ScreeningBlind
from edge.screening.measure import measure_canthus, measure_face_max
from edge.screening.reference import NO_BLACKBODY, BlackbodyReference, Reference
from edge.screening.tracking import Event, Fever, Observation, Recheck, TrackEnded, Tracker, Unscreened

Outcome = Event | HealthChange | ScreeningBlind | CalibrationDrift
RELATIVE = "relative"


@dataclass(frozen=True)
class FrameResult:
    reference: Reference  # says whether a blackbody backs this frame, and whether it is degraded
    observations: list[Observation]
    events: list[Outcome]


class Pipeline:
    """Feed it frames of one camera in order; it keeps the tracks between them."""

    def __init__(self, cfg: ScreeningConfig) -> None:
        self.cfg = cfg
        bb = cfg.blackbody
        self.reference = BlackbodyReference(bb, cfg.blackbody_max_offset_c) if bb else None
        self.health = Health(cfg)
        self.crowd = CrowdReference(cfg)
        self.finder: FaceFinder | None = None
        self.tracker: Tracker | None = None
        self.measure = measure_canthus if cfg.method == CANTHUS else measure_face_max
        self.frames = 0
        self.last_ts = 0.0

    def _setup(self, shape: tuple[int, int]) -> None:
        masks = list(self.cfg.masks)
        if self.cfg.blackbody is not None:  # the blackbody sits in the skin range: never a face
            x, y, w, h = self.cfg.blackbody.roi
            m = max(w, h)
            masks.append((x - m, y - m, w + 2 * m, h + 2 * m))
        widths = self.cfg.face_widths(shape[1])
        self.finder = FaceFinder(shape, self.cfg.skin_min_c, self.cfg.skin_max_c, widths, masks)
        self.tracker = Tracker(self.cfg, self.cfg.measure_width(shape[1]))
        if self.cfg.threshold_mode == RELATIVE:
            self.tracker.threshold_c = self.crowd.threshold() or float("inf")  # no alarms before the crowd

    def process(self, celsius: np.ndarray, ts: float) -> FrameResult:
        if celsius.ndim != 2:
            raise ValueError(f"expected a 2-D frame, got shape {celsius.shape}")
        if self.finder is None or self.finder.labels.shape != celsius.shape:
            self._setup(celsius.shape)
        assert self.finder is not None and self.tracker is not None
        raw = frame = np.asarray(celsius, dtype=np.float32)
        if not np.isfinite(frame.sum()):  # NaN / inf (a broken pixel or decoder): cold, never skin
            frame = np.where(np.isfinite(frame), frame, np.float32(self.cfg.skin_min_c - 10.0))
        ref = self.reference.update(frame) if self.reference else NO_BLACKBODY
        if ref.offset_c:
            frame = frame + np.float32(ref.offset_c)
        blobs = self.finder.find(frame)
        measurements = [self.measure(frame, self.finder.labels, self.finder.stats, b) for b in blobs]
        tracked, observations = self.tracker.update(ts, blobs, measurements, ref, frame)
        events: list[Outcome] = [*tracked, *self._crowd(tracked)]
        relative = self.cfg.threshold_mode == RELATIVE
        filling = ("crowd_reference_filling",) if relative and not self.crowd.full else ()
        events += self.health.update(ts, raw, ref, frame, len(blobs), filling)
        if any(isinstance(e, Fever | Recheck | Unscreened) for e in events):
            events = _with_snapshots(events)
        self.frames += 1
        self.last_ts = ts
        return FrameResult(ref, observations, events)

    def flush(self) -> list[Outcome]:
        """End all tracks (end of a recording, camera stopped)."""
        if not self.tracker:
            return []
        tracked = self.tracker.flush(self.last_ts)
        return _with_snapshots([*tracked, *self._crowd(tracked)])

    def _crowd(self, events: list[Event]) -> list[CalibrationDrift]:
        """Healthy people's final estimates feed the crowd reference (relative mode: everyone screened while
        it fills, as there is no threshold yet)."""
        assert self.tracker is not None
        out = []
        for e in events:
            if isinstance(e, TrackEnded) and e.screened and not e.alerted and e.temp_c is not None \
                    and e.temp_c < self.tracker.threshold_c:
                drift = self.crowd.add(e.temp_c, e.ts)
                if drift is not None:
                    out.append(drift)
                if self.cfg.threshold_mode == RELATIVE:
                    self.tracker.threshold_c = self.crowd.threshold() or float("inf")
        return out


def _with_snapshots(events: list[Outcome]) -> list[Outcome]:
    """Encode each alert's (fever, recheck, unscreened) crop as a false-colour PNG, and drop the crop."""
    return [dataclasses.replace(e, crop=None, snapshot_png=snapshot.false_colour_png(e.crop))
            if isinstance(e, Fever | Recheck | Unscreened) and e.crop is not None else e for e in events]
