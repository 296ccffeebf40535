"""Fever screening: quality against ground truth, and per-frame cost, on simulated gate scenes.

    .venv/bin/python benchmarks/bench_screening.py            # 1,000 people at 256x192 and more
    .venv/bin/python benchmarks/bench_screening.py --people 200   # quicker
    .venv/bin/python benchmarks/bench_screening.py --derive-blur-table   # re-derive config.BLUR_TABLE_C

Runs the real pipeline (edge.screening.Pipeline) frame by frame on seeded scenes
from simulators.gate_scene, pinned to one OpenCV thread, and reports per person:
alert recall (all febrile, and those >= 0.3 degC above the threshold), precision,
false alerts per 1,000 people, duplicate alerts per febrile person, core
temperature error (bias, MAE, share within +/-0.3 degC), time from first sight
to alert; and per frame: pipeline time p50/p99 next to a bare OpenCV
threshold + connected-components pass on the same frames in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.screening import Fever, Pipeline, Recheck, ScreeningConfig, TrackEnded, Unscreened  # noqa: E402
from edge.screening.config import Blackbody  # noqa: E402
from simulators import gate_scene as gs  # noqa: E402


@dataclass
class RunResult:
    name: str
    spec: gs.SceneSpec
    frames: int
    people: list[gs.PersonLabel]
    alerts: list[tuple[Fever, int | None]]  # alert, person id
    rechecks: list[tuple[Recheck, int | None]]
    estimates: dict[int, float]  # person -> final core estimate
    fallback: dict[int, float]  # person -> forehead core estimate (eyes covered)
    screened: set[int]
    pipe_ms: np.ndarray
    bare_ms: np.ndarray
    measure_w: int
    unscreened: list[tuple[Unscreened, int | None]] = field(default_factory=list)
    decided: set[int] = field(default_factory=set)  # screened, alerted, rechecked or cleared by the forehead


def bare_pass(frame: np.ndarray, lo: float, hi: float) -> int:
    mask = cv2.inRange(frame, lo, hi)
    n, _, _, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_32S)
    return n


def frames_index(labels: list[gs.PersonLabel]) -> dict[int, list[tuple[int, float, float, float]]]:
    """frame -> (person, cx, cy, face width) of every face in full view."""
    at_frame: dict[int, list[tuple[int, float, float, float]]] = defaultdict(list)
    for lb in labels:
        for i, cx, cy, w in lb.track:
            at_frame[i].append((lb.id, cx, cy, w))
    return at_frame


def owner_of(blob, faces: list[tuple[int, float, float, float]]) -> int | None:
    """The nearest (widest) true face whose head holds the blob's centre."""
    near = [p for p in faces if ((p[1] - blob.cx) ** 2 + (p[2] - blob.cy) ** 2) ** 0.5 < 0.8 * p[3]]
    return max(near, key=lambda p: p[3])[0] if near else None


# Whose is a track's decision? "readings": the person most of its clean readings came from (a track that
# followed a far, unmeasured face and then a nearer one that took its place decided on the nearer one's
# readings: that one was screened); the person seen in most of its frames when it has no clean reading.
# "frames": the person seen in most of its frames (the accounting before issue #12's hand-over work).
ATTRIBUTION = {"mode": "readings"}


