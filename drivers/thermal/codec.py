"""Pure decoders (and, for simulators and tests, encoders) of thermal camera frames.

Every decoder turns what a camera driver hands us into a float32 array of
degrees Celsius, rows top to bottom. Nothing here touches a device.

- InfiRay P2 Pro / TOPDON TC001 (UVC, YUYV 256x384 with CONVERT_RGB off): the
  upper 192 rows are the camera's own false-colour picture, the lower 192 rows
  carry one little-endian uint16 per pixel; degC = raw / 64 - 273.15.
- FLIR Lepton 3.5 on a PureThermal board (UVC Y16, 160x120, radiometric
  TLinear at 0.01 K): degC = (raw - 27315) / 100.
- Melexis MLX90640 (32x24, I2C) through adafruit_mlx90640: ``getFrame`` fills
  768 floats in degC, row-major; pixels that failed calibration read -273.15.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

KELVIN = 273.15

P2PRO_WIDTH, P2PRO_HEIGHT = 256, 192  # thermal image; the UVC frame is twice as tall
LEPTON_WIDTH, LEPTON_HEIGHT = 160, 120
MLX_WIDTH, MLX_HEIGHT = 32, 24
MLX_DEAD = -273.15
MLX_MAX_DEAD_SHARE = 0.05  # beyond this the sensor (or the I2C read) is broken, not a few pixels


class FrameShapeError(ValueError):
    """The camera delivers frames of another shape than its decoder expects (wrong camera or mode)."""


@dataclass(frozen=True)
class ThermalFrame:
    celsius: np.ndarray  # float32 (H, W)
    ts: float  # seconds since the epoch, when the frame was read


def _as_2d(raw: np.ndarray, height: int, width: int, channels: int, what: str) -> np.ndarray:
    """OpenCV backends return a raw UVC frame as (H, W, C), (1, N) or (N,): accept all of them."""
    arr = np.asarray(raw)
    want = height * width * channels
    if arr.size != want:
        raise FrameShapeError(
            f"{what}: expected a frame of {width}x{height}"
            f"{'x' + str(channels) if channels > 1 else ''} ({want} values), got shape {arr.shape}"
            " (is this the right camera, and is CAP_PROP_CONVERT_RGB off?)"
        )
    return arr.reshape((height, width, channels) if channels > 1 else (height, width))


def decode_p2pro(raw: np.ndarray) -> np.ndarray:
    """P2 Pro / TC001 UVC frame (uint8, 384x256x2 YUYV bytes) -> (192, 256) float32 degC."""
    if np.asarray(raw).dtype != np.uint8:
        raise FrameShapeError(f"P2 Pro: expected uint8 YUYV bytes, got {np.asarray(raw).dtype}")
    frame = _as_2d(raw, 2 * P2PRO_HEIGHT, P2PRO_WIDTH, 2, "P2 Pro")
    lower = np.ascontiguousarray(frame[P2PRO_HEIGHT:])  # (192, 256, 2): low byte, high byte
    counts = lower.view("<u2").reshape(P2PRO_HEIGHT, P2PRO_WIDTH)
    return (counts.astype(np.float32) / np.float32(64.0)) - np.float32(KELVIN)


def encode_p2pro(celsius: np.ndarray) -> np.ndarray:
    """The inverse, for simulators and tests: (192, 256) degC -> (384, 256, 2) uint8 frame."""
    c = np.asarray(celsius, dtype=np.float64)
    if c.shape != (P2PRO_HEIGHT, P2PRO_WIDTH):
        raise FrameShapeError(f"P2 Pro: can only encode {P2PRO_WIDTH}x{P2PRO_HEIGHT}, got {c.shape}")
    counts = np.clip(np.rint((c + KELVIN) * 64.0), 0, 65535).astype("<u2")
    out = np.zeros((2 * P2PRO_HEIGHT, P2PRO_WIDTH, 2), dtype=np.uint8)
    out[:P2PRO_HEIGHT, :, 0] = 16  # upper half: a black YUYV picture (never used)
    out[:P2PRO_HEIGHT, :, 1] = 128
    out[P2PRO_HEIGHT:] = counts.view(np.uint8).reshape(P2PRO_HEIGHT, P2PRO_WIDTH, 2)
    return out


def decode_lepton(raw: np.ndarray, width: int = LEPTON_WIDTH, height: int = LEPTON_HEIGHT) -> np.ndarray:
    """Lepton Y16 frame (uint16 TLinear, 0.01 K per count) -> (height, width) float32 degC."""
    arr = np.asarray(raw)
    if arr.dtype == np.uint8:  # some backends hand Y16 over as bytes
        arr = np.ascontiguousarray(arr).view("<u2")
    if arr.dtype != np.uint16:
        raise FrameShapeError(f"Lepton: expected Y16 (uint16) frames, got {arr.dtype}")
    counts = _as_2d(arr, height, width, 1, "Lepton")
    return (counts.astype(np.float32) - np.float32(27315.0)) / np.float32(100.0)


def encode_lepton(celsius: np.ndarray) -> np.ndarray:
    c = np.asarray(celsius, dtype=np.float64)
    return np.clip(np.rint(c * 100.0 + 27315.0), 0, 65535).astype(np.uint16)


@dataclass(frozen=True)
class MlxFrame:
    celsius: np.ndarray  # (24, 32) float32, dead pixels filled from their neighbours
    dead: np.ndarray  # (24, 32) bool


def decode_mlx90640(values: Sequence[float] | np.ndarray) -> MlxFrame:
    """768 floats from adafruit_mlx90640.getFrame -> (24, 32) degC with dead pixels masked and filled.

    A dead pixel (-273.15, or not finite) takes the mean of its live 3x3 neighbours so that blob
    shapes stay whole; ``dead`` says which ones, so no measurement relies on them alone.
    """
    arr = np.asarray(values, dtype=np.float32)
    grid = _as_2d(arr, MLX_HEIGHT, MLX_WIDTH, 1, "MLX90640").copy()
    dead = ~np.isfinite(grid) | (grid <= MLX_DEAD + 0.01)
    if dead.mean() > MLX_MAX_DEAD_SHARE:
        raise ValueError(f"MLX90640: {int(dead.sum())} of 768 pixels dead; sensor or I2C read is broken")
    if dead.any():
        live = np.where(dead, 0.0, grid).astype(np.float32)
        weight = (~dead).astype(np.float32)
        pad_l, pad_w = np.pad(live, 1), np.pad(weight, 1)
        sums = sum(pad_l[r:r + MLX_HEIGHT, c:c + MLX_WIDTH] for r in range(3) for c in range(3))
        counts = sum(pad_w[r:r + MLX_HEIGHT, c:c + MLX_WIDTH] for r in range(3) for c in range(3))
        fill = np.where(counts > 0, sums / np.maximum(counts, 1), np.nanmedian(np.where(dead, np.nan, grid)))
        grid[dead] = fill[dead]
    return MlxFrame(grid.astype(np.float32), dead)


def encode_mlx90640(celsius: np.ndarray, dead: np.ndarray | None = None) -> list[float]:
    """(24, 32) degC -> the 768-float list getFrame fills, with -273.15 where ``dead``."""
    c = np.asarray(celsius, dtype=np.float32).copy()
    if c.shape != (MLX_HEIGHT, MLX_WIDTH):
        raise FrameShapeError(f"MLX90640: can only encode 32x24, got {c.shape}")
    if dead is not None:
        c[dead] = MLX_DEAD
    return [float(v) for v in c.ravel()]
