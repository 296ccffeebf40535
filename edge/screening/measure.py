"""Temperature of one face: the inner-canthus band, not a single hottest pixel.

The inner canthus (where the eyelids meet beside the nose) is the most stable
skin proxy of core temperature. In a face blob (hair is below the skin range,
so the blob starts at the hairline) the eyes lie about 0.4 face widths below
its top; we take the band from 0.2 to 0.65 widths down and the middle 60 % of
the width (the canthi sit within 0.1 widths of the middle; a face merged at
the side stays out), and average its hottest few pixels (their number grows
with the face's width), so one noisy pixel cannot make a fever. Glasses are
opaque in the long-wave infrared: they punch cold holes into the eye band, or
cut the face in two (forehead above, cheeks below: then a flat piece of skin
sits right above the blob's top instead of hair); such a face is reported as
covered and its canthus is never measured.

Covered eyes fall back to the forehead (``measure_forehead``): the skin band
between the hairline and the glasses (or the forehead piece the glasses cut
off), whose upper quartile stands for the forehead's temperature. It is a
much weaker proxy of the core (it follows the room and the walk in), so the
tracker only uses it to ask for a re-screen, never to alert a fever.

``face_max`` (for 32x24 sensors, where a face is 3-5 pixels wide and no canthus
can be resolved) averages the hottest two pixels of the whole blob; its
uncertainty is wide and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge.screening.faces import Blob
from edge.screening.numeric import quantiles

BAND = (0.2, 0.65)  # rows, in face widths below the blob's top
EYES = (0.3, 0.55)  # where glasses would sit
MAX_HOLES = 0.12  # share of the eye rows' span that is not skin


FOREHEAD = (0.04, 0.26)  # rows, in face widths below the blob's top: above the glasses (EYES)
FOREHEAD_Q = 0.75  # the upper quartile: off the edges that blur into hair and lenses, robust to noise


@dataclass(frozen=True)
class Measurement:
    canthus_c: float | None  # None: eyes covered
    pixels: int
    covered: bool = False
    forehead_c: float | None = None  # covered eyes only: the forehead's temperature, None if not resolved


def blur_compensation(table: tuple[tuple[float, float], ...], width_px: float) -> float:
    """degC the optics took off the canthus of a face this many pixels wide (interpolated, held at ends)."""
    if not table:
        return 0.0
    if width_px <= table[0][0]:
        return table[0][1]
    for (w0, c0), (w1, c1) in zip(table, table[1:], strict=False):
        if width_px <= w1:
            return c0 + (c1 - c0) * (width_px - w0) / (w1 - w0)
    return table[-1][1]


SPIKE_C = 0.5  # a lone pixel this much above the next hottest is a defect or noise, not a canthus


def hottest_mean(values: np.ndarray, k: int) -> float:
    """Mean of the k hottest values, after dropping up to two lone spikes.

    There are two canthi and the optics spread each over a few pixels, so a real
    hot spot never stands alone more than SPIKE_C above its runner-up.
    """
    n = min(k + 2, values.size)
    if n <= 0:
        return float("nan")
    top = np.sort(np.partition(values, values.size - n)[values.size - n:])[::-1]
    start = 0
    while start < 2 and start + 1 < top.size and top[start] - top[start + 1] > SPIKE_C:
        start += 1
    return float(top[start:start + k].mean())


def eyes_covered(mask: np.ndarray) -> bool:
    """Cold holes inside the skin between the leftmost and rightmost skin pixels of the eye rows."""
    rows = mask[mask.any(axis=1)]
    if rows.shape[0] == 0:
        return True
    cols = rows.shape[1]
    left = rows.argmax(axis=1)
    right = cols - 1 - rows[:, ::-1].argmax(axis=1)
    span = (right - left + 1).sum()
    return bool(span <= 0 or 1.0 - rows.sum() / span > MAX_HOLES)


def forehead_above(labels: np.ndarray, stats: np.ndarray, blob: Blob) -> int:
    """A wide, flat skin component just above the blob and centred on it: a forehead cut off by glasses.

    Returns its label (0: none). (A smaller face behind, peeking over a head, is taller than wide, or off
    centre.)
    """
    reach = max(2, round(0.35 * blob.w))
    above = labels[max(0, blob.y - reach):blob.y, blob.x:blob.x + blob.w]
    centre = blob.x + blob.w / 2
    for label in np.unique(above):
        if label == 0 or label == blob.label:  # our own label above us: a head behind, cut off
            continue
        x, _, w, h, _ = stats[label]
        if w >= 0.45 * blob.w and h < w and abs(x + w / 2 - centre) <= 0.25 * blob.w:
            return int(label)
    return 0


def measure_forehead(celsius: np.ndarray, labels: np.ndarray, stats: np.ndarray, blob: Blob,
                     cut_label: int) -> float | None:
    """Upper quartile of the forehead: the band above the glasses, or the piece they cut off (cut_label)."""
    w = blob.w
    c0, c1 = blob.x + int(0.2 * w), blob.x + max(int(0.2 * w) + 1, round(0.8 * w))
    if cut_label:
        top, height = int(stats[cut_label][1]), int(stats[cut_label][3])
        r0, r1, label = top, top + height, cut_label
    else:
        r0, r1, label = blob.y + int(FOREHEAD[0] * w), blob.y + max(1, round(FOREHEAD[1] * w)), blob.label
    values = celsius[r0:r1, c0:c1][labels[r0:r1, c0:c1] == label]
    if values.size < 4:
        return None
    (q,) = quantiles(values, (FOREHEAD_Q,))
    return q


def measure_canthus(celsius: np.ndarray, labels: np.ndarray, stats: np.ndarray, blob: Blob) -> Measurement:
    w = blob.w
    r0, r1 = blob.y + int(BAND[0] * w), blob.y + max(int(BAND[0] * w) + 1, round(BAND[1] * w))
    c0, c1 = blob.x + int(0.2 * w), blob.x + max(int(0.2 * w) + 1, round(0.8 * w))
    mask = labels[r0:r1, c0:c1] == blob.label
    e0, e1 = blob.y + int(EYES[0] * w), blob.y + max(int(EYES[0] * w) + 1, round(EYES[1] * w))
    cut = forehead_above(labels, stats, blob)
    if cut or eyes_covered(labels[e0:e1, blob.x:blob.x + w] == blob.label):
        forehead = measure_forehead(celsius, labels, stats, blob, cut)
        return Measurement(None, 0, covered=True, forehead_c=forehead)
    values = celsius[r0:r1, c0:c1][mask]
    k = int(np.clip(round(w / 12), 2, 6))  # two canthi of a near face cover a few pixels
    return Measurement(hottest_mean(values, k), k)


def measure_face_max(celsius: np.ndarray, labels: np.ndarray, stats: np.ndarray, blob: Blob) -> Measurement:
    sub = celsius[blob.y:blob.y + blob.h, blob.x:blob.x + blob.w]
    values = sub[labels[blob.y:blob.y + blob.h, blob.x:blob.x + blob.w] == blob.label]
    return Measurement(hottest_mean(values, 2), 2)