def run(name: str, spec: gs.SceneSpec, cfg: ScreeningConfig) -> RunResult:
    people = gs.plan(spec)
    labels = gs.labels_for(spec, people)
    at_frame = frames_index(labels)
    if spec.blackbody:
        cfg = replace(cfg, blackbody=Blackbody(tuple(gs.blackbody_roi(spec)), spec.blackbody_c))
    pipe = Pipeline(cfg)
    votes: dict[int, Counter] = defaultdict(Counter)
    good_votes: dict[int, Counter] = defaultdict(Counter)
    alerts: list[Fever] = []
    rechecks: list[Recheck] = []
    ended: list[TrackEnded] = []
    unscreened: list[Unscreened] = []
    pipe_ms, bare_ms = [], []
    n = 0
    for i, frame in enumerate(gs.iter_frames(spec, people)):
        t0 = time.perf_counter()
        res = pipe.process(frame, i / spec.fps)
        t1 = time.perf_counter()
        bare_pass(frame, cfg.skin_min_c, cfg.skin_max_c)
        t2 = time.perf_counter()
        pipe_ms.append((t1 - t0) * 1e3)
        bare_ms.append((t2 - t1) * 1e3)
        for ob in res.observations:
            pid = owner_of(ob.blob, at_frame.get(i, []))
            if pid is not None:
                votes[ob.track][pid] += 1
                good_votes[ob.track][pid] += ob.good
        alerts += [e for e in res.events if isinstance(e, Fever)]
        rechecks += [e for e in res.events if isinstance(e, Recheck)]
        ended += [e for e in res.events if isinstance(e, TrackEnded)]
        unscreened += [e for e in res.events if isinstance(e, Unscreened)]
        n = i + 1
    last = pipe.flush()
    ended += [e for e in last if isinstance(e, TrackEnded)]
    rechecks += [e for e in last if isinstance(e, Recheck)]
    unscreened += [e for e in last if isinstance(e, Unscreened)]
    owner = {tid: c.most_common(1)[0][0] for tid, c in votes.items()}
    if ATTRIBUTION["mode"] == "readings":
        owner |= {tid: c.most_common(1)[0][0] for tid, c in good_votes.items() if c.total()}
    estimates: dict[int, float] = {}
    screened: set[int] = set()
    best_frames: dict[int, int] = {}
    fallback: dict[int, float] = {}
    decided: set[int] = set()
    for e in ended:
        pid = owner.get(e.track)
        if pid is not None and (e.screened or e.alerted or e.rechecked or e.fallback_c is not None):
            decided.add(pid)
        if pid is not None and e.fallback_c is not None and pid not in fallback:
            fallback[pid] = e.fallback_c
        if pid is None or not e.screened or e.temp_c is None:
            continue
        screened.add(pid)
        if e.frames > best_frames.get(pid, 0):
            best_frames[pid], estimates[pid] = e.frames, e.temp_c
    return RunResult(name, spec, n, labels, [(a, owner.get(a.track)) for a in alerts],
                     [(a, owner.get(a.track)) for a in rechecks], estimates, fallback, screened,
                     np.array(pipe_ms), np.array(bare_ms), cfg.measure_width(spec.width),
                     [(u, owner.get(u.track)) for u in unscreened], decided)


