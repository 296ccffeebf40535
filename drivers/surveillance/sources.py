"""What the surveillance drivers share: the visit source they open, its pictures, its errors, its password.

A camera driver (snapshot, rtsp) only grabs pictures: ``DriverSpec.frames(config, resources)`` returns
a function that opens a :class:`VisitSource`; each ``grab()`` returns a :class:`Grab` (two or more
pictures, the time between the first and the last, the frame rate it measured) or raises
:class:`VisitError` with a reason (``offline``, ``decode``). The patrol device that schedules the
visits and judges the pictures is a processor (edge/processors/patrol.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from edge.config.schema import Field, Float, Str

ENV_REF = "${"

# The keys of every surveillance driver (how to reach the camera); the patrol's own keys (schedule,
# thresholds) are the processor's (edge/processors/patrol.py).
COMMON = {
    "url": Field(Str(min_len=1), "the camera's snapshot URL or stream URL", required=True),
    "timeout_seconds": Field(Float(min=0.5, max=120), "connect/read timeout of one grab", default=10.0),
    "grab_gap_seconds": Field(Float(min=0.1, max=30), "time between the two grabs of a visit (frozen "
                              "check)", default=1.5),
}


class VisitError(Exception):
    """A visit that got no usable picture: ``reason`` is ``offline`` or ``decode``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class Grab:
    frames: list[Any] = field(default_factory=list)  # BGR numpy pictures, first and last of the visit
    gap_s: float = 0.0  # time between the first and the last
    fps: float | None = None  # measured (streams)


class VisitSource(Protocol):
    def grab(self) -> Grab: ...

    def close(self) -> None: ...


def secret(config: dict[str, Any]) -> str:
    """The password: from ``password_file``, or ``password`` (``${NAME}`` taken from the environment)."""
    if config.get("password_file"):
        return Path(config["password_file"]).read_text(encoding="utf-8").rstrip("\r\n")
    pw = config.get("password") or ""
    if pw.startswith(ENV_REF) and pw.endswith("}"):
        return os.environ[pw[2:-1]]
    return pw


def check_secret(entry: dict, path: str, errors: list[str]) -> None:
    pw = entry.get("password")
    if pw and entry.get("password_file"):
        errors.append(f"{path}: give password or password_file, not both")
    if isinstance(pw, str) and pw.startswith(ENV_REF) and pw.endswith("}") and pw[2:-1] not in os.environ:
        errors.append(f"{path}.password: environment variable {pw[2:-1]} is not set")
    pf = entry.get("password_file")
    if isinstance(pf, str) and not os.access(pf, os.R_OK):
        errors.append(f"{path}.password_file: cannot read {pf}")
