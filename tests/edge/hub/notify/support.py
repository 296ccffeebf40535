"""Hand-made alerts and snapshots for the notification tests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from edge.config.schema import validate
from edge.hub.model import Alert
from edge.hub.notify.config import CHANNELS

TZ = ZoneInfo("Asia/Shanghai")


def ts(hh: int, mm: int, ss: int = 5) -> int:
    return int(datetime(2026, 12, 1, hh, mm, ss, tzinfo=TZ).timestamp() * 1000)


def fever(alert_id: int = 17, place: str = "东门", snapshot_path: str | None = None, **fields) -> Alert:
    f = {"track": 3, "temp_c": 38.14, "threshold_c": 37.3, "uncertainty_c": 0.3, "frames": 6,
         "blackbody": True, **fields}
    return Alert(alert_id, "mh-primary", "gate-east", "cam", "fever", ts(7, 42), 5, f, place=place,
                 snapshot_path=snapshot_path)


def png(width: int = 64, height: int = 48, noise: bool = False) -> bytes:
    """A real PNG: a gradient (tiny), or noise (incompressible, for the size limit)."""
    if noise:
        img = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    else:
        img = np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))
        img = cv2.applyColorMap(img, cv2.COLORMAP_INFERNO)
    ok, data = cv2.imencode(".png", img)
    assert ok
    return data.tobytes()


def channel_cfg(raw: dict) -> dict:
    """One raw `channels:` entry, validated like the hub's config file."""
    return validate(CHANNELS, [raw])[0]