def report(r: RunResult, threshold: float) -> list[str]:
    by_id = {p.id: p for p in r.people}
    febrile = [p for p in r.people if p.fever]
    clear = [p for p in febrile if p.core_c >= threshold + 0.3]
    alerted = Counter(pid for _, pid in r.alerts if pid is not None)
    true_alerts = sum(1 for _, pid in r.alerts if pid is not None and by_id[pid].fever)
    false_alerts = len(r.alerts) - true_alerts
    first = {p.id: p.track[0][0] for p in r.people if p.track}
    delays = [(a.ts - first[pid] / r.spec.fps) for a, pid in r.alerts
              if pid is not None and by_id[pid].fever and pid in first]

    rechecked = Counter(pid for _, pid in r.rechecks if pid is not None)

    def recall(group: list[gs.PersonLabel], hits: Counter = alerted) -> str:
        hit = sum(1 for p in group if hits[p.id])
        return f"{hit / len(group):.3f} ({hit}/{len(group)})" if group else "n/a"

    flagged = alerted + rechecked  # stopped at the gate: a fever alert or a recheck
    clear_bare = [p for p in clear if not p.glasses]
    clear_glasses = [p for p in clear if p.glasses]

    measurable = {p.id: next((t[0] for t in p.track if 0.9 * t[3] >= r.measure_w), None) for p in r.people}
    ready = [(a.ts - measurable[pid] / r.spec.fps) for a, pid in r.alerts
             if pid is not None and by_id[pid].fever and measurable.get(pid) is not None]
    errs = np.array([r.estimates[pid] - by_id[pid].core_c for pid in r.estimates if not by_id[pid].glasses])
    glasses = [p for p in r.people if p.glasses]
    lines = [
        f"## {r.name}: {len(r.people)} people ({len(febrile)} febrile, {len(glasses)} with glasses), "
        f"{r.frames} frames {r.spec.width}x{r.spec.height} at {r.spec.fps:g} fps",
        f"screened (a decision was made): {len(r.screened)}/{len(r.people)}",
        f"recall, all febrile:            {recall(febrile)}",
        f"recall, febrile without glasses: {recall([p for p in febrile if not p.glasses])}",
        f"recall, >= threshold + 0.3:      {recall(clear)}  (without glasses: {recall(clear_bare)}, "
        f"with glasses: {recall(clear_glasses)})",
        f"stopped at the gate (fever or recheck), >= threshold + 0.3: {recall(clear, flagged)}  (without "
        f"glasses: {recall(clear_bare, flagged)}, with glasses: {recall(clear_glasses, flagged)}); "
        f"all febrile: {recall(febrile, flagged)}",
        f"precision: {true_alerts / max(1, len(r.alerts)):.3f} ({true_alerts}/{len(r.alerts)} alerts)",
        f"false alerts per 1,000 people: {1000 * false_alerts / len(r.people):.1f}",
        f"duplicate alerts per febrile person: "
        f"{sum(max(0, c - 1) for pid, c in alerted.items() if by_id[pid].fever) / max(1, len(febrile)):.3f}",
    ]
    if errs.size:
        lines.append(f"core temperature error (n={errs.size}): bias {errs.mean():+.3f} degC, MAE "
                     f"{np.abs(errs).mean():.3f} degC, within +/-0.3: {np.mean(np.abs(errs) <= 0.3):.3f}")
    if delays:
        d = np.array(delays)
        lines.append(f"first sight -> alert: p50 {np.median(d):.2f} s, p95 {np.percentile(d, 95):.2f} s, "
                     f"max {d.max():.2f} s")
        m = np.array(ready)
        lines.append(f"face first measurable (>= {r.measure_w} px wide) -> alert: p50 {np.median(m):.2f} s, "
                     f"p95 {np.percentile(m, 95):.2f} s")
    covered = sum(1 for p in glasses if p.id not in r.screened)
    lines.append(f"glasses: {covered}/{len(glasses)} not screened by the canthus (eyes covered), "
                 f"{len(glasses) - covered} screened")
    g_fev = [p for p in glasses if p.fever]
    g_ok = [p for p in glasses if not p.fever]
    true_rechecks = sum(1 for _, pid in r.rechecks if pid is not None and by_id[pid].fever)
    g_clear = [p for p in g_fev if p.core_c >= threshold + 0.3]
    lines.append(f"fallback (forehead, eyes covered): febrile glasses-wearers rechecked "
                 f"{recall(g_fev, rechecked)}, >= threshold + 0.3: {recall(g_clear, rechecked)}; "
                 f"healthy glasses-wearers rechecked {recall(g_ok, rechecked)}")
    lines.append(f"rechecks: {len(r.rechecks)} ({true_rechecks} febrile), "
                 f"{1000 * len(r.rechecks) / len(r.people):.1f} per 1,000 people")
    ferr = np.array([r.fallback[p.id] - p.core_c for p in glasses if p.id in r.fallback])
    if ferr.size:
        lines.append(f"fallback core estimate error (n={ferr.size}): bias {ferr.mean():+.3f} degC, MAE "
                     f"{np.abs(ferr).mean():.3f} degC, within +/-0.6: {np.mean(np.abs(ferr) <= 0.6):.3f}")
    p50, p99 = np.percentile(r.pipe_ms, (50, 99))
    b50, b99 = np.percentile(r.bare_ms, (50, 99))
    lines.append(f"per frame: pipeline p50 {p50:.3f} ms p99 {p99:.3f} ms; bare threshold+CC p50 {b50:.3f} ms "
                 f"p99 {b99:.3f} ms; ratio p50 {p50 / b50:.1f}x")
    return lines


def calibrate(spec: gs.SceneSpec, cfg: ScreeningConfig) -> float:
    """canthus_offset_c that removes the median error on a calibration scene."""
    r = run("calibration", spec, cfg)
    by_id = {p.id: p for p in r.people}
    errors = [by_id[pid].core_c - est for pid, est in r.estimates.items()]
    return cfg.canthus_offset_c + float(np.median(errors))


# -- many scenes no parameter was tuned on ------------------------------------------------------------------
# the only seeds looked at while changing the pipeline (issue #12); the table runs on others. 201-240 were
# added as tuning seeds for the queue hand-overs (too few silent passes in the first six to study them)
TUNING_SEEDS = (11, 31, 101, 102, 103, 104, *range(201, 241))
CAMERAS = {"256x192": (256, 192, 56.0), "160x120": (160, 120, 57.0)}


