"""Melexis MLX90640 (32x24, I2C) through adafruit-circuitpython-mlx90640 (optional extra).

Install with ``pip install 'campus-edge[mlx90640]'`` (and Blinka on the Pi);
without it the camera reports ``camera_offline`` saying so and the agent runs on.
Pixels that fail calibration read -273.15: they are masked and filled from
their neighbours (drivers/thermal/codec.py).

At 32x24 a face at a metre is 3 to 5 pixels wide: the inner canthus cannot be
resolved. This driver therefore defaults to ``method: face_max`` (mean of the
hottest two face pixels + canthus_offset_c, which you should calibrate) and
reports a wide uncertainty (1.0 degC by default) with every alert. Use it as a
coarse first filter, never as a measurement.

    - {id: door-cam, kind: thermal_camera, driver: mlx90640, refresh_hz: 8}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drivers.base import DriverSpec, Resources
from drivers.thermal.sources import FrameSource, Mlx90640Source
from edge.config.schema import Field, Int

FIELDS = {
    "refresh_hz": Field(Int(min=1, max=16), "sensor refresh rate: 1, 2, 4, 8 or 16 Hz", default=8),
    "i2c_frequency": Field(Int(min=100_000, max=1_000_000), "I2C clock in Hz (8 Hz needs 800 kHz)",
                           default=800_000),
}


def check(entry: dict, path: str, errors: list[str]) -> None:
    if entry["refresh_hz"] not in (1, 2, 4, 8, 16):
        errors.append(f"{path}.refresh_hz: expected 1, 2, 4, 8 or 16, got {entry['refresh_hz']}")


def frames(config: dict[str, Any], resources: Resources) -> Callable[[], FrameSource]:
    return lambda: Mlx90640Source(config["refresh_hz"], config["i2c_frequency"])


SPEC = DriverSpec(kind="thermal_camera", driver="mlx90640", fields=FIELDS, frames=frames, check=check,
                  defaults={"method": "face_max"},  # 32x24 cannot resolve the canthus
                  doc="Melexis MLX90640 32x24 on I2C (coarse: face maximum, wide uncertainty)")
