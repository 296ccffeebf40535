"""An IP camera's stream (RTSP, or any URL OpenCV's FFmpeg backend opens), for resolution and frame rate.

    - {id: cam-yard, kind: surveillance, driver: rtsp, name: 操场监控,
       url: "rtsp://10.0.8.30:554/Streaming/Channels/102", user: patrol, password: "${CAM_PW}",
       width: 640, height: 360, min_fps: 10, every_minutes: 10}

Each visit opens the stream (``cv2.VideoCapture(url, cv2.CAP_FFMPEG)`` with open and read timeouts),
reads it for ``sample_seconds`` to measure the frame rate, keeps the first and last pictures and closes
it: a patrol, not a recorder. Credentials go into the URL (``rtsp://user:password@host/...``), escaped.
Only the pictures and the frame rate: the patrol that judges them is edge/processors/patrol.py.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
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
# FFmpeg reads its options from this variable when a capture opens: set per open, under a lock.
_OPEN_LOCK = threading.Lock()


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
        with _OPEN_LOCK:
            if self.url.startswith("rtsp"):
                os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = f"rtsp_transport;{self.config['transport']}"
            cap = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG,
                                   [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])
        try:
            if not cap.isOpened():
                raise VisitError("offline", f"cannot open the stream {self.config['url']}")
            frames: list[np.ndarray] = []
            stamps: list[float] = []
            t0 = time.monotonic()
            while time.monotonic() - t0 < self.config["sample_seconds"] or len(stamps) < 2:
                ok, frame = cap.read()
                if not ok or frame is None:
                    if not frames:
                        raise VisitError("decode", "the stream opened but no picture decoded")
                    break
                stamps.append(time.monotonic())
                if not frames:
                    frames.append(frame)
                last = frame
                if time.monotonic() - t0 > self.config["sample_seconds"] + self.config["timeout_seconds"]:
                    break
            frames.append(last)
            n = len(stamps)
            fps = (n - 1) / (stamps[-1] - stamps[0]) if n > 1 and stamps[-1] > stamps[0] else 0.0
            return Grab(frames, gap_s=stamps[-1] - stamps[0] if n > 1 else 0.0, fps=fps)
        finally:
            cap.release()


    def close(self) -> None:
        pass  # each grab opens and releases its own capture


def frames(config: dict[str, Any], resources: Resources) -> Callable[[], StreamGrabber]:
    return lambda: StreamGrabber(config)


SPEC = DriverSpec(kind="surveillance", driver="rtsp", fields=FIELDS, frames=frames, check=check_secret,
                  doc="IP camera patrol through its stream (RTSP or another URL OpenCV's FFmpeg backend "
                  "opens): resolution, frame rate, picture")