def evaluation_seeds(n: int, day: str | None = None) -> list[int]:
    """n fresh seeds derived from the date (YYYYMMDD), none of them a tuning seed."""
    day = day or time.strftime("%Y%m%d", time.gmtime())
    rng = np.random.default_rng(int(day))
    out: list[int] = []
    while len(out) < n:
        seed = int(rng.integers(1_000, 1_000_000))
        if seed not in TUNING_SEEDS and seed not in out:
            out.append(seed)
    return out


def queue_spec(seed: int, camera: str, people: int) -> gs.SceneSpec:
    """A queue with pairs side by side (30 % of arrivals) and pupils running through (5 %: 3-4 m/s, the
    measurable range crossed in 2-3 frames at 9 fps)."""
    w, h, fov = CAMERAS[camera]
    return gs.SceneSpec(people=people, seed=seed, width=w, height=h, hfov_deg=fov, pair_share=0.3,
                        fast_share=0.05)


@dataclass
class Tally:
    """Per-person outcomes of one or more scenes."""

    people: int = 0
    clear: int = 0  # febrile >= threshold + 0.3
    clear_stopped: int = 0  # ... stopped by a fever alert or a recheck
    clear_reported: int = 0  # ... not stopped, but reported unscreened
    alerts: int = 0
    true_alerts: int = 0
    decided: int = 0
    unscreened_people: int = 0  # undecided people with an unscreened report
    silent: int = 0  # undecided, unreported
    hidden: int = 0  # undecided, unreported, in full view in at most one frame (behind another pupil)
    unscreened_events: int = 0
    unscreened_stray: int = 0  # unscreened reports of nobody, or of someone decided
    duplicates: int = 0  # fever alerts beyond the first for the same person
    rechecks: int = 0  # recheck events (glasses, or a hot runner): a handheld check each
    rechecks_febrile: int = 0  # ... of a febrile person
    errors: list[float] = field(default_factory=list)
    delays: list[float] = field(default_factory=list)
    pipe_ms: list[np.ndarray] = field(default_factory=list)
    bare_ms: list[np.ndarray] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    reasons: Counter = field(default_factory=Counter)

    def add(self, o: Tally) -> None:
        for k, v in vars(o).items():
            if isinstance(v, int):
                setattr(self, k, getattr(self, k) + v)
            elif isinstance(v, list):
                getattr(self, k).extend(v)
            elif isinstance(v, Counter):
                getattr(self, k).update(v)

    def row(self, name: str) -> str:
        recall = self.clear_stopped / self.clear if self.clear else float("nan")
        precision = self.true_alerts / self.alerts if self.alerts else float("nan")
        err = np.array(self.errors) if self.errors else np.array([np.nan])
        delay = np.median(self.delays) if self.delays else float("nan")
        p50, p99 = np.percentile(np.concatenate(self.pipe_ms), (50, 99))
        b50, b99 = np.percentile(np.concatenate(self.bare_ms), (50, 99))
        return (f"| {name} | {self.people} | {recall:.3f} ({self.clear_stopped}/{self.clear}) | "
                f"{self.clear_reported} | {precision:.3f} ({self.true_alerts}/{self.alerts}) | "
                f"{self.decided} | {self.unscreened_people} | {self.silent} | {self.hidden} | "
                f"{self.unscreened_stray} | "
                f"{np.nanmean(np.abs(err)):.3f} | {np.nanmean(err):+.3f} | {delay:.2f} | "
                f"{p50:.2f} / {p99:.2f} | {b50:.3f} / {b99:.3f} |")


HEADER = ("| scene | people | recall >= thr+0.3 (stopped) | of the missed: reported unscreened | precision | "
          "decided | unscreened (reported) | silent | hidden (<= 1 frame in view) | "
          "stray unscreened reports | "
          "MAE degC | bias degC | alert delay p50 s | pipeline p50/p99 ms | bare OpenCV p50/p99 ms |\n|"
          + "---|" * 15)


