"""Pure checks of a camera's picture, as a guard on patrol would make them.

    >>> result = evaluate(Visit(frames=[f1, f2], gap_s=1.5), settings, memory)
    >>> result.reasons          # () when all is well, else e.g. ("blurred",) or ("moved",)

Everything here is a function of its arguments (numpy frames in, reasons and numbers out), tested with
vectors and with the simulated cameras (simulators/cameras.py). Robust to day and night: brightness is
judged only for "black" and "washed out"; focus, cover and position compare *structure* (contrast-
normalised Laplacian, coefficient of variation, ORB keypoints on equalised images), not brightness.

- reachable and decoding: the driver says so (``Visit.error``), reasons ``offline`` / ``decode``;
- resolution as configured, frame rate (streams) at least ``min_fps``;
- ``dark``: mean below ``dark_level`` with almost no variation (a night picture still has structure);
- ``washed_out``: mean above ``bright_level`` with almost no variation;
- ``frozen``: two grabs ``gap_s`` apart identical (live sensors always add noise), or the timestamp
  overlay region unchanged between them, or the picture identical to the previous visit's;
- ``blurred``: the contrast-normalised variance of the Laplacian below ``blur_ratio`` of the camera's own
  baseline for its current mode (colour by day, grey infra-red by night; learned over its first good
  visits in that mode, then slowly updated; persisted by the driver);
- ``covered``: almost no structure left (coefficient of variation below ``cover_ratio`` of the reference's),
  or no detail left and the coarse layout no longer the reference's (a blur keeps the big shapes);
- ``moved``: the reference view (taken at installation) no longer matches: too few ORB keypoint matches
  consistent with one homography, or the homography shifts the view by more than ``max_shift``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

WIDTH = 320  # every check works on a downscaled grayscale copy: fast and noise-tolerant
BASELINE_VISITS = 5  # good visits that set a camera's focus baseline before it judges blur
COVER_LAYOUT = 0.5  # below: the view's big shapes are gone (covered), above: they are only blurred


@dataclass(frozen=True)
class Settings:
    width: int | None = None  # expected resolution (None: not checked)
    height: int | None = None
    min_fps: float | None = None  # streams only
    dark_level: float = 18.0
    bright_level: float = 240.0
    flat_std: float = 6.0  # "almost no variation" (grey levels)
    blur_ratio: float = 0.5
    cover_ratio: float = 0.45
    min_inliers: int = 12
    max_shift: float = 0.08  # of the picture's width
    overlay: tuple[float, float, float, float] | None = None  # x, y, w, h as fractions of the picture


@dataclass(frozen=True)
class Visit:
    frames: list[np.ndarray] = field(default_factory=list)  # BGR, at least one unless error
    gap_s: float = 0.0  # time between the first and last frame
    fps: float | None = None  # measured (streams)
    error: str | None = None  # offline | decode
    detail: str = ""


@dataclass
class Result:
    reasons: tuple[str, ...]
    metrics: dict[str, Any]
    memory: dict[str, Any]  # the camera's updated memory (baseline, last hash, reference), for context.save


def small_gray(frame: np.ndarray, width: int = WIDTH) -> np.ndarray:
    g = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    h, w = g.shape
    if w != width:
        g = cv2.resize(g, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    return g


def sharpness(frames: list[np.ndarray]) -> float:
    """Variance of the Laplacian over the picture's own variance (focus, not light or contrast), on the
    average of the grabs at 160 px, lightly smoothed: sensor noise (high at night) is not detail."""
    g = np.mean([small_gray(f, 160).astype(np.float32) for f in frames], axis=0)  # grey or BGR frames
    g = cv2.GaussianBlur(g, (0, 0), 1.0)
    return float(cv2.Laplacian(g, cv2.CV_32F).var() / (g.var() + 1.0))


def mode_of(frame: np.ndarray) -> str:
    """``mono`` for a grey (infra-red night mode) picture, else ``color``: each has its own focus baseline."""
    if frame.ndim == 2:
        return "mono"
    sat = cv2.cvtColor(cv2.resize(frame, (80, 45), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2HSV)[:, :, 1]
    return "mono" if float(sat.mean()) < 12 else "color"


def variation(g: np.ndarray) -> float:
    """Coefficient of variation: how much structure there is, whatever the brightness."""
    m = float(g.mean())
    return float(g.std()) / (m + 8.0)


def layout_similarity(ref: np.ndarray, g: np.ndarray) -> float:
    """Correlation of the two views' coarse layout (32 x 18, smoothed): an out-of-focus lens keeps the
    scene's big shapes (high), a hand or a bag over it hides them (low), day or night."""
    def coarse(x: np.ndarray) -> np.ndarray:
        c = cv2.resize(cv2.GaussianBlur(x.astype(np.float32), (0, 0), 3.0), (32, 18),
                       interpolation=cv2.INTER_AREA)
        c -= c.mean()
        return c / (float(np.linalg.norm(c)) + 1e-6)

    return float((coarse(ref) * coarse(g)).sum())


