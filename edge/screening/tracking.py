"""People across frames, and the decisions about them.

Association is greedy nearest-centroid (faces move a few pixels per frame at a
walking pace, and two faces are rarely closer than a face width). Per track:

- a *good* frame is a measured face (wide enough, eyes not covered) on a frame
  whose reference is not degraded; its core estimate is canthus + offset + the
  blur compensation for the face's width in pixels (config.BLUR_TABLE_C);
- after ``min_frames`` good frames the person counts as screened; the track's
  estimate is the median of its estimates: blur compensation makes them level
  with distance, and a person's error is mostly their own (skin around the
  canthus), so more frames mostly help against noise. Without compensation
  (``face_max``, or an empty blur table) faces blur with distance, readings
  rise as a person comes closer, and the estimate is the second highest (it
  ignores one outlier);
- a reading at or above the threshold makes the track a suspect; the next
  ``confirm_frames`` good frames must re-measure at or above threshold -
  hysteresis (median), else the suspicion clears (with the readings that
  raised it); a confirmed suspect alerts once it is screened and its estimate
  is at or above threshold + ``alert_margin_c``; a suspect that leaves the
  view (faces are best resolved just before they pass the camera) with at
  least one such re-measurement is decided on what was re-measured;
- an alert is given once per track; nothing clears that;
- a track lost for a moment and found again near its last place (similar face
  width) is the same track; a new track appearing next to a track that has
  alerted, within ``merge_seconds``, is that same person (it does not alert
  again) unless it is the next pupil in the lane: a face behind, i.e. clearly
  narrower (<= ``BEHIND_WIDTH`` of it) and wholly above the alerted face's last
  box; or, once screened, it reads more than ``ALIAS_DIFF_C`` away from the
  alerted estimate (the same face re-acquired reads the same within ~0.2).
  Likewise a track never continues on a face narrower and above its centre
  (the face behind, as the tracked one leaves the view);
- queue hand-overs (issue #12): a face that is evidently someone else never continues a track: one
  narrower than ``SHRINK`` of the track's recent width (faces only grow as they approach: the pupil
  behind, appearing as the front one leaves), or, once measured, reading more than ``JUMP_C`` from the
  track's median or with a skin level more than ``SKIN_JUMP_C`` from the track's (a runner taking a
  walker's place); it starts a track of its own, which is never an alias nor the successor of the one it
  split from, so it is decided or reported on its own;
- a track unseen for ``merge_seconds`` ends (TrackEnded, with its final estimate);
- eyes covered (glasses) on a frame that would otherwise be good: the forehead
  is measured instead (core = forehead + ``fallback_offset_c``); once a track
  has ``min_frames`` such readings, its eyes were covered in most of its
  latest 2 x ``min_frames`` usable frames, and the second highest forehead
  estimate is at or above threshold - ``recheck_margin_c``, it raises one
  Recheck ("re-screen without glasses"), never a Fever. A new track next to a
  rechecked one within ``merge_seconds`` does not recheck again (it can still
  alert a fever if its canthus is seen).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from edge.screening import snapshot
from edge.screening.config import ScreeningConfig
from edge.screening.faces import Blob
from edge.screening.measure import Measurement, blur_compensation
from edge.screening.reference import Reference


@dataclass(frozen=True)
class Screened:
    track: int
    temp_c: float
    frames: int
    blackbody: bool
    ts: float


@dataclass(frozen=True)
class Fever:
    track: int
    temp_c: float
    threshold_c: float
    frames: int
    blackbody: bool
    uncertainty_c: float
    ts: float
    first_seen_ts: float
    crop: np.ndarray | None = field(default=None, repr=False)  # degC around the face, for the snapshot
    snapshot_png: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Recheck:
    """Eyes covered and the forehead reads near or above the threshold: re-screen without glasses; or
    (reason ``too_fast_hot``) a runner gone before a decision whose few clean canthus readings reached the
    threshold: stop the pupil for a handheld check."""

    track: int
    temp_c: float  # core estimate from the forehead
    threshold_c: float
    frames: int  # forehead readings behind it
    blackbody: bool
    uncertainty_c: float
    ts: float
    first_seen_ts: float
    crop: np.ndarray | None = field(default=None, repr=False)
    snapshot_png: bytes | None = field(default=None, repr=False)
    reason: str = "eyes_covered"  # or too_fast_hot (temp_c: the highest canthus reading)


@dataclass(frozen=True)
class TrackEnded:
    track: int
    temp_c: float | None  # None: never measured well enough
    frames: int  # good frames
    seen: int  # frames in which the face was found
    screened: bool
    alerted: bool
    covered: bool  # eyes covered (glasses) in most frames
    blackbody: bool
    first_seen_ts: float
    ts: float
    rechecked: bool = False
    fallback_c: float | None = None  # core estimate from the forehead (eyes covered), None: none made


@dataclass(frozen=True)
class Unscreened:
    """A face that left without any decision: the duty teacher calls the pupil back for a handheld check.

    reason: ``too_fast`` (fewer than min_frames frames wide enough to measure), ``too_small`` (never wide
    enough), ``eyes_covered`` (glasses, and too few forehead readings to decide a recheck),
    ``too_few_good_frames`` (wide enough, but too few clean measurements) or ``screening_degraded``
    (its frames came while the reference was unusable)."""

    track: int
    reason: str
    frames: int  # good frames (clean canthus measurements)
    seen: int
    width_px: int  # the widest the face was seen
    first_seen_ts: float
    ts: float
    crop: np.ndarray | None = field(default=None, repr=False)
    snapshot_png: bytes | None = field(default=None, repr=False)


Event = Screened | Fever | Recheck | TrackEnded | Unscreened

REVIVE_S = 0.5  # a track lost this long beyond lost_seconds is never picked up again
BEHIND_WIDTH = 0.8  # a face at most this wide (of a track's) and above it is the next pupil, behind
ALIAS_DIFF_C = 0.4  # a presumed alias reading this far from the alerted estimate is someone else
JUMP_C = 0.6  # a clean reading this far from a track's median is another face (same face: within ~0.3)
SKIN_JUMP_C = 0.4  # a measurable face whose skin level is this far from the track's is another face
SHRINK = 0.8  # a face found narrower than this (of its recent width) is someone else: faces only grow


@dataclass(frozen=True)
class Observation:
    """One face on one frame, as the tracker saw it (the benchmark matches these to ground truth)."""

    track: int
    blob: Blob
    core_c: float | None
    good: bool


@dataclass
class Track:
    id: int
    cx: float
    cy: float
    w: int
    bbox: tuple[int, int, int, int]
    first_ts: float
    last_ts: float
    seen: int = 0
    covered: int = 0
    readings: list[float] = field(default_factory=list)
    confirm: list[float] = field(default_factory=list)
    fallback: list[float] = field(default_factory=list)  # core from the forehead, eyes covered
    recent_covered: list[bool] = field(default_factory=list)  # per usable frame, latest last
    rechecked: bool = False
    screened: bool = False
    suspect: bool = False
    alerted: bool = False
    alias: bool = False  # the same person as an alerted track
    alias_of_c: float | None = None  # that track's estimate when this one appeared
    recheck_alias: bool = False  # the same person as a rechecked track
    blackbody: bool = False
    crop: np.ndarray | None = None

    level: bool = True  # readings are blur-compensated (level with distance): estimate = their median
    first_at: tuple[float, float, int] = (0.0, 0.0, 0)  # cx, cy, width when first seen
    max_w: int = 0
    wide: int = 0  # frames at least measure_width wide
    degraded: int = 0  # of those, on a degraded reference
    best_crop: np.ndarray | None = None  # the widest view, for an Unscreened snapshot
    widths: list[int] = field(default_factory=list)  # the latest few face widths, latest last
    skins: list[float] = field(default_factory=list)  # skin levels (Blob.skin_c) of the latest wide frames
    split_from: int | None = None  # the track whose face this one's replaced (someone else, never an alias)

    def observe(self, ts: float, blob: Blob, wide: bool, degraded: bool) -> None:
        """Where the face is now, and what the hand-over tests compare the next face with."""
        self.cx, self.cy, self.w, self.last_ts = blob.cx, blob.cy, blob.w, ts
        self.bbox = (blob.x, blob.y, blob.w, blob.h)
        self.max_w = max(self.max_w, blob.w)
        self.widths = [*self.widths[-2:], blob.w]
        self.seen += 1
        if wide:
            self.wide += 1
            self.degraded += degraded
            self.skins = [*self.skins[-3:], blob.skin_c]

    def recent_width(self) -> float:
        """The face's width of late, robust to one frame of a blob merged with a head behind."""
        return float(np.median(self.widths[-3:])) if self.widths else float(self.w)

    def decided(self, min_frames: int) -> bool:
        """Screened, alerted or rechecked, or its forehead said it needs no recheck (eyes covered)."""
        return self.screened or self.alerted or self.rechecked or len(self.fallback) >= min_frames

    def estimate(self) -> float | None:
        if not self.readings:
            return None
        return float(np.median(self.readings)) if self.level else _second_highest(self.readings)

    def fallback_estimate(self) -> float | None:
        return _second_highest(self.fallback)


