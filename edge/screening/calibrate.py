"""On-site calibration: fit a camera's canthus_offset_c and blur_table_c from staff walking through the gate.

Real lenses blur differently from our simulator, so the default blur table carries its bias to a real
gate. The installer records a few staff members walking through normally, several times each, with
their clinical thermometer readings (TRUTH.csv: ``start_s,end_s,core_c`` per pass). Every canthus
reading of a pass, with the face's width in pixels, gives one equation

    core = reading + canthus_offset_c + A * exp(-W^2 / (2 s^2))

(the blurred-disc loss of docs/screening.md, *Blur compensation*): offset and A are linear, s is found
on a grid. The table is that curve at the usual widths. The same walk gives ``fallback_offset_c`` (core =
forehead + it, the glasses fallback): the forehead band is measured on bare faces too, so each pass gives
core - forehead; the offset is their median over passes. People differ by about +/-0.3 degC there (it is
why the forehead only asks for a recheck), so a few walkers fix the site's mean to ~0.15 degC: what matters
is a site whose foreheads run unlike the default 2.0 (real foreheads are 1 to 3 degC below the core).
Pure: frames in, a Fit out (the CLI reads files).
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, replace

import numpy as np

from edge.screening.config import ScreeningConfig
from edge.screening.measure import measure_forehead
from edge.screening.pipeline import Pipeline

TABLE_WIDTHS = (8, 10, 12, 14, 16, 18, 20, 24, 28, 32, 40, 48)
SIGMAS = tuple(np.arange(4.0, 30.01, 0.5))
MIN_PASSES = 8
MAX_RESIDUAL_SD_C = 0.15
MAX_RESIDUAL_C = 0.35


class TruthError(ValueError):
    """TRUTH.csv cannot be read: the message names the line."""


@dataclass(frozen=True)
class Pass:
    start_s: float
    end_s: float
    core_c: float


@dataclass(frozen=True)
class PassResult:
    index: int  # 1-based, as in TRUTH.csv
    core_c: float
    estimate_c: float | None  # with the fitted values, as the pipeline would estimate (None: not measured)
    frames: int  # measurable frames (face at least measure_width wide)

    @property
    def residual_c(self) -> float | None:
        return None if self.estimate_c is None else round(self.estimate_c - self.core_c, 3)


@dataclass(frozen=True)
class Fit:
    canthus_offset_c: float
    blur_table_c: tuple[tuple[int, float], ...]
    sigma_px: float
    passes: tuple[PassResult, ...]
    warnings: tuple[str, ...]
    samples: int
    fallback_offset_c: float | None = None  # core - forehead, median over passes (None: no forehead readings)
    fallback_passes: int = 0  # passes with forehead readings behind it
    fallback_sd_c: float | None = None  # spread of core - forehead between passes (people differ)


def read_truth(text: str) -> list[Pass]:
    """Rows ``start_s,end_s,core_c``; a header row and blank lines are skipped."""
    out = []
    for n, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if not row or not "".join(row).strip() or row[0].strip().startswith("#"):
            continue
        if n == 1 and not _number(row[0]):
            continue  # header
        if len(row) != 3 or not all(_number(v) for v in row):
            got = ",".join(row)
            raise TruthError(f"line {n}: expected start_s,end_s,core_c (three numbers), got {got!r}")
        a, b, c = (float(v) for v in row)
        if b <= a:
            raise TruthError(f"line {n}: end_s {b:g} must be after start_s {a:g}")
        if not 34.0 <= c <= 42.0:
            raise TruthError(f"line {n}: core_c {c:g} is not a body temperature (34 to 42 degC)")
        out.append(Pass(a, b, c))
    if not out:
        raise TruthError("no passes (rows start_s,end_s,core_c)")
    return out


def _number(v: str) -> bool:
    try:
        return math.isfinite(float(v))
    except ValueError:
        return False


def collect(frames: np.ndarray, fps: float, truth: list[Pass], cfg: ScreeningConfig
            ) -> tuple[dict[int, list[tuple[int, float]]], dict[int, list[float]]]:
    """Pass index -> (face width px, raw canthus reading degC) of the walker's face in that pass; and pass
    index -> the forehead readings of that face where it was wide enough to measure.

    The walker is the track seen most in the pass's seconds; frames with a degraded reference are left out.
    """
    raw_cfg = replace(cfg, blur_table_c=(), canthus_offset_c=0.0, unscreened=False)
    pipe = Pipeline(raw_cfg)
    measure_width = cfg.measure_width(frames.shape[2])
    by_pass: dict[int, dict[int, list[tuple[int, float]]]] = defaultdict(lambda: defaultdict(list))
    heads: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for i, frame in enumerate(frames):
        ts = i / fps
        res = pipe.process(frame, ts)
        if res.reference.degraded:
            continue
        passes = [k for k, p in enumerate(truth) if p.start_s <= ts <= p.end_s]
        seen = [ob for ob in res.observations if ob.core_c is not None]
        if not passes or not seen:
            continue
        assert pipe.finder is not None
        corrected = np.asarray(frame, np.float32) + np.float32(res.reference.offset_c)
        for ob in seen:
            assert ob.core_c is not None
            forehead = None
            if ob.blob.w >= measure_width:
                forehead = measure_forehead(corrected, pipe.finder.labels, pipe.finder.stats, ob.blob, 0)
            for k in passes:
                by_pass[k][ob.track].append((ob.blob.w, ob.core_c))
                if forehead is not None:
                    heads[k][ob.track].append(forehead)
    out, foreheads = {}, {}
    for k, tracks in by_pass.items():
        walker = Counter({t: len(v) for t, v in tracks.items()}).most_common(1)[0][0]
        out[k] = tracks[walker]
        foreheads[k] = heads[k].get(walker, [])
    return out, foreheads


def fit_fallback(foreheads: dict[int, list[float]], truth: list[Pass], min_frames: int = 3
                 ) -> tuple[float | None, int, float | None]:
    """fallback_offset_c: the median over passes of core - (that pass's median forehead reading); the
    passes behind it; and the spread between passes (sd)."""
    per_pass = [truth[k].core_c - float(np.median(v)) for k, v in foreheads.items() if len(v) >= min_frames]
    if not per_pass:
        return None, 0, None
    return round(float(np.median(per_pass)), 3), len(per_pass), round(float(np.std(per_pass)), 3)


def fit(samples: dict[int, list[tuple[int, float]]], truth: list[Pass], measure_width: int,
        min_frames: int = 3) -> Fit:
    rows = [(w, r, truth[k].core_c) for k, obs in samples.items() for w, r in obs
            if w >= 0.6 * measure_width]
    warnings: list[str] = []
    if len(rows) < 3:
        return Fit(0.5, (), 0.0, _results(samples, truth, measure_width, 0.5, 0.0, 1.0),
                   ("no canthus readings in the recording's passes: check the times in TRUTH.csv and the "
                    "blackbody ROI",), len(rows))
    w = np.array([r[0] for r in rows], float)
    y = np.array([r[2] - r[1] for r in rows], float)  # what has to be added to the reading
    best = None
    spread = w.max() / max(w.min(), 1)
    sigmas = SIGMAS if spread >= 1.5 else (13.3,)
    if spread < 1.5:
        warnings.append(f"faces only {w.min():.0f} to {w.max():.0f} px wide: blur's shape not fitted (the "
                        "simulator's scale, 13.3 px, is used); walk the whole approach, from far to near")
    for s in sigmas:
        g = np.exp(-w ** 2 / (2 * s * s))
        a_mat = np.column_stack([np.ones_like(w), g])
        coef, *_ = np.linalg.lstsq(a_mat, y, rcond=None)
        c, amp = float(coef[0]), max(0.0, float(coef[1]))
        sse = float(np.sum((y - c - amp * g) ** 2))
        if best is None or sse < best[0]:
            best = (sse, c, amp, float(s))
    assert best is not None
    _, c, amp, s = best
    table = tuple((tw, round(amp * math.exp(-tw * tw / (2 * s * s)), 3)) for tw in TABLE_WIDTHS)
    results = _results(samples, truth, measure_width, c, amp, s, min_frames)
    res = [p.residual_c for p in results if p.residual_c is not None]
    unmeasured = [p.index for p in results if p.estimate_c is None]
    if unmeasured:
        warnings.append(f"passes {unmeasured} have fewer than {min_frames} measurable frames: not used to "
                        "judge "
                        "the fit (walk at a normal pace, facing the camera)")
    if len(res) < MIN_PASSES:
        warnings.append(f"only {len(res)} measured passes: too few for a calibration (use at least 5 walkers "
                        "x 4 passes)")
    if res:
        sd = float(np.std(res))
        worst = max(results, key=lambda p: abs(p.residual_c or 0.0))
        if sd > MAX_RESIDUAL_SD_C or abs(worst.residual_c or 0.0) > MAX_RESIDUAL_C:
            warnings.append(f"inconsistent: residuals sd {sd:.2f} degC, pass {worst.index} off by "
                            f"{worst.residual_c:+.2f} degC (a wrong thermometer reading or time window?)")
    return Fit(round(c, 3), table, s, results, tuple(warnings), len(rows))


def _results(samples: dict[int, list[tuple[int, float]]], truth: list[Pass], measure_width: int, c: float,
             amp: float, s: float, min_frames: int = 3) -> tuple[PassResult, ...]:
    out = []
    for k, p in enumerate(truth):
        vals = [r + c + amp * math.exp(-w * w / (2 * s * s)) for w, r in samples.get(k, [])
                if w >= measure_width]
        est = round(float(np.median(vals)), 3) if len(vals) >= min_frames else None
        out.append(PassResult(k + 1, p.core_c, est, len(vals)))
    return tuple(out)


def calibrate(frames: np.ndarray, fps: float, truth: list[Pass], cfg: ScreeningConfig) -> Fit:
    samples, foreheads = collect(frames, fps, truth, cfg)
    offset, passes, sd = fit_fallback(foreheads, truth, cfg.min_frames)
    return replace(fit(samples, truth, cfg.measure_width(frames.shape[2]), cfg.min_frames),
                   fallback_offset_c=offset, fallback_passes=passes, fallback_sd_c=sd)


def to_yaml(fit_: Fit) -> str:
    """The fitted keys, the per-pass residuals and the warnings, as YAML a person reads and pastes."""
    lines = [f"canthus_offset_c: {fit_.canthus_offset_c:.3f}",
             "blur_table_c: [" + ", ".join(f"[{w}, {v:.3f}]" for w, v in fit_.blur_table_c) + "]",
             f"# blur scale {fit_.sigma_px:g} px, {fit_.samples} canthus readings"]
    if fit_.fallback_offset_c is None:
        lines.append("# fallback_offset_c: not fitted (no forehead readings)")
    else:
        lines += [f"fallback_offset_c: {fit_.fallback_offset_c:.3f}",
                  f"# core - forehead over {fit_.fallback_passes} passes, sd {fit_.fallback_sd_c:.2f} degC "
                  "between them (people differ: the forehead only asks for a recheck)"]
    lines.append("passes:  # estimate with these values, minus the thermometer's reading")
    for p in fit_.passes:
        est = "null" if p.estimate_c is None else f"{p.estimate_c:.2f}"
        res = "null" if p.residual_c is None else f"{p.residual_c:+.2f}"
        lines.append(f"  - {{pass: {p.index}, core_c: {p.core_c:.2f}, estimate_c: {est}, residual_c: {res}, "
                     f"frames: {p.frames}}}")
    lines.append("warnings:" + ("" if fit_.warnings else " []"))
    lines += [f"  - {w!r}" for w in fit_.warnings]
    return "\n".join(lines) + "\n"
