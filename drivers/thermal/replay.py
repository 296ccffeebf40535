"""Replay: plays an (N, H, W) float32 degC array from a .npy file at ``fps``, then idles.

This is how recorded or synthetic scenes (``python -m simulators.gate_scene``)
feed a real agent; the frames take the same path through the screening
pipeline as a camera's.

    - {id: gate-cam, kind: thermal_camera, driver: replay, path: scene.npy, fps: 9,
       blackbody: {roi: [242, 6, 8, 8], temp_c: 35.0}}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drivers.base import DriverSpec, Resources
from drivers.thermal.sources import FrameSource, ReplaySource
from edge.config.schema import Field, Float, Str

FIELDS = {
    "path": Field(Str(min_len=1), "the .npy file: (N, H, W) float32 degC", required=True),
    "fps": Field(Float(min=0.1, max=100), "frames per second to play at", default=9.0),
}


def frames(config: dict[str, Any], resources: Resources) -> Callable[[], FrameSource]:
    # The file itself is checked when the camera opens, like a USB camera: a config may be
    # checked before its scene is recorded, and a missing file is `camera_offline`, not a crash.
    return lambda: ReplaySource(config["path"], config["fps"])


SPEC = DriverSpec(kind="thermal_camera", driver="replay", fields=FIELDS, frames=frames,
                  doc="Replay: a recorded or synthetic thermal scene (.npy, degC) through fever screening")