def _second_highest(values: list[float]) -> float | None:
    return sorted(values)[-2:][0] if values else None


class Tracker:
    def __init__(self, cfg: ScreeningConfig, measure_width: int) -> None:
        self.cfg = cfg
        self.measure_width = measure_width
        self.blur_table = cfg.blur_table()
        self.threshold_c = cfg.threshold_c  # the pipeline moves it in threshold_mode: relative
        self.active: dict[int, Track] = {}
        self.lost: dict[int, Track] = {}
        self.ended: list[Track] = []  # recently ended, for the successor test of unscreened tracks
        self._ids = itertools.count(1)

    # noqa reason: the per-frame tracking step, tuned on seeds; split it only with the benchmark at hand
    def update(self, ts: float, blobs: list[Blob], measurements: list[Measurement], ref: Reference,  # noqa: C901
               frame: np.ndarray | None = None) -> tuple[list[Event], list[Observation]]:
        events: list[Event] = []
        observations: list[Observation] = []
        for tid in [t for t, tr in self.active.items() if ts - tr.last_ts > self.cfg.lost_seconds]:
            self.lost[tid] = track = self.active.pop(tid)
            events.extend(self._last_chance(track, ts))
        for tid in [t for t, tr in self.lost.items() if ts - tr.last_ts > self.cfg.merge_seconds]:
            events.extend(self._gone(self.lost.pop(tid), ts))  # gone for good: not revived below
        pairs = self._associate(blobs)
        for blob, meas in zip(blobs, measurements, strict=True):
            core = None
            if meas.canthus_c is not None:
                core = meas.canthus_c + self.cfg.canthus_offset_c + blur_compensation(self.blur_table, blob.w)
            usable = not ref.degraded and blob.w >= self.measure_width
            good = core is not None and usable
            track = self._track_for(ts, blob, pairs.get(blob.label), core if good else None)
            widest = blob.w > track.max_w
            track.observe(ts, blob, blob.w >= self.measure_width, ref.degraded)
            if widest and frame is not None and self.cfg.snapshot and self.cfg.unscreened:
                track.best_crop = snapshot.crop(frame, track.bbox).copy()
            track.covered += meas.covered
            if usable and (good or meas.covered):
                track.recent_covered = [*track.recent_covered[-2 * self.cfg.min_frames + 1:], meas.covered]
            observations.append(Observation(track.id, blob, core, good))
            if good:
                assert core is not None
                track.blackbody = ref.blackbody
                events.extend(self._decide(track, core, ts))
                if track.suspect and frame is not None and self.cfg.snapshot:
                    track.crop = snapshot.crop(frame, track.bbox).copy()
            elif usable and meas.forehead_c is not None and self.cfg.fallback:
                track.blackbody = ref.blackbody
                if frame is not None and self.cfg.snapshot and not track.rechecked:
                    track.crop = snapshot.crop(frame, track.bbox).copy()
                events.extend(self._decide_fallback(track, meas.forehead_c + self.cfg.fallback_offset_c, ts))
        return events, observations

    def _track_for(self, ts: float, blob: Blob, paired: Track | None, core: float | None) -> Track:
        """The blob's track: the one association paired it with, unless its clean reading (core) says that
        someone else took that face's place; else a new one (or one lost a moment ago)."""
        if paired is None:
            return self._new_track(ts, blob)
        if self._jumped(paired, core) or self._other_skin(paired, blob):
            return self._new_track(ts, blob, split_from=paired)
        return paired

    def _other_skin(self, track: Track, blob: Blob) -> bool:
        """A face's skin level (the blob's median: forehead, cheeks, neck) is its own, and differs between
        people by up to a degree; the same face re-measured agrees within ~0.15 degC (99th percentile on the
        tuning seeds; blur lowers it on small faces, so only faces wide enough to measure count)."""
        if blob.w < self.measure_width or len(track.skins) < 2:
            return False
        return abs(blob.skin_c - float(np.median(track.skins))) > SKIN_JUMP_C

    def _jumped(self, track: Track, core: float | None) -> bool:
        """A clean reading far from the track's level readings is another face: the same face re-measured
        agrees within ~0.3 degC once blur-compensated (99th percentile on the tuning seeds)."""
        if core is None or not track.level or len(track.readings) < self.cfg.min_frames:
            return False
        return abs(core - float(np.median(track.readings))) > JUMP_C

    def flush(self, ts: float) -> list[Event]:
        """End every track (the stream is over)."""
        events: list[Event] = []
        for t in self.active.values():
            events.extend(self._last_chance(t, ts))
        tracks = list(self.active.values()) + list(self.lost.values())
        self.active.clear()
        self.lost.clear()
        for t in tracks:
            events.extend(self._gone(t, ts, tracks))
        return events

    # -- decisions --------------------------------------------------------------------
    def _decide(self, track: Track, core: float, ts: float) -> list[Event]:
        cfg = self.cfg
        out: list[Event] = []
        track.readings.append(core)
        est = track.estimate()
        assert est is not None
        if track.alias and track.alias_of_c is not None and len(track.readings) >= cfg.min_frames \
                and abs(est - track.alias_of_c) > ALIAS_DIFF_C:
            track.alias = track.alerted = track.screened = False  # reads unlike them: someone else
        if not track.screened and len(track.readings) >= cfg.min_frames:
            track.screened = True
            if not track.alias:
                out.append(Screened(track.id, round(est, 2), len(track.readings), track.blackbody, ts))
        if track.alerted:
            return out
        if not track.suspect:
            if core >= self.threshold_c:
                track.suspect, track.confirm = True, []
            return out
        track.confirm.append(core)
        if len(track.confirm) < cfg.confirm_frames:
            return out
        if not self._confirmed(track):  # re-measured clearly below: the suspicion clears, and its readings
            track.suspect, track.confirm = False, []
            track.readings = [r for r in track.readings if r < self.threshold_c] or track.readings[-1:]
        elif self._ready(track):
            out.append(self._alert(track, ts))
        return out

    def _decide_fallback(self, track: Track, core: float, ts: float) -> list[Event]:
        """Eyes covered: the forehead can only ask for a re-screen, once, when it reads near the threshold."""
        cfg = self.cfg
        track.fallback.append(core)
        if track.rechecked or track.alerted or len(track.fallback) < cfg.min_frames:
            return []
        # the latest frames (the nearest, best resolved) decide whether the eyes are covered: on small faces
        # blur fills the lenses' cold holes, so a glasses-wearer may first show a few (low) canthus readings;
        # a bare face covered now and then (a hand, a head behind) is not sent back
        if 2 * sum(track.recent_covered) <= len(track.recent_covered):
            return []
        est = track.fallback_estimate()
        assert est is not None
        if est < self.threshold_c - cfg.recheck_margin_c:
            return []
        track.rechecked = True
        return [Recheck(track.id, round(est, 2), self.threshold_c, len(track.fallback), track.blackbody,
                        cfg.fallback_uncertainty_c, ts, track.first_ts, track.crop)]

    def _confirmed(self, track: Track) -> bool:
        confirmed = sorted(track.confirm)[len(track.confirm) // 2]
        return confirmed >= self.threshold_c - self.cfg.hysteresis_c

    def _ready(self, track: Track) -> bool:
        est = track.estimate()
        return track.screened and est is not None and est >= self.threshold_c + self.cfg.alert_margin_c

    def _alert(self, track: Track, ts: float) -> Fever:
        track.alerted = True
        est = track.estimate()
        assert est is not None
        return Fever(track.id, round(est, 2), self.threshold_c, len(track.readings), track.blackbody,
                     self.cfg.uncertainty, ts, track.first_ts, track.crop)

    def _last_chance(self, track: Track, ts: float) -> list[Event]:
        """A suspect leaving the view with at least one re-measurement: decide on what there is."""
        pending = track.suspect and not track.alerted and track.confirm
        if pending and self._confirmed(track) and self._ready(track):
            return [self._alert(track, ts)]
        return []

    def _gone(self, t: Track, ts: float, others: list[Track] | None = None) -> list[Event]:
        """A track's end, and an Unscreened report when the face left without a decision."""
        out: list[Event] = []
        if self.cfg.unscreened and self._unseen(t, others) and (hot := self._hot_runner(t, ts)):
            out.append(hot)
        elif self.cfg.unscreened and self._unseen(t, others):
            out.append(Unscreened(t.id, self._why(t), len(t.readings), t.seen, t.max_w, t.first_ts, ts,
                                  t.best_crop))
        self.ended = [o for o in self.ended if ts - o.last_ts <= 2 * self.cfg.merge_seconds] + [t]
        out.append(self._ended(t, ts))
        return out

    def _hot_runner(self, t: Track, ts: float) -> Recheck | None:
        """A runner (too few wide frames to decide) still a suspect: a clean reading reached the threshold and
        nothing re-measured it below. A single reading errs by up to ~0.3 degC (the 99th percentile of a face
        re-measured), so it cannot prove a fever, but it is the reading that starts a fever check on a walker:
        the duty teacher stops the pupil for a handheld check rather than only calling them back."""
        if not t.suspect or not t.readings or self._why(t) != "too_fast":
            return None
        t.rechecked = True
        return Recheck(t.id, round(max(t.readings), 2), self.threshold_c, len(t.readings), t.blackbody,
                       self.cfg.uncertainty, ts, t.first_ts, t.crop if t.crop is not None else t.best_crop,
                       reason="too_fast_hot")

    def _unseen(self, t: Track, others: list[Track] | None) -> bool:
        # a face seen once is reported only if it was wide enough to measure (else it may be a stray blob)
        if t.decided(self.cfg.min_frames) or t.alias or t.recheck_alias or (t.seen < 2 and not t.wide):
            return False
        # a track that another one took over (the face lost and found as a new track, a piece split off):
        # the successor decides, or is reported itself
        # soon after and close by; not the next pupil appearing far away, small, where faces first show up
        cx, cy, w = t.cx, t.cy, t.w
        soon = t.last_ts + self.cfg.lost_seconds + REVIVE_S + 0.5
        pool = [*self.active.values(), *self.lost.values(), *self.ended, *(others or [])]
        for o in pool:
            if o is t or o.id == t.id or o.split_from == t.id or not (t.first_ts <= o.first_ts <= soon):
                continue
            ox, oy, ow = o.first_at
            if ((ox - cx) ** 2 + (oy - cy) ** 2) ** 0.5 <= 1.5 * max(w, ow) and _same_size(w, ow):
                return False
        return True

    def _why(self, t: Track) -> str:
        if t.covered * 2 > t.seen:
            return "eyes_covered"
        if t.max_w < self.measure_width:
            return "too_small"
        if t.degraded * 2 > t.wide:
            return "screening_degraded"
        if t.wide < self.cfg.min_frames:
            return "too_fast"
        return "too_few_good_frames"

    def _ended(self, t: Track, ts: float) -> TrackEnded:
        est = t.estimate() if t.screened else None
        fb = t.fallback_estimate() if len(t.fallback) >= self.cfg.min_frames else None
        return TrackEnded(t.id, None if est is None else round(est, 2), len(t.readings), t.seen,
                          t.screened and not t.alias, t.alerted and not t.alias, t.covered * 2 > t.seen,
                          t.blackbody, t.first_ts, ts, t.rechecked and not t.recheck_alias,
                          None if fb is None else round(fb, 2))

    # -- association ------------------------------------------------------------------
    def _associate(self, blobs: list[Blob]) -> dict[int, Track]:
        """label -> existing track, nearest pairs first."""
        cands = []
        for b in blobs:
            for t in self.active.values():
                d = ((b.cx - t.cx) ** 2 + (b.cy - t.cy) ** 2) ** 0.5
                if d <= 0.6 * max(t.w, b.w) + 3 and _same_size(t.w, b.w) and not _behind(b, t, t.cy) \
                        and not _shrunk(b, t):
                    cands.append((d, b.label, t.id))
        cands.sort()
        out: dict[int, Track] = {}
        used: set[int] = set()
        for _, label, tid in cands:
            if label not in out and tid not in used:
                out[label] = self.active[tid]
                used.add(tid)
        return out

    def _new_track(self, ts: float, blob: Blob, split_from: Track | None = None) -> Track:
        def near(t: Track, reach: float) -> bool:
            d = ((blob.cx - t.cx) ** 2 + (blob.cy - t.cy) ** 2) ** 0.5
            return d <= reach * max(t.w, blob.w) and _similar(t.w, blob.w)

        # the same face, lost for a moment; not the next person in the lane reaching the same spot later
        gap = self.cfg.lost_seconds + REVIVE_S
        back = [] if split_from else [t for t in self.lost.values()
                if near(t, 1.0) and ts - t.last_ts <= gap and 0.8 <= blob.w / max(t.w, 1) <= 1.4]
        if back:
            track = min(back, key=lambda t: ts - t.last_ts)
            del self.lost[track.id]
            self.active[track.id] = track
            return track
        track = Track(next(self._ids), blob.cx, blob.cy, blob.w, (blob.x, blob.y, blob.w, blob.h), ts, ts,
                      level=bool(self.blur_table), first_at=(blob.cx, blob.cy, blob.w),
                      split_from=split_from.id if split_from else None)
        others = [t for t in [*self.active.values(), *self.lost.values()] if t is not split_from]
        recent = [t for t in others
                  if t.alerted and ts - t.last_ts <= self.cfg.merge_seconds and near(t, 1.5)
                  and _same_size(t.w, blob.w) and not _behind(blob, t, t.bbox[1]) and not _shrunk(blob, t)]
        if recent:
            track.alerted = track.alias = True
            track.alias_of_c = min(recent, key=lambda t: ts - t.last_ts).estimate()
        if any(t.rechecked and ts - t.last_ts <= self.cfg.merge_seconds and near(t, 1.5)
               and _same_size(t.w, blob.w) and not _shrunk(blob, t) for t in others):
            track.rechecked = track.recheck_alias = True
        self.active[track.id] = track
        return track


def _behind(blob: Blob, t: Track, above: float) -> bool:
    """Is the blob the next pupil in the lane, behind the person of track t? Further away, their face is
    narrower and higher in the image (centre above ``above``: t's centre on the next frame; the top of its
    last box for a new track next to an alerted one, which may come seconds later). The same face a moment
    later (a face only grows as it comes closer) or re-acquired keeps its width, and a piece of it split
    off (a hand, a head behind coming apart) is seldom above it."""
    return blob.w <= BEHIND_WIDTH * t.w and blob.cy < above


def _shrunk(blob: Blob, t: Track) -> bool:
    """Is the blob narrower than t's face has been of late? A face walking towards the camera only grows, so
    that is another face: in a queue, the pupil close behind, hidden by the one in front until that one
    leaves the view where they both walk. (A blob merged with a head behind for a frame shrinks back to
    the face's own width: the median of the latest widths ignores that frame.)"""
    return len(t.widths) >= 3 and blob.w < SHRINK * t.recent_width()


def _similar(a: int, b: int) -> bool:
    return 0.5 <= a / max(b, 1) <= 2.0


def _same_size(before: int, now: int) -> bool:
    """Could this blob be that face a moment later? A face only grows as it comes closer; a blob shrinks to
    ~0.7 of itself when a head behind it comes apart from it. The next person in the lane walks at least a
    metre behind: where the last one passed (~1.1 m), their face is at most half as wide, and a new track."""
    return 0.6 <= now / max(before, 1) <= 1.7
