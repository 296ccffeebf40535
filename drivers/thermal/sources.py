"""Frame sources: the only code that touches a camera. Each yields ThermalFrame (degC + time).

A source is opened by its constructor and read in the camera device's thread;
``read()`` returns the next frame, None when there is nothing now (a replay
that has ended idles), and raises SourceError when the camera is gone.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from drivers.thermal import codec
from drivers.thermal.codec import FrameShapeError, ThermalFrame


class SourceError(RuntimeError):
    """The camera cannot be opened or stopped delivering; the device reports it and retries."""


class FrameSource(Protocol):
    def read(self) -> ThermalFrame | None: ...

    def close(self) -> None: ...


class NpyFrames:
    """The frames of an (N, H, W) float .npy file (degC), read one at a time with plain reads.

    Not memory-mapped: a mapped file that shrinks while it plays (truncated, rewritten in place)
    kills the whole process with SIGBUS at the next frame, relays and all. A short read here is a
    SourceError, which the camera reports as ``camera_offline`` and retries.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        try:
            self.file = open(path, "rb")  # noqa: SIM115 (kept open while it plays; closed by close())
        except OSError as exc:
            raise SourceError(f"cannot read replay file {path}: {exc.strerror or exc}") from None
        try:
            shape, fortran, dtype = _npy_header(self.file)
            self.offset = self.file.tell()
        except (OSError, ValueError) as exc:
            self.file.close()
            raise SourceError(f"cannot read replay file {path}: {exc}") from None
        if len(shape) != 3 or shape[0] < 1 or not np.issubdtype(dtype, np.floating) or fortran:
            self.file.close()
            raise SourceError(f"replay file {path}: expected an (N, H, W) float array of degC in C order, "
                              f"got shape {shape} {dtype}{' (Fortran order)' if fortran else ''}")
        self.count, self.height, self.width = shape
        self.dtype = dtype
        self.frame_bytes = self.height * self.width * dtype.itemsize
        self.check_size()

    def __len__(self) -> int:
        return self.count

    def check_size(self) -> None:
        size = os.fstat(self.file.fileno()).st_size
        if size < self.offset + self.count * self.frame_bytes:
            have = max(0, size - self.offset) // self.frame_bytes
            raise SourceError(f"replay file {self.path} is truncated: {have} of {self.count} frames "
                              f"({size} bytes)")

    def frame(self, index: int) -> np.ndarray:
        self.file.seek(self.offset + index * self.frame_bytes)
        data = self.file.read(self.frame_bytes)
        if len(data) < self.frame_bytes:
            raise SourceError(f"replay file {self.path} was truncated while playing: frame {index} of "
                              f"{self.count} is gone")
        return np.frombuffer(data, self.dtype).reshape(self.height, self.width).astype(np.float32)

    def close(self) -> None:
        self.file.close()


def _npy_header(f: Any) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        return np.lib.format.read_array_header_1_0(f)
    if version == (2, 0):
        return np.lib.format.read_array_header_2_0(f)
    raise ValueError(f".npy format version {version} (save with numpy.save)")


class ReplaySource:
    """Plays a recorded or synthetic scene at ``fps``, then idles."""

    def __init__(self, path: str | Path, fps: float, sleep: Callable[[float], Any] = time.sleep) -> None:
        self.frames = NpyFrames(path)
        self.period = 1.0 / fps
        self.sleep = sleep
        self.index = 0
        self.t0 = time.monotonic()

    def read(self) -> ThermalFrame | None:
        if self.index >= len(self.frames):
            self.frames.check_size()  # idle, but say so if the file went away under us
            self.sleep(0.1)
            return None
        due = self.t0 + self.index * self.period
        delay = due - time.monotonic()
        if delay > 0:
            self.sleep(delay)
        frame = self.frames.frame(self.index)
        self.index += 1
        return ThermalFrame(frame, time.time())

    @property
    def finished(self) -> bool:
        return self.index >= len(self.frames)

    def close(self) -> None:
        self.frames.close()


