"""Small numeric helpers shared by the screening steps."""

from __future__ import annotations

import numpy as np


def quantiles(values: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    """Nearest-rank quantiles by one partition (np.percentile costs ~40 us of Python per call)."""
    flat = values.ravel()
    idx = [min(flat.size - 1, max(0, round(q * (flat.size - 1)))) for q in qs]
    part = np.partition(flat, idx)
    return [float(part[i]) for i in idx]
