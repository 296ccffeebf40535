"""An IP camera's HTTP snapshot URL (Hikvision ISAPI, Dahua CGI, most others), digest auth by default.

    - {id: cam-gate-east, kind: surveillance, driver: snapshot, name: 东门监控,
       url: "http://10.0.8.21/ISAPI/Streaming/channels/101/picture", user: patrol,
       password_file: /etc/campus-edge/cam-patrol.pw, width: 1920, height: 1080,
       every_minutes: 10, rounds: ["07:00", "18:00"], overlay: [0.0, 0.0, 0.35, 0.06]}

Dahua: ``http://HOST/cgi-bin/snapshot.cgi?channel=1``. One httpx client per camera (its own
connection and digest nonce); each visit takes two snapshots ``grab_gap_seconds`` apart. Only the
pictures: the patrol that judges them is edge/processors/patrol.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from drivers.base import DriverSpec, Resources
from drivers.surveillance.sources import COMMON, Grab, VisitError, check_secret, secret
from edge.config.schema import Enum, Field, Str

FIELDS = {
    **COMMON,
    "user": Field(Str(), "user name for the camera", default=""),
    "password": Field(Str(), "password, or `${NAME}` to take it from the environment", default=""),
    "password_file": Field(Str(min_len=1), "file holding the password (instead of `password`)"),
    "auth": Field(Enum(choices=("digest", "basic", "none")), "HTTP authentication", default="digest"),
}


class SnapshotGrabber:
    def __init__(self, config: dict[str, Any]) -> None:
        import httpx  # the hub extra, or `pip install httpx` on an agent with cameras

        self.config = config
        auth: Any = None
        if config["auth"] != "none":
            pw = secret(config)
            auth = (httpx.DigestAuth(config["user"], pw) if config["auth"] == "digest"
                    else httpx.BasicAuth(config["user"], pw))
        self._httpx = httpx
        self.client = httpx.Client(auth=auth, timeout=config["timeout_seconds"], follow_redirects=False)

    def _one(self) -> np.ndarray:
        try:
            r = self.client.get(self.config["url"])
        except self._httpx.HTTPError as exc:
            raise VisitError("offline", f"{type(exc).__name__}: {exc}") from None
        if r.status_code != 200:
            reason = "offline"
            raise VisitError(reason, f"HTTP {r.status_code}" + (" (check user and password)"
                                                               if r.status_code in (401, 403) else ""))
        img = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise VisitError("decode", f"{len(r.content)} bytes of {r.headers.get('content-type', '?')} "
                             "are not a picture")
        return img

    def grab(self) -> Grab:
        first = self._one()
        t0 = time.monotonic()
        time.sleep(self.config["grab_gap_seconds"])
        last = self._one()
        return Grab([first, last], gap_s=time.monotonic() - t0)

    def close(self) -> None:
        self.client.close()


def frames(config: dict[str, Any], resources: Resources) -> Callable[[], SnapshotGrabber]:
    return lambda: SnapshotGrabber(config)


SPEC = DriverSpec(kind="surveillance", driver="snapshot", fields=FIELDS, frames=frames, check=check_secret,
                  doc="IP camera patrol through its HTTP snapshot URL (Hikvision ISAPI, Dahua CGI; digest "
                  "auth)")