def tally(r: RunResult, threshold: float) -> Tally:
    t = Tally(people=len(r.people))
    by_id = {p.id: p for p in r.people}
    alerted = {pid for _, pid in r.alerts if pid is not None}
    rechecked = {pid for _, pid in r.rechecks if pid is not None}
    decided = r.decided | alerted | rechecked
    reported = {pid for _, pid in r.unscreened if pid is not None}
    first = {p.id: p.track[0][0] for p in r.people if p.track}
    t.alerts = len(r.alerts)
    t.true_alerts = sum(1 for _, pid in r.alerts if pid is not None and by_id[pid].fever)
    t.delays = [a.ts - first[pid] / r.spec.fps for a, pid in r.alerts
                if pid is not None and by_id[pid].fever and pid in first]
    t.unscreened_events = len(r.unscreened)
    t.rechecks = len(r.rechecks)
    t.rechecks_febrile = sum(1 for _, pid in r.rechecks if pid is not None and by_id[pid].fever)
    t.duplicates = len(r.alerts) - len({pid for _, pid in r.alerts if pid is not None}) \
        - sum(1 for _, pid in r.alerts if pid is None)
    t.unscreened_stray = sum(1 for _, pid in r.unscreened if pid is None or pid in decided)
    t.reasons = Counter(u.reason for u, pid in r.unscreened if pid is not None and pid not in decided)
    for p in r.people:
        if p.id in decided:
            t.decided += 1
        elif p.id in reported:
            t.unscreened_people += 1
        elif len(p.track) < 2:  # in full view in one frame at most (behind another pupil): explained
            t.hidden += 1
            t.misses.append(f"seed {r.spec.seed} {r.spec.width}x{r.spec.height} person {p.id}: hidden behind "
                            f"others (in full view in {len(p.track)} frame(s))")
        else:
            t.silent += 1
            t.misses.append(f"seed {r.spec.seed} {r.spec.width}x{r.spec.height} person {p.id}: silent pass "
                            f"(core {p.core_c:.2f}, {len(p.track)} frames in view, max width "
                            f"{max(w for *_, w in p.track):.0f} px)")
        if p.fever and p.core_c >= threshold + 0.3:
            t.clear += 1
            if p.id in alerted or p.id in rechecked:
                t.clear_stopped += 1
            else:
                why = ("reported unscreened" if p.id in reported else
                       f"screened at {r.estimates[p.id]:.2f}" if p.id in r.estimates else "no decision")
                t.clear_reported += p.id in reported
                t.misses.append(f"seed {r.spec.seed} {r.spec.width}x{r.spec.height} person {p.id}: febrile "
                                f"{p.core_c:.2f} not stopped: {why}")
    t.errors = [r.estimates[pid] - by_id[pid].core_c for pid in r.estimates if not by_id[pid].glasses]
    t.pipe_ms, t.bare_ms = [r.pipe_ms], [r.bare_ms]
    return t


def _job(args: tuple[int, str, int]) -> tuple[int, str, Tally]:
    seed, camera, people = args
    cv2.setNumThreads(1)
    cfg = ScreeningConfig()
    r = run(f"seed {seed} {camera}", queue_spec(seed, camera, people), cfg)
    return seed, camera, tally(r, cfg.threshold_c)


def multi_seed(seeds: list[int], people: int, workers: int) -> Tally:
    jobs = [(s, cam, people) for s in seeds for cam in CAMERAS]
    if workers > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(min(workers, 2)) as pool:
            results = pool.map(_job, jobs)
    else:
        results = [_job(j) for j in jobs]
    print(HEADER)
    pooled, per_cam = Tally(), {cam: Tally() for cam in CAMERAS}
    worst: tuple[float, str] | None = None
    for seed, cam, t in results:
        print(t.row(f"{seed} {cam}"), flush=True)
        pooled.add(t)
        per_cam[cam].add(t)
        score = ((t.clear_stopped / t.clear if t.clear else 1.0)
                 + (t.true_alerts / t.alerts if t.alerts else 1.0))
        if worst is None or score < worst[0]:
            worst = (score, f"{seed} {cam}")
    for cam, t in per_cam.items():
        print(t.row(f"**pooled {cam}**"))
    print(pooled.row("**pooled, all**"))
    print(f"\nworst scene (recall + precision): {worst[1] if worst else '-'}")
    per_1000 = 1000 * pooled.unscreened_events / max(1, pooled.people)
    print(f"duplicate fever alerts (same person alerted again): {pooled.duplicates}; unscreened events: "
          f"{pooled.unscreened_events} ({per_1000:.1f} per 1,000 people)")
    print(f"rechecks: {pooled.rechecks} ({pooled.rechecks_febrile} febrile), "
          f"{1000 * pooled.rechecks / max(1, pooled.people):.1f} per 1,000 people")
    print(f"unscreened reasons (undecided people): {dict(pooled.reasons)}")
    print("misses and silent passes:" + ("".join(f"\n- {m}" for m in pooled.misses) or " none"))
    return pooled


