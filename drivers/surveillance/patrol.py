"""The patrol device: visits one camera on a schedule, checks its picture, reports what it finds.

Each visit (every ``every_minutes``, plus full rounds at ``rounds`` local times) grabs the picture
through the driver's source (snapshot or stream), runs the pure checks (edge/patrol/checks.py) and:
- publishes the retained state ``{"ts", "online", "patrol": {ok, reasons, checked, round, metrics},
  "thumb_png"}`` (the round's result; the hub keeps the latest view for the patrol sheet);
- on a new fault, a ``camera_fault`` event ``{reasons, reason, detail, metrics, snapshot_png}`` (a
  small PNG thumbnail); when it clears, ``camera_ok`` ``{previous, after_seconds}``.
A failing visit is repeated once after ``grab_gap_seconds`` before anything is reported, so one lost
packet is not a fault. The camera's memory (focus baselines, reference view, last picture's hash, the
open fault) is stored with ``context.save`` and survives restarts; the reference view is the first
good visit after installation (change ``reference_epoch`` to take a new one after a deliberate re-aim).
At most ``SLOTS`` cameras of an agent are visited at once.
"""

from __future__ import annotations

import base64
import os
import threading
import time
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from drivers.base import DeviceContext, RateLimitedLog
from edge.config.schema import Field, Float, Int, ListOf, Str
from edge.patrol.checks import Settings, Visit, evaluate, thumbnail

SLOTS = 4
ENV_REF = "${"
HHMM = r"([01]\d|2[0-3]):[0-5]\d"

COMMON = {
    "url": Field(Str(min_len=1), "the camera's snapshot URL or stream URL", required=True),
    "every_minutes": Field(Float(min=0.01, max=24 * 60), "visit this often", default=10.0),
    "rounds": Field(ListOf(Str(pattern=HHMM, hint="expected HH:MM, in quotes")),
                    "local times of the full rounds (e.g. [\"07:00\", \"18:00\"])", default=list),
    "width": Field(Int(min=16, max=16384), "expected picture width (checked when given)"),
    "height": Field(Int(min=16, max=16384), "expected picture height (checked when given)"),
    "overlay": Field(ListOf(Float(min=0, max=1), min_len=4, max_len=4),
                     "the timestamp overlay's box [x, y, w, h] as fractions of the picture: unchanged "
                     "between grabs means frozen"),
    "blur_ratio": Field(Float(min=0.05, max=0.95), "out of focus below this share of the camera's own "
                        "sharpness baseline", default=0.5),
    "cover_ratio": Field(Float(min=0.05, max=0.95), "covered below this share of the reference view's "
                         "structure", default=0.45),
    "min_inliers": Field(Int(min=4, max=500), "moved when fewer keypoints than this match the reference "
                         "view", default=12),
    "max_shift": Field(Float(min=0.01, max=1), "moved when the view shifted more than this share of its "
                       "width", default=0.08),
    "timeout_seconds": Field(Float(min=0.5, max=120), "connect/read timeout of one grab", default=10.0),
    "grab_gap_seconds": Field(Float(min=0.1, max=30), "time between the two grabs of a visit (frozen "
                              "check)", default=1.5),
    "reference_epoch": Field(Int(min=0), "change it to discard the reference view and baselines and "
                             "learn them again (after a deliberate re-aim)", default=0),
}


