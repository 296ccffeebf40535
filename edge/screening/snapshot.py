"""The thermal crop sent with a fever alert: false colour, PNG, nothing kept.

Only thermal pixels ever leave the pipeline (no visible-light camera exists in
this system), only inside the alert, and the crop is encoded in memory.
"""

from __future__ import annotations

import cv2
import numpy as np

LOW_C, HIGH_C = 25.0, 40.0
MIN_SIDE = 96  # crops are enlarged (nearest neighbour) to at least this many pixels


def crop(celsius: np.ndarray, bbox: tuple[int, int, int, int], pad: float = 0.3) -> np.ndarray:
    x, y, w, h = bbox
    px, py = round(w * pad), round(h * pad)
    hh, ww = celsius.shape
    return celsius[max(0, y - py):min(hh, y + h + py), max(0, x - px):min(ww, x + w + px)]


def false_colour_png(celsius: np.ndarray, low_c: float = LOW_C, high_c: float = HIGH_C) -> bytes:
    scaled = np.clip((celsius - low_c) * (255.0 / (high_c - low_c)), 0, 255).astype(np.uint8)
    img = cv2.applyColorMap(scaled, cv2.COLORMAP_INFERNO)
    factor = max(1, -(-MIN_SIDE // max(1, min(img.shape[:2]))))
    if factor > 1:
        img = cv2.resize(img, None, fx=factor, fy=factor, interpolation=cv2.INTER_NEAREST)
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return buf.tobytes()
