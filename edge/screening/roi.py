"""Is the blackbody ROI on the blackbody? A check against real frames that names the problem and a fix.

A blurred blackbody has soft edges, so an ROI drawn across an edge is never uniform and every frame
would be degraded; an ROI off the blackbody reads the wall. ``check_roi`` looks at a few frames (their
median, so noise and a passing head do not count) and says what is wrong in words an installer can act
on, with an ROI a few pixels inside the plateau it finds near the configured one.
"""

from __future__ import annotations

import cv2
import numpy as np

from edge.screening.numeric import quantiles

MAX_SPREAD_C = 0.6  # p90 - p10 inside the ROI (as reference.py)
GOOD_SPREAD_C = 0.3  # what a suggested ROI must reach


def roi_stats(frame: np.ndarray, roi: tuple[int, int, int, int]) -> tuple[float, float] | None:
    """(median, p90 - p10) of the ROI, or None when it lies outside the frame."""
    x, y, w, h = roi
    patch = frame[y:y + h, x:x + w]
    if patch.size == 0 or x + w > frame.shape[1] or y + h > frame.shape[0]:
        return None
    lo, med, hi = quantiles(patch, (0.1, 0.5, 0.9))
    return float(med), float(hi - lo)


def check_roi(frames: list[np.ndarray] | np.ndarray, roi: tuple[int, int, int, int] | list[int],
              temp_c: float, max_offset_c: float = 3.0) -> str | None:
    """What is wrong with this blackbody ROI on these frames (degC), or None when it is fine."""
    stack = np.asarray(frames, dtype=np.float32)
    frame = np.median(stack, axis=0) if stack.ndim == 3 else stack
    box = tuple(int(v) for v in roi)
    shown = f"[{', '.join(str(v) for v in box)}]"
    stats = roi_stats(frame, box)  # type: ignore[arg-type]
    if stats is None:
        return f"ROI {shown} lies outside the {frame.shape[1]}x{frame.shape[0]} frame"
    med, spread = stats
    problem = None
    if spread > MAX_SPREAD_C:
        problem = f"ROI {shown} spans the blackbody's edge: p90-p10 = {spread:.1f} °C"
    elif abs(med - temp_c) > max_offset_c:
        problem = (f"ROI {shown} reads {med:.1f} °C, {abs(med - temp_c):.1f} °C from the blackbody's set "
                   f"{temp_c:g} °C: it is not on the blackbody (or the blackbody is off)")
    if problem is None:
        return None
    better = suggest_roi(frame, roi, temp_c, max_offset_c)  # type: ignore[arg-type]
    if better is None:
        return f"{problem}; no uniform area near {temp_c:g} °C in view: is the blackbody on and in view?"
    return f"{problem}; use an ROI inside it, e.g. [{', '.join(str(v) for v in better)}]"


def suggest_roi(frame: np.ndarray, roi: tuple[int, int, int, int], temp_c: float,
                max_offset_c: float = 3.0) -> tuple[int, int, int, int] | None:
    """The largest square window (down to 3 px) that is uniform and reads near the set temperature,
    nearest the configured ROI's centre; its edges kept a pixel off the plateau's soft border."""
    near = _search(frame, roi, temp_c, max_offset_c, reach=1.5 * max(roi[2], roi[3]) + 4)
    return near or _search(frame, roi, temp_c, max_offset_c, reach=float("inf"))


def _search(frame: np.ndarray, roi: tuple[int, int, int, int], temp_c: float, max_offset_c: float,
            reach: float) -> tuple[int, int, int, int] | None:
    f = frame.astype(np.float64)
    cx, cy = roi[0] + roi[2] / 2, roi[1] + roi[3] / 2
    for size in range(max(3, min(roi[2], roi[3])), 2, -1):
        k = (size, size)
        mean = cv2.blur(f, k, borderType=cv2.BORDER_REPLICATE)
        sd = np.sqrt(np.maximum(cv2.blur(f * f, k, borderType=cv2.BORDER_REPLICATE) - mean * mean, 0))
        ok = (2.56 * sd <= GOOD_SPREAD_C) & (np.abs(mean - temp_c) <= max_offset_c)
        half = size // 2
        ok[:half, :] = ok[frame.shape[0] - (size - half) + 1:, :] = False
        ok[:, :half] = ok[:, frame.shape[1] - (size - half) + 1:] = False
        ys, xs = np.nonzero(ok)
        keep = (xs + 0.5 - cx) ** 2 + (ys + 0.5 - cy) ** 2 <= reach ** 2
        ys, xs = ys[keep], xs[keep]
        if ys.size == 0:
            continue
        # the window's top-left corner for a centre (x, y) of cv2.blur's anchor
        order = np.argsort((xs + 0.5 - cx) ** 2 + (ys + 0.5 - cy) ** 2)
        for i in order[:50]:
            cand = (int(xs[i] - half), int(ys[i] - half), size, size)
            stats = roi_stats(frame, cand)
            if stats is not None and stats[1] <= GOOD_SPREAD_C and abs(stats[0] - temp_c) <= max_offset_c:
                return cand
    return None
