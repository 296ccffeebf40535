"""Fit a snapshot under a service's size limit (WeCom: 2 MB before base64, PNG or JPG).

Thermal snapshots are small (a few KB at 32x24 or 256x192), but a visible-light camera or a
future driver may hand the journal a large PNG: re-encode it, then downscale, rather than lose it.
"""

from __future__ import annotations

import cv2
import numpy as np


def fit_image(data: bytes, limit: int) -> bytes | None:
    """``data`` if it is at most ``limit`` bytes, else a smaller PNG or JPEG of it, else None.

    Tries a maximally compressed PNG, then JPEG at falling quality, then halves the size, until it
    fits; None when the image cannot be decoded or never fits (the caller then says so in the text).
    """
    if len(data) <= limit:
        return data
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if img is None:
        return None
    if img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)  # JPEG has no alpha; snapshots are opaque
    for _ in range(8):
        ok, png = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, 9])
        if ok and len(png) <= limit:
            return png.tobytes()
        for quality in (90, 80, 70):
            ok, jpg = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok and len(jpg) <= limit:
                return jpg.tobytes()
        h, w = img.shape[:2]
        if min(h, w) < 16:
            return None
        img = cv2.resize(img, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
    return None
