"""An IP camera's stream (RTSP, or any URL OpenCV's FFmpeg backend opens), for resolution and frame rate.

    - {id: cam-yard, kind: surveillance, driver: rtsp, name: 操场监控,
       url: "rtsp://10.0.8.30:554/Streaming/Channels/102", user: patrol, password: "${CAM_PW}",
       width: 640, height: 360, min_fps: 10, every_minutes: 10}

Each visit opens the stream (``cv2.VideoCapture(url, cv2.CAP_FFMPEG)`` with open and read timeouts),
reads it for ``sample_seconds`` to measure the frame rate (at the camera's pace: see ``live_rate``), keeps
the first and last pictures and closes it: a patrol, not a recorder. Credentials go into the URL
(``rtsp://user:password@host/...``), escaped. ``transport`` (tcp, the default, or udp) and the bound on
FFmpeg's probing (``PROBE``) reach FFmpeg through a process-wide variable: see FfmpegOptions.
Only the pictures and the frame rate: the patrol that judges them is edge/processors/patrol.py.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import cv2
import numpy as np

from drivers.base import DriverSpec, Resources
from drivers.surveillance.sources import COMMON, Grab, VisitError, check_secret, secret
from edge.config.schema import Enum, Field, Float, Str

FIELDS = {
    **COMMON,
    "user": Field(Str(), "user name for the stream", default=""),
    "password": Field(Str(), "password, or `${NAME}` to take it from the environment", default=""),
    "password_file": Field(Str(min_len=1), "file holding the password (instead of `password`)"),
    "min_fps": Field(Float(min=0.1, max=240), "a frame rate below this is a fault"),
    "sample_seconds": Field(Float(min=0.2, max=30), "how long each visit reads the stream", default=2.0),
    "transport": Field(Enum(choices=("tcp", "udp")), "RTSP transport of the RTP packets (TCP interleaved "
                       "passes firewalls and loses nothing)", default="tcp"),
}
OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
# FFmpeg's avformat_find_stream_info waits for 20 frames to guess the frame rate of a stream whose
# container does not state it (RTP never does): 2 s at 10 fps, 0.8 s at 25, and OpenCV holds one lock
# over every FFmpeg open in the process, so a patrol's opens queue behind it (50 cameras: 105 s a round).
# We measure the rate ourselves, so no frames for that guess; the codec's parameters (picture size) are
# still probed until they are known (an H.264 camera: its first key frame), bounded by the open timeout.
PROBE = "fpsprobesize;0"
# The burst buffered at open ends at the first read that waited this share of the typical frame gap.
WAITED = 0.75


class FfmpegOptions:
    """OpenCV hands FFmpeg the options in OPENCV_FFMPEG_CAPTURE_OPTIONS ("key;value|key;value") when a
    capture opens, and nowhere else: the transport can only go through this one process-wide variable.

    So it is set around each open, never while an open that wants another value is under way: opens that
    want the same value run at once (a patrol of many cameras of one transport is not serialised), one
    that wants another waits for them. Options already in the environment when the agent started are
    kept (ours are added after them); once no open is under way the variable is put back as it was.
    Known limit: an FFmpeg capture opened elsewhere in the process, not through this class, while an open
    is under way sees our value (the agent has none: thermal cameras read V4L2 or their own buses).
    """

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._value: str | None = None
        self._users = 0
        self._original = os.environ.get(OPTIONS_ENV)

    @contextmanager
    def using(self, options: str | None) -> Iterator[None]:
        """Hold ``options`` (None: any value will do, e.g. an HTTP stream) for one open."""
        if options is None:
            yield
            return
        value = f"{self._original}|{options}" if self._original else options
        with self._cv:
            while self._users and self._value != value:
                self._cv.wait()
            if self._value != value:
                os.environ[OPTIONS_ENV] = self._value = value
            self._users += 1
        try:
            yield
        finally:
            with self._cv:
                self._users -= 1
                if self._users == 0:
                    self._value = None
                    if self._original is None:
                        os.environ.pop(OPTIONS_ENV, None)
                    else:
                        os.environ[OPTIONS_ENV] = self._original
                    self._cv.notify_all()


OPTIONS = FfmpegOptions()


def live_rate(stamps: Sequence[float]) -> tuple[float, int]:
    """The frame rate at the camera's pace from the times frames came out of ``cap.read()``, and the
    number of frame intervals it is measured over (0: none yet).

    What FFmpeg buffered while the stream opened comes out of the first reads at decoding speed, not at
    the camera's: counting it made a 10 fps camera read 30 fps. So the start-up burst is left out: the
    typical gap is the median gap of the sample's second half (the buffer is empty by then); the burst
    ends at the first read that waited ``WAITED`` of it for its frame, and frames are counted from the
    one that read returned (it arrived when the camera sent it, as every later one does).

    >>> live_rate([0.0, 0.001, 0.002, 0.003, 0.1, 0.2, 0.3, 0.4])
    (10.0, 3)
    """
    if len(stamps) < 2:
        return 0.0, 0
    gaps = [b - a for a, b in zip(stamps, stamps[1:], strict=False)]
    mid = (stamps[0] + stamps[-1]) / 2
    typical = statistics.median([g for g, t in zip(gaps, stamps[1:], strict=True) if t > mid] or gaps)
    first = next((i + 1 for i, g in enumerate(gaps) if g >= WAITED * typical), 0)
    intervals = len(stamps) - 1 - first
    span = stamps[-1] - stamps[first]
    return (round(intervals / span, 6) if intervals > 0 and span > 0 else 0.0), intervals


def with_credentials(url: str, user: str, password: str) -> str:
    if not user:
        return url
    p = urlsplit(url)
    host = p.netloc.rsplit("@", 1)[-1]
    return urlunsplit((p.scheme, f"{quote(user, safe='')}:{quote(password, safe='')}@{host}", p.path,
                       p.query, p.fragment))


class StreamGrabber:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.url = with_credentials(config["url"], config["user"], secret(config) if config["user"] else "")

    def grab(self) -> Grab:
        ms = int(self.config["timeout_seconds"] * 1000)
        rtsp = self.url.lower().startswith("rtsp")
        with OPTIONS.using(f"rtsp_transport;{self.config['transport']}|{PROBE}" if rtsp else None):
            cap = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG,
                                   [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])
        try:
            if not cap.isOpened():
                # OpenCV says only "not opened": FFmpeg's "401 Unauthorized" goes to its log, not to us
                hint = " (check user and password)" if self.config["user"] else ""
                raise VisitError("offline", f"cannot open the stream {self.config['url']}{hint}")
            first: np.ndarray | None = None
            last: np.ndarray | None = None
            stamps: list[float] = []
            sample, limit = self.config["sample_seconds"], self.config["sample_seconds"] + self.config[
                "timeout_seconds"]
            t0 = time.monotonic()
            # the sample's time, and at least two intervals at the camera's pace (a slow camera's)
            while time.monotonic() - t0 < sample or live_rate(stamps)[1] < 2:
                ok, frame = cap.read()
                if not ok or frame is None:
                    if first is None:
                        raise VisitError("decode", "the stream opened but no picture decoded")
                    break
                stamps.append(time.monotonic())
                first = frame if first is None else first
                last = frame
                if time.monotonic() - t0 > limit:
                    break
            fps, _ = live_rate(stamps)
            return Grab([first, last], gap_s=stamps[-1] - stamps[0], fps=fps)
        finally:
            cap.release()

    def close(self) -> None:
        pass  # each grab opens and releases its own capture


def frames(config: dict[str, Any], resources: Resources) -> Callable[[], StreamGrabber]:
    return lambda: StreamGrabber(config)


SPEC = DriverSpec(kind="surveillance", driver="rtsp", fields=FIELDS, frames=frames, check=check_secret,
                  doc="IP camera patrol through its stream (RTSP or another URL OpenCV's FFmpeg backend "
                  "opens): resolution, frame rate, picture")