class VisitError(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


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


def next_round(now: float, rounds: list[str], tz: Any) -> float | None:
    """The epoch seconds of the next full round after ``now`` (local ``HH:MM`` times), None without rounds."""
    if not rounds:
        return None
    local = datetime.fromtimestamp(now, tz) if tz else datetime.fromtimestamp(now).astimezone()
    best = None
    for day in (0, 1):
        for hm in rounds:
            h, m = (int(x) for x in hm.split(":"))
            t = (local + timedelta(days=day)).replace(hour=h, minute=m, second=0, microsecond=0).timestamp()
            if t > now and (best is None or t < best):
                best = t
    return best


class PatrolCamera:
    kind = "surveillance"

    def __init__(self, config: dict[str, Any], context: DeviceContext,
                 grab: Callable[[], Visit], close: Callable[[], None] = lambda: None) -> None:
        self.id: str = config["id"]
        self.config, self.context = config, context
        self._grab, self._close = grab, close
        ov = config.get("overlay")
        self.settings = Settings(width=config.get("width"), height=config.get("height"),
                                 min_fps=config.get("min_fps"), blur_ratio=config["blur_ratio"],
                                 cover_ratio=config["cover_ratio"], min_inliers=config["min_inliers"],
                                 max_shift=config["max_shift"], overlay=tuple(ov) if ov else None)
        zone = getattr(context, "timezone", None)
        self.tz = ZoneInfo(zone) if zone else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._slots = context.resources.shared("surveillance-slots",
                                               lambda: threading.BoundedSemaphore(SLOTS))
        self._log = RateLimitedLog(context.log, 600)
        self.visits = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"patrol-{self.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.config["timeout_seconds"] * 3 + 5)
        self._close()

    # -- schedule --------------------------------------------------------------------------------------
    def _next_round(self, now: float) -> float | None:
        return next_round(now, self.config["rounds"], self.tz)

    def _run(self) -> None:
        beats = self.context.resources.heartbeats
        limit = max(beats.default_limit_s, 4 * self.config["timeout_seconds"] + 60)
        hb = beats.register(f"patrol {self.id}", limit)
        period = self.config["every_minutes"] * 60
        # spread an agent's cameras over the first period instead of visiting all at once
        stagger = (zlib.crc32(self.id.encode()) % 1000) / 1000 * min(period, 30.0)
        next_visit = time.time() + stagger
        next_round = self._next_round(time.time())
        try:
            while not self._stop.is_set():
                hb.beat()
                now = time.time()
                is_round = next_round is not None and now >= next_round
                if now >= next_visit or is_round:
                    with self._slots:
                        hb.beat()
                        self.visit(is_round)
                    next_visit = time.time() + period
                    if is_round:
                        next_round = self._next_round(time.time())
                    continue
                wake = min(next_visit, next_round or next_visit)
                self._stop.wait(min(5.0, max(0.05, wake - now)))
        finally:
            hb.close()

    # -- one visit -------------------------------------------------------------------------------------
    def _look(self) -> Visit:
        try:
            return self._grab()
        except VisitError as exc:
            return Visit(error=exc.reason, detail=exc.detail[:300])

    def visit(self, is_round: bool = False) -> tuple[str, ...]:
        memory = self.context.load("patrol") or {}
        if memory.get("epoch") != self.config["reference_epoch"]:
            memory = {"epoch": self.config["reference_epoch"]}
        v = self._look()
        result = evaluate(v, self.settings, memory)
        if result.reasons:  # look again before saying so: one lost packet or a passing bus is not a fault
            self._stop.wait(self.config["grab_gap_seconds"])
            v = self._look()
            result = evaluate(v, self.settings, memory)
        self.visits += 1
        ts = int(time.time() * 1000)
        mem = result.memory
        previous = tuple(mem.get("fault") or ())
        thumb = thumbnail(v.frames[-1], 128) if v.frames else None
        reasons = result.reasons
        if reasons and reasons != previous:
            detail = v.detail or ", ".join(f"{k}={result.metrics[k]}" for k in
                                           ("sharpness_ratio", "variation_ratio", "inliers", "shift",
                                            "mean", "fps") if k in result.metrics)
            self.context.event("camera_fault", {
                "reasons": list(reasons), "reason": ",".join(reasons), "detail": detail,
                "metrics": {k: v for k, v in result.metrics.items() if k != "detail"},
                "snapshot_png": base64.b64encode(thumb).decode() if thumb else None}, ts_ms=ts)
            self._log.warning("camera %s: %s (%s)", self.id, ",".join(reasons), detail)
            mem["fault"], mem["fault_since"] = list(reasons), ts
        elif not reasons and previous:
            since = mem.get("fault_since") or ts
            self.context.event("camera_ok", {"previous": list(previous),
                                             "after_seconds": round((ts - since) / 1000)}, ts_ms=ts)
            self.context.log.info("camera %s: back to normal (was %s)", self.id, ",".join(previous))
            mem["fault"], mem["fault_since"] = [], None
        self.context.save("patrol", mem)
        state: dict[str, Any] = {
            "ts": ts, "online": v.error != "offline",
            "patrol": {"ok": not reasons, "reasons": list(reasons), "checked": ts, "round": is_round,
                       "metrics": {k: x for k, x in result.metrics.items() if k != "detail"}}}
        if thumb is not None:
            state["thumb_png"] = base64.b64encode(thumb).decode()
        self.context.state(state)
        return reasons