# -- other optics, before and after an on-site calibration ------------------------------------------------
def optics_calibration(seed: int, people: int) -> list[str]:
    from edge.screening.calibrate import Pass, calibrate, to_yaml

    out = []
    for camera in CAMERAS:
        w, h, fov = CAMERAS[camera]
        spec = gs.with_optics(gs.SceneSpec(people=people, seed=seed, width=w, height=h), "soft_wide")
        cal_spec = replace(spec, seed=seed + 1)
        walk = gs.calibration_plan(cal_spec, 5, 4)
        scene = gs.generate(cal_spec, walk)
        truth = [Pass(*row) for row in gs.truth_rows(cal_spec, scene.labels)]
        cfg = ScreeningConfig(blackbody=Blackbody(tuple(scene.blackbody_roi), cal_spec.blackbody_c))
        fit = calibrate(scene.frames, cal_spec.fps, truth, cfg)
        out.append(f"### {camera}, optics `soft_wide`: calibration on 5 walkers x 4 passes "
                   f"(seed {seed + 1})\n")
        out.append("```yaml\n" + to_yaml(fit) + "```")
        tuned = replace(ScreeningConfig(), canthus_offset_c=fit.canthus_offset_c,
                        blur_table_c=fit.blur_table_c)
        out.append(HEADER)
        for name, c in (("before (defaults)", ScreeningConfig()), ("after calibration", tuned)):
            t = tally(run(name, spec, c), c.threshold_c)
            out.append(t.row(f"{camera} soft_wide seed {seed}, {name}"))
        out.append("")
    return out


BLUR_WIDTHS = (8, 10, 12, 14, 16, 18, 20, 24, 28, 32, 40, 48)