def digest(g: np.ndarray) -> str:
    return hashlib.blake2b(g.tobytes(), digest_size=12).hexdigest()


_ORB = None


def _orb() -> Any:
    global _ORB
    if _ORB is None:
        _ORB = cv2.ORB_create(nfeatures=500, fastThreshold=10)  # type: ignore[attr-defined]
    return _ORB


def _features(g: np.ndarray) -> tuple[list, np.ndarray | None]:
    eq = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(4, 4)).apply(g)  # night and day look alike
    return _orb().detectAndCompute(eq, None)


def alignment(ref: np.ndarray, g: np.ndarray) -> tuple[int, float]:
    """(homography inliers, shift of the view's centre as a fraction of its width) of ``g`` vs ``ref``."""
    if ref.shape != g.shape:
        g = cv2.resize(g, (ref.shape[1], ref.shape[0]), interpolation=cv2.INTER_AREA)
    k1, d1 = _features(ref)
    k2, d2 = _features(g)
    if d1 is None or d2 is None or len(k1) < 4 or len(k2) < 4:
        return 0, 1.0
    matches = cv2.BFMatcher(cv2.NORM_HAMMING, crossCheck=True).match(d1, d2)
    if len(matches) < 4:
        return len(matches), 1.0
    src = np.array([k1[m.queryIdx].pt for m in matches], dtype=np.float32).reshape(-1, 1, 2)
    dst = np.array([k2[m.trainIdx].pt for m in matches], dtype=np.float32).reshape(-1, 1, 2)
    hom, mask = cv2.findHomography(src, dst, cv2.RANSAC, 4.0)
    if hom is None or mask is None:
        return 0, 1.0
    h, w = ref.shape
    centre = np.array([[[w / 2, h / 2]]], dtype=np.float32)
    moved = cv2.perspectiveTransform(centre, hom)[0, 0]
    shift = float(np.hypot(*(moved - centre[0, 0]))) / w
    return int(mask.sum()), shift


def encode_ref(g: np.ndarray) -> str:
    import base64

    ok, buf = cv2.imencode(".png", g)
    assert ok
    return base64.b64encode(buf.tobytes()).decode()


def decode_ref(text: str) -> np.ndarray | None:
    import base64

    try:
        buf = np.frombuffer(base64.b64decode(text), np.uint8)
        g = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    except ValueError:
        return None
    return g


