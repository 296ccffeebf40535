"""InfiRay P2 Pro / TOPDON TC001 (and kin) on USB (UVC) through OpenCV.

The camera shows up as a 256x384 YUYV video device: with RGB conversion off,
its lower 256x192 half carries one little-endian uint16 per pixel,
degC = raw / 64 - 273.15 (drivers/thermal/codec.py). The first frame is checked
at start-up: any other shape fails with the expected and actual shapes (wrong
/dev/video node: these cameras often expose two).

    - {id: gate-cam, kind: thermal_camera, driver: uvc_p2pro, device: /dev/video0,
       blackbody: {roi: [236, 8, 10, 10], temp_c: 35.0}}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drivers.base import DriverSpec, Resources
from drivers.thermal.sources import FrameSource, p2pro_source
from edge.config.schema import Field, Str

FIELDS = {
    "device": Field(Str(min_len=1), "video device path (/dev/video0) or index", default="/dev/video0"),
}


def frames(config: dict[str, Any], resources: Resources) -> Callable[[], FrameSource]:
    return lambda: p2pro_source(config["device"])


SPEC = DriverSpec(kind="thermal_camera", driver="uvc_p2pro", fields=FIELDS, frames=frames,
                  doc="InfiRay P2 Pro / TOPDON TC001 USB thermal camera (UVC, 256x192)")