def derive_blur_table(seed: int = 7, people: int = 150) -> list[tuple[int, float]]:
    """Mean canthus loss of measure_canthus by face width, on scenes at both resolutions.

    The simulator's optics (4x oversampled heads, area-averaged, Gaussian sigma 0.5 px) and its sensor
    noise (NETD 0.05, fixed pattern 0.08: the hottest-pixels mean reads a little high on noise), but no
    camera offset, drift, blackbody or distractors: what the blackbody cannot see. People walk in to
    0.6 m so that wide faces are seen too. Widths pool +/-1 px around each table entry.
    """
    loss: dict[int, list[float]] = defaultdict(list)
    for width, height, fov in ((160, 120, 57.0), (256, 192, 56.0)):
        spec = gs.SceneSpec(people=people, seed=seed, width=width, height=height, hfov_deg=fov, end_m=0.6,
                            offset_c=0.0, drift_c=0.0, step_every_s=0, blackbody=False, glasses_share=0.0,
                            pair_share=0.0, cup_carry_share=0.0, distractors=())
        plan = gs.plan(spec)
        canthus = {p.id: p.canthus_c for p in plan}
        at_frame = frames_index(gs.labels_for(spec, plan))
        cfg = ScreeningConfig(blur_table_c=(), measure_width_px=1)
        pipe = Pipeline(cfg)
        for i, frame in enumerate(gs.iter_frames(spec, plan)):
            for ob in pipe.process(frame, i / spec.fps).observations:
                pid = owner_of(ob.blob, at_frame.get(i, []))
                if pid is not None and ob.core_c is not None:
                    loss[ob.blob.w].append(canthus[pid] - (ob.core_c - cfg.canthus_offset_c))
    table = []
    for w in BLUR_WIDTHS:
        values = [v for k in (w - 1, w, w + 1) for v in loss.get(k, [])]
        if values:
            table.append((w, round(float(np.mean(values)), 2)))
            print(f"  width {w:3d} px: loss {np.mean(values):+.3f} degC (sd {np.std(values):.3f}, "
                  f"n={len(values)})")
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="fever screening quality and speed on simulated gate scenes")
    ap.add_argument("--people", type=int, default=1000, help="people in the main 256x192 scene")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--seeds", type=int, default=0,
                    help="multi-seed table: this many fresh seeds derived from the date "
                         "(0: the classic runs)")
    ap.add_argument("--seed-people", type=int, default=80, help="people per scene in the multi-seed table")
    ap.add_argument("--day", help="YYYYMMDD the seeds derive from (default: today, UTC)")
    ap.add_argument("--tuning", action="store_true", help="the multi-seed table on the tuning seeds instead")
    ap.add_argument("--attribution", choices=("readings", "frames"), default="readings",
                    help="whose is a track's decision: the person of most of its clean readings (default), "
                         "or of most of its frames (the accounting before the hand-over work)")
    ap.add_argument("--workers", type=int, default=1, help="processes for the multi-seed table (at most 2)")
    ap.add_argument("--optics", action="store_true",
                    help="other optics: before / after an on-site calibration (5 walkers x 4 passes)")
    ap.add_argument("--derive-blur-table", action="store_true",
                    help="print the blur compensation table derived from the simulator's optics (seed 7)")
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)  # one core, as promised for a Pi
    ATTRIBUTION["mode"] = args.attribution
    if args.derive_blur_table:
        table = derive_blur_table()
        print("BLUR_TABLE_C =", tuple(table))
        return 0
    if args.seeds or args.tuning or args.optics:
        t0 = time.perf_counter()
        if args.seeds or args.tuning:
            seeds = list(TUNING_SEEDS) if args.tuning else evaluation_seeds(args.seeds, args.day)
            kind = "tuning" if args.tuning else "evaluation"
            print(f"{kind} seeds: {seeds} ({args.seed_people} people per scene, 256x192 and 160x120, "
                  f"30 % pairs, 5 % running; attribution by {args.attribution})\n")
            multi_seed(seeds, args.seed_people, args.workers)
        if args.optics:
            print("\n".join(optics_calibration(args.seed, max(100, args.seed_people))))
        print(f"\ntotal {time.perf_counter() - t0:.0f} s; OpenCV {cv2.__version__}, numpy {np.__version__}, "
              "1 thread per process")
        return 0
    cfg = ScreeningConfig()
    bare = replace(cfg, blur_table_c=(), alert_margin_c=0.0)  # the baseline: the previous decision rule
    side = max(100, args.people // 4)
    lepton = gs.SceneSpec(people=side, seed=args.seed + 2, width=160, height=120, hfov_deg=57.0)
    runs = [
        ("256x192 (P2 Pro), blackbody", gs.SceneSpec(people=args.people, seed=args.seed), cfg),
        ("256x192 (P2 Pro), blackbody, BASELINE (no blur compensation, no alert margin)",
         gs.SceneSpec(people=args.people, seed=args.seed), bare),
        ("256x192, no blackbody", gs.SceneSpec(people=side, seed=args.seed + 1, blackbody=False), cfg),
        ("160x120 (Lepton 3.5), blackbody", lepton, cfg),
        ("160x120 (Lepton 3.5), blackbody, BASELINE (no blur compensation, no alert margin)", lepton, bare),
        # the forehead fallback on its own: everyone wears glasses
        ("256x192 (P2 Pro), blackbody, everyone in glasses",
         gs.SceneSpec(people=side, seed=args.seed + 3, glasses_share=1.0), cfg),
        ("160x120 (Lepton 3.5), blackbody, everyone in glasses",
         replace(lepton, seed=args.seed + 4, glasses_share=1.0), cfg),
    ]
    t0 = time.perf_counter()
    for name, spec, run_cfg in runs:
        lines = report(run(name, spec, run_cfg), cfg.threshold_c)
        print("\n".join(lines), flush=True)
        print()
    # what an install-time calibration buys: canthus_offset_c fitted on one scene (as a school would, against
    # a reference thermometer on a few dozen pupils), then tested on another
    for name, spec, _ in (runs[0], runs[3]):
        cal = replace(spec, seed=spec.seed + 100, people=150)
        offset = calibrate(cal, cfg)
        tuned = replace(cfg, canthus_offset_c=round(offset, 2))
        lines = report(run(f"{name}, canthus_offset_c calibrated to {offset:.2f} on another scene",
                           replace(spec, people=side), tuned), cfg.threshold_c)
        print("\n".join(lines), flush=True)
        print()
    print(f"total {time.perf_counter() - t0:.0f} s; OpenCV {cv2.__version__}, numpy {np.__version__}, "
          "1 thread")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