def open_capture(device: str | int, backend: int = cv2.CAP_V4L2) -> Any:
    """cv2.VideoCapture on a device path or index."""
    dev: str | int = int(device) if isinstance(device, str) and device.isdigit() else device
    return cv2.VideoCapture(dev, backend)


class OpenCvSource:
    """A UVC thermal camera through OpenCV with RGB conversion off; ``decode`` turns raw frames into degC.

    The first frame is read and decoded in the constructor, so a wrong camera or mode fails at
    start-up with the decoder's message (expected and actual shape).
    """

    def __init__(self, name: str, device: str | int, decode: Callable[[np.ndarray], np.ndarray],
                 setup: Callable[[Any], None] | None = None,
                 capture: Callable[[str | int], Any] = open_capture) -> None:
        self.name, self.device, self.decode = name, device, decode
        self.cap = capture(device)
        if not self.cap.isOpened():
            self.cap.release()
            raise SourceError(f"{name}: cannot open video device {device}")
        self.cap.set(cv2.CAP_PROP_CONVERT_RGB, 0)
        if setup is not None:
            setup(self.cap)
        try:
            self.first: ThermalFrame | None = self._grab()
        except FrameShapeError as exc:
            self.cap.release()
            raise SourceError(f"{name} on {device}: {exc}") from None
        except SourceError:
            self.cap.release()
            raise

    def _grab(self) -> ThermalFrame:
        ok, raw = self.cap.read()
        if not ok or raw is None:
            raise SourceError(f"{self.name} on {self.device}: no frame (unplugged?)")
        return ThermalFrame(self.decode(raw), time.time())

    def read(self) -> ThermalFrame | None:
        if self.first is not None:
            frame, self.first = self.first, None
            return frame
        return self._grab()

    def close(self) -> None:
        self.cap.release()


def p2pro_source(device: str | int, capture: Callable[[str | int], Any] = open_capture) -> OpenCvSource:
    return OpenCvSource("P2 Pro", device, codec.decode_p2pro, capture=capture)


def lepton_source(device: str | int, capture: Callable[[str | int], Any] = open_capture) -> OpenCvSource:
    def y16(cap: Any) -> None:
        cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*"Y16 "))

    return OpenCvSource("Lepton 3.5", device, codec.decode_lepton, setup=y16, capture=capture)


MLX_MISSING = ("the MLX90640 driver needs the optional extra: pip install 'campus-edge[mlx90640]' "
               "(adafruit-circuitpython-mlx90640, with Blinka on the Pi)")


class Mlx90640Source:
    """Melexis MLX90640 on I2C through adafruit_mlx90640 (imported here, only when used)."""

    def __init__(self, refresh_hz: int, frequency: int = 800_000) -> None:
        try:
            import adafruit_mlx90640
            import board
            import busio
        except ImportError as exc:
            raise SourceError(f"{MLX_MISSING}; import failed: {exc}") from None
        try:
            i2c = busio.I2C(board.SCL, board.SDA, frequency=frequency)
            self.mlx = adafruit_mlx90640.MLX90640(i2c)
            rate = str(refresh_hz).replace(".", "_")
            self.mlx.refresh_rate = getattr(adafruit_mlx90640.RefreshRate, f"REFRESH_{rate}_HZ")
        except (OSError, ValueError, RuntimeError) as exc:
            raise SourceError(f"MLX90640: cannot open the sensor on I2C: {exc}") from None
        self.buf = [0.0] * (codec.MLX_WIDTH * codec.MLX_HEIGHT)

    def read(self) -> ThermalFrame | None:
        for _ in range(3):  # the driver raises ValueError on a torn frame; the next one is usually fine
            try:
                self.mlx.getFrame(self.buf)
                return ThermalFrame(codec.decode_mlx90640(self.buf).celsius, time.time())
            except ValueError:
                continue
            except OSError as exc:
                raise SourceError(f"MLX90640: I2C read failed: {exc}") from None
        raise SourceError("MLX90640: three torn frames in a row")

    def close(self) -> None:
        pass
