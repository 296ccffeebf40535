"""FLIR Lepton 3.5 on a PureThermal board (UVC Y16, 160x120 radiometric, 0.01 K per count).

degC = (raw - 27315) / 100 (drivers/thermal/codec.py). The board must be in its
radiometric TLinear mode (the default PureThermal firmware is). At 57 degrees
field of view a face 1.1 m away is about 20 pixels wide: enough to track and to
find the eye band, but the canthus is blurred; readings run low unless people
come closer or a narrower lens is used (see docs/screening.md).

    - {id: gate-cam, kind: thermal_camera, driver: lepton, device: /dev/video0,
       blackbody: {roi: [150, 5, 5, 5], temp_c: 35.0}}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drivers.base import DriverSpec, Resources
from drivers.thermal.sources import FrameSource, lepton_source
from edge.config.schema import Field, Str

FIELDS = {
    "device": Field(Str(min_len=1), "video device path (/dev/video0) or index", default="/dev/video0"),
}


def frames(config: dict[str, Any], resources: Resources) -> Callable[[], FrameSource]:
    return lambda: lepton_source(config["device"])


SPEC = DriverSpec(kind="thermal_camera", driver="lepton", fields=FIELDS, frames=frames,
                  doc="FLIR Lepton 3.5 on PureThermal (UVC Y16, 160x120)")