def _region(g: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    h, w = g.shape
    x, y, bw, bh = box
    y0, x0 = int(y * h), int(x * w)
    return g[y0:max(y0 + 1, int((y + bh) * h)), x0:max(x0 + 1, int((x + bw) * w))]


def masked(g: np.ndarray, box: tuple[float, float, float, float] | None) -> np.ndarray:
    """The picture with its overlay box painted over (its median): text is not the scene."""
    if box is None:
        return g
    out = g.copy()
    _region(out, box)[...] = int(np.median(g))
    return out


def overlay_still(a: np.ndarray, b: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    """The overlay clock did not tick: almost no pixel of its box changed a lot (noise changes many a
    little; a changed digit changes many pixels by far more than noise does)."""
    ra, rb = _region(small_gray(a, a.shape[1]), box), _region(small_gray(b, b.shape[1]), box)
    if float(ra.std()) < 20:  # no overlay drawn there (or video lost): nothing to judge by
        return False
    return float((cv2.absdiff(ra, rb) > 60).mean()) < 0.002


def evaluate(visit: Visit, s: Settings, memory: dict[str, Any] | None = None) -> Result:
    """The reasons this visit found (empty: all is well), its figures, and the camera's new memory."""
    mem = dict(memory or {})
    if visit.error:
        return Result((visit.error,), {"detail": visit.detail}, mem)
    first, last = visit.frames[0], visit.frames[-1]
    h, w = first.shape[:2]
    g2 = small_gray(last)
    scene = masked(g2, s.overlay)  # light and structure checks see the scene, not the clock
    mean, std = float(scene.mean()), float(scene.std())
    sharp = sharpness([masked(small_gray(f), s.overlay) for f in visit.frames])
    var, mode = variation(scene), mode_of(last)
    metrics: dict[str, Any] = {"width": w, "height": h, "mean": round(mean, 1), "std": round(std, 1),
                               "sharpness": round(sharp, 4), "variation": round(var, 4), "mode": mode}
    reasons = _signal_faults(visit, s, w, h, mean, std, metrics)
    frozen = _frozen(visit, s, g2, mem, metrics)
    if frozen and not reasons:
        reasons.append("frozen")
    if reasons:  # black, white, frozen or wrong: the structure checks would only echo it
        return Result(tuple(reasons), metrics, mem)
    ref = decode_ref(mem["reference"]) if mem.get("reference") else None
    reasons = _structure_faults(s, scene, var, sharp, mode, ref, mem, metrics)
    if not reasons:  # learn from good visits only: a camera going soft slowly still stands out
        _learn(scene, var, sharp, mode, ref, mem)
    return Result(tuple(reasons), metrics, mem)


def _signal_faults(visit: Visit, s: Settings, w: int, h: int, mean: float, std: float,
                   metrics: dict[str, Any]) -> list[str]:
    """What the picture's format and light say: wrong resolution, too few frames, dark, washed out."""
    reasons: list[str] = []
    if (s.width and w != s.width) or (s.height and h != s.height):
        reasons.append("resolution")
    if s.min_fps is not None and visit.fps is not None:
        metrics["fps"] = round(visit.fps, 2)
        if visit.fps < s.min_fps:
            reasons.append("fps")
    flat = std < s.flat_std
    if mean < s.dark_level and flat:
        reasons.append("dark")
    elif mean > s.bright_level and flat:
        reasons.append("washed_out")
    return reasons


def _frozen(visit: Visit, s: Settings, g2: np.ndarray, mem: dict[str, Any], metrics: dict[str, Any]) -> bool:
    """Identical grabs (a live sensor adds noise), the overlay clock still, or the last visit's picture
    again. Remembers this visit's picture."""
    first, last = visit.frames[0], visit.frames[-1]
    h_now = digest(g2)
    frozen = False
    if len(visit.frames) > 1 and visit.gap_s > 0:
        diff = float(cv2.absdiff(small_gray(first), g2).mean())
        metrics["grab_diff"] = round(diff, 3)
        frozen = diff == 0.0
        if s.overlay is not None and not frozen and visit.gap_s >= 1.0:
            frozen = overlay_still(first, last, s.overlay)
    if mem.get("last_hash") == h_now:
        frozen = True
    mem["last_hash"] = h_now
    return frozen


def _structure_faults(s: Settings, scene: np.ndarray, var: float, sharp: float, mode: str,
                      ref: np.ndarray | None, mem: dict[str, Any], metrics: dict[str, Any]) -> list[str]:
    """Against the camera's own past: covered (structure gone), blurred (sharpness below its baseline
    for this light mode), moved (the reference view no longer aligns)."""
    reasons: list[str] = []
    if ref is not None:
        ref_var = float(mem.get("reference_variation") or variation(ref))
        metrics["variation_ratio"] = round(var / (ref_var + 1e-9), 3)
        if var < s.cover_ratio * ref_var:
            reasons.append("covered")
    base = (mem.get("sharpness_baseline") or {}).get(mode)
    n = int((mem.get("baseline_visits") or {}).get(mode, 0))
    if not reasons and base:
        metrics["sharpness_ratio"] = round(sharp / base, 3)
        if n >= BASELINE_VISITS and sharp < s.blur_ratio * base:
            # no detail left: a blurred view keeps its big shapes, a covered one does not (a low-contrast
            # scene's cover can keep more of the reference's variation than cover_ratio)
            layout = layout_similarity(ref, scene) if ref is not None else 1.0
            metrics["layout"] = round(layout, 3)
            reasons.append("covered" if layout < COVER_LAYOUT else "blurred")
    if not reasons and ref is not None:
        inliers, shift = alignment(ref, scene)
        metrics.update(inliers=inliers, shift=round(shift, 3))
        if inliers < s.min_inliers or shift > s.max_shift:
            reasons.append("moved")
    return reasons


def _learn(scene: np.ndarray, var: float, sharp: float, mode: str, ref: np.ndarray | None,
           mem: dict[str, Any]) -> None:
    """A good visit: the reference view (first one) and this light mode's sharpness baseline."""
    if ref is None:
        mem["reference"] = encode_ref(scene)
        mem["reference_variation"] = var
    bases = dict(mem.get("sharpness_baseline") or {})
    counts = dict(mem.get("baseline_visits") or {})
    base, n = bases.get(mode), int(counts.get(mode, 0))
    if n < BASELINE_VISITS:
        bases[mode] = (float(base or 0.0) * n + sharp) / (n + 1)
        counts[mode] = n + 1
    else:
        bases[mode] = 0.95 * float(base or 0.0) + 0.05 * sharp
    mem["sharpness_baseline"], mem["baseline_visits"] = bases, counts


def thumbnail(frame: np.ndarray, width: int = 160) -> bytes:
    """A small PNG of the picture (for events, retained state and the contact sheet)."""
    h, w = frame.shape[:2]
    small = cv2.resize(frame, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".png", small)
    assert ok
    return buf.tobytes()
