"""Face-like blobs in a corrected thermal frame.

Skin mask (skin_min_c..skin_max_c) minus anything next to a hotter object
(cups, heaters, their blurred rims), minus static masks and the blackbody;
a light opening; connected components; then keep the blobs a face could make:
width within the lens/distance range, upright (face plus neck), compact, not
cut by the frame edge (a wall, or a person not fully in view), and with the
internal spread of a face (hair line, nose, eyes) rather than a uniform surface.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import cv2
import numpy as np

from edge.screening.numeric import quantiles

MIN_ASPECT, MAX_ASPECT = 0.8, 2.8  # height / width: a face alone is ~1.2, with neck up to ~2.5
MIN_FILL = 0.45  # area / bounding box
MIN_SPREAD_C = 0.3  # p95 - p50 of the blob: eyes and forehead stand out of a face; a blackbody is flat


@dataclass(frozen=True)
class Blob:
    x: int
    y: int
    w: int
    h: int
    area: int
    label: int
    cx: float
    cy: float
    skin_c: float = float("nan")  # median of the blob: its skin's own level, which differs between people


class FaceFinder:
    def __init__(self, shape: tuple[int, int], skin_min_c: float, skin_max_c: float,
                 widths: tuple[int, int], masks: list[tuple[int, int, int, int]]) -> None:
        self.h, self.w = shape
        self.lo, self.hi = float(skin_min_c), float(skin_max_c)
        self.min_w, self.max_w = widths
        self.keep = np.full(shape, 255, np.uint8)  # 0 where statically masked
        for x, y, w, h in masks:
            self.keep[max(0, y):max(0, y + h), max(0, x):max(0, x + w)] = 0
        small = self.w < 96  # a 32x24 sensor cannot afford an opening
        self.open_kernel = None if small else cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
        margin = 1 if small else max(2, self.w // 64)
        self.hot_kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
        self.labels = np.zeros(shape, np.int32)
        self.stats = np.zeros((1, 5), np.int32)  # per component: x, y, w, h, area (OpenCV's layout)
        self.rejected: dict[str, int] = {}

    def find(self, celsius: np.ndarray) -> list[Blob]:
        skin = cv2.inRange(celsius, self.lo, self.hi)
        hot = cv2.compare(celsius, self.hi, cv2.CMP_GT)  # type: ignore[call-overload]  # a scalar is fine
        if cv2.countNonZero(hot):
            cv2.bitwise_and(skin, cv2.bitwise_not(cv2.dilate(hot, self.hot_kernel)), dst=skin)
        cv2.bitwise_and(skin, self.keep, dst=skin)
        if self.open_kernel is not None:
            skin = cv2.morphologyEx(skin, cv2.MORPH_OPEN, self.open_kernel)
        n, self.labels, self.stats, cents = cv2.connectedComponentsWithStats(  # type: ignore[assignment]
            skin, connectivity=8, ltype=cv2.CV_32S)
        stats = self.stats
        out: list[Blob] = []
        for i in range(1, n):
            x, y, w, h, area = (int(v) for v in stats[i])
            why = self._reject(x, y, w, h, area)
            blob = Blob(x, y, w, h, area, i, float(cents[i][0]), float(cents[i][1]))
            if why is None:
                blob = lower_face(self.labels, blob)
                x, y, w, h = blob.x, blob.y, blob.w, blob.h
                if w < self.min_w:
                    why = "small"
            if why is None:
                roi = celsius[y:y + h, x:x + w][self.labels[y:y + h, x:x + w] == i]
                p50, p95 = quantiles(roi, (0.5, 0.95))
                if p95 - p50 < MIN_SPREAD_C:
                    why = "uniform"
                blob = dataclasses.replace(blob, skin_c=float(p50))
            if why is not None:
                self.rejected[why] = self.rejected.get(why, 0) + 1
                continue
            out.append(blob)
        return out

    def _reject(self, x: int, y: int, w: int, h: int, area: int) -> str | None:
        if w < self.min_w:
            return "small"
        if w > self.max_w:
            return "large"
        if x == 0 or y == 0 or x + w >= self.w or y + h >= self.h:
            return "edge"
        if not MIN_ASPECT <= h / w <= MAX_ASPECT:
            return "shape"
        if area < MIN_FILL * w * h:
            return "shape"
        return None


def row_spans(mask: np.ndarray) -> np.ndarray:
    """Per row, rightmost - leftmost + 1 of the mask (0 for empty rows); holes (glasses) do not count."""
    any_ = mask.any(axis=1)
    left = mask.argmax(axis=1)
    right = mask.shape[1] - 1 - mask[:, ::-1].argmax(axis=1)
    return np.where(any_, right - left + 1, 0)


def lower_face(labels: np.ndarray, blob: Blob) -> Blob:
    """Cut a smaller head standing behind (above) a nearer face off the blob.

    In a queue, blur melts the thin band of hair between a face and the one behind it, making one blob:
    its row widths rise to the far face, narrow at the join, then rise again to the near face. A single
    face (with its neck) widens once and narrows once. Returns the part below the narrowest row of the join,
    unless the part above is flat and centred (a forehead above glasses: the measurement deals with that).
    """
    mask = labels[blob.y:blob.y + blob.h, blob.x:blob.x + blob.w] == blob.label
    spans = row_spans(mask)
    widest = int(spans.argmax())
    peak = 0
    for r in range(widest):
        peak = max(peak, int(spans[r]))
        if peak >= 0.5 * spans[widest] and spans[r] <= 0.85 * peak and peak - spans[r] >= 2:
            cut = r + int(spans[r:widest].argmin()) + 1
            top = np.flatnonzero(mask[:cut].any(axis=0))
            top_w, below = top[-1] - top[0] + 1, int(spans[widest])
            flat = cut <= 0.4 * below and top_w >= 0.5 * below
            if flat and abs((top[0] + top[-1]) / 2 - blob.w / 2) <= 0.25 * blob.w:
                return blob  # flat and centred: a forehead above glasses, not a head behind
            sub = mask[cut:]
            cols = np.flatnonzero(sub.any(axis=0))
            ys, xs = np.nonzero(sub)
            return Blob(blob.x + int(cols[0]), blob.y + cut, int(cols[-1] - cols[0] + 1), int(sub.shape[0]),
                        int(ys.size), blob.label, float(blob.x + xs.mean()), float(blob.y + cut + ys.mean()))
    return blob
