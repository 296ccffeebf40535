"""The patrol device: visits one camera on a schedule, checks its picture, reports what it finds.

A processor: the surveillance drivers (snapshot, rtsp) only open a visit source that grabs pictures
(``DriverSpec.frames``, drivers/surveillance/sources.py); edge.processors builds this device around it.
Each visit (every ``every_minutes``, plus full rounds at ``rounds`` local times) grabs the pictures, runs
the pure checks (edge/patrol/checks.py) and:
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
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from drivers.base import DeviceContext, RateLimitedLog
from drivers.surveillance.sources import VisitError, VisitSource
from edge.config.schema import Field, Float, Int, ListOf, Str
from edge.patrol.checks import Result, Settings, Visit, evaluate, thumbnail
from edge.patrol.rounds import next_round

SLOTS = 4
HHMM = r"([01]\d|2[0-3]):[0-5]\d"
_DETAIL_METRICS = ("sharpness_ratio", "variation_ratio", "inliers", "shift", "mean", "fps")

# The patrol's keys, added to the driver's (url, timeout, credentials) for every kind: surveillance entry.
FIELDS = {
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
    "reference_epoch": Field(Int(min=0), "change it to discard the reference view and baselines and "
                             "learn them again (after a deliberate re-aim)", default=0),
}


def look(source: VisitSource) -> Visit:
    """One grab from the driver as the checks take it: a driver's VisitError becomes the visit's error."""
    try:
        g = source.grab()
    except VisitError as exc:
        return Visit(error=exc.reason, detail=exc.detail[:300])
    return Visit(list(g.frames), gap_s=g.gap_s, fps=g.fps)


def settings_of(config: dict[str, Any]) -> Settings:
    ov = config.get("overlay")
    return Settings(width=config.get("width"), height=config.get("height"), min_fps=config.get("min_fps"),
                    blur_ratio=config["blur_ratio"], cover_ratio=config["cover_ratio"],
                    min_inliers=config["min_inliers"], max_shift=config["max_shift"],
                    overlay=tuple(ov) if ov else None)


class PatrolCamera:
    kind = "surveillance"

    def __init__(self, config: dict[str, Any], context: DeviceContext,
                 open_source: Callable[[], VisitSource]) -> None:
        self.id: str = config["id"]
        self.config, self.context = config, context
        self._source = open_source()  # the driver's client (an HTTP connection) lives as long as the device
        self.settings = settings_of(config)
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
        self._source.close()

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
        next_full = self._next_round(time.time())
        try:
            while not self._stop.is_set():
                hb.beat()
                now = time.time()
                is_round = next_full is not None and now >= next_full
                if now >= next_visit or is_round:
                    with self._slots:
                        hb.beat()
                        self.visit(is_round)
                    next_visit = time.time() + period
                    if is_round:
                        next_full = self._next_round(time.time())
                    continue
                wake = min(next_visit, next_full or next_visit)
                self._stop.wait(min(5.0, max(0.05, wake - now)))
        finally:
            hb.close()

    # -- one visit -------------------------------------------------------------------------------------
    def visit(self, is_round: bool = False) -> tuple[str, ...]:
        memory = self.context.load("patrol") or {}
        if memory.get("epoch") != self.config["reference_epoch"]:
            memory = {"epoch": self.config["reference_epoch"]}
        v = look(self._source)
        result = evaluate(v, self.settings, memory)
        if result.reasons:  # look again before saying so: one lost packet or a passing bus is not a fault
            self._stop.wait(self.config["grab_gap_seconds"])
            v = look(self._source)
            result = evaluate(v, self.settings, memory)
        self.visits += 1
        ts = int(time.time() * 1000)
        thumb = thumbnail(v.frames[-1], 128) if v.frames else None
        self._report_change(v, result, thumb, ts)
        self.context.save("patrol", result.memory)
        metrics = {k: x for k, x in result.metrics.items() if k != "detail"}
        state: dict[str, Any] = {
            "ts": ts, "online": v.error != "offline",
            "patrol": {"ok": not result.reasons, "reasons": list(result.reasons), "checked": ts,
                       "round": is_round, "metrics": metrics}}
        if thumb is not None:
            state["thumb_png"] = base64.b64encode(thumb).decode()
        self.context.state(state)
        return result.reasons

    def _report_change(self, v: Visit, result: Result, thumb: bytes | None, ts: int) -> None:
        """camera_fault on a new fault, camera_ok when it clears; the open fault is kept in the memory."""
        mem, reasons = result.memory, result.reasons
        previous = tuple(mem.get("fault") or ())
        if reasons and reasons != previous:
            detail = v.detail or ", ".join(f"{k}={result.metrics[k]}" for k in _DETAIL_METRICS
                                           if k in result.metrics)
            self.context.event("camera_fault", {
                "reasons": list(reasons), "reason": ",".join(reasons), "detail": detail,
                "metrics": {k: x for k, x in result.metrics.items() if k != "detail"},
                "snapshot_png": base64.b64encode(thumb).decode() if thumb else None}, ts_ms=ts)
            self._log.warning("camera %s: %s (%s)", self.id, ",".join(reasons), detail)
            mem["fault"], mem["fault_since"] = list(reasons), ts
        elif not reasons and previous:
            since = mem.get("fault_since") or ts
            self.context.event("camera_ok", {"previous": list(previous),
                                             "after_seconds": round((ts - since) / 1000)}, ts_ms=ts)
            self.context.log.info("camera %s: back to normal (was %s)", self.id, ",".join(previous))
            mem["fault"], mem["fault_since"] = [], None
