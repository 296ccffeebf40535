"""The thermal camera device: its own thread runs frame source -> screening pipeline -> context.

A processor: every camera driver (replay, uvc_p2pro, lepton, mlx90640) only
says how to open its frame source (``DriverSpec.frames``); edge.processors
builds this device around it, so recorded scenes and real cameras go through
the same code. The pipeline (edge.screening) is pure; this class only moves
frames and results:

- ``fever`` events on {base}/{device}/event: track, temp_c, threshold_c,
  uncertainty_c, frames, blackbody, snapshot_png (base64 false-colour PNG of the
  thermal crop, or null when snapshots are off);
- ``recheck`` events (eyes covered by glasses and the forehead reads near or
  above the threshold: "re-screen without glasses"): the same fields plus
  ``reason`` ("eyes_covered") and ``site`` ("forehead"); never a ``fever``;
- telemetry every ``telemetry_seconds``: screened, fevers, rechecks, max_temp_c
  (when anyone was screened), covered (faces with eyes covered, not screened
  by the canthus);
- a source that fails (unplugged, wrong camera) is logged, reported once as a
  ``camera_offline`` event with the error, and reopened with a growing pause
  (``camera_online`` when it is back); it never stops the agent.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from drivers.base import DeviceContext, RateLimitedLog
from drivers.thermal.sources import FrameSource, SourceError
from edge.screening import Fever, HealthChange, Pipeline, Recheck, Screened, ScreeningConfig, TrackEnded
from edge.screening.payloads import event_of, state_of

RETRY_FIRST_S, RETRY_MAX_S = 1.0, 30.0
BAD_FRAMES_OFFLINE = 10  # unusable frames in a row before the camera counts as offline (about 1 s at 9 fps)
MAX_NONFINITE_SHARE = 0.5  # a frame with more NaN/inf pixels than this is unusable
BAD_FRAME_LOG_SECONDS = 60.0


def frame_problem(celsius: Any) -> str | None:
    """Why a frame cannot be screened (mostly NaN/inf: a sensor or decoder fault), or None."""
    bad = celsius.size - int(np.count_nonzero(np.isfinite(celsius)))
    if bad > MAX_NONFINITE_SHARE * celsius.size:
        return f"{bad} of {celsius.size} pixels are not finite numbers (NaN or infinite)"
    return None


class ThermalCamera:
    kind = "thermal_camera"

    def __init__(self, config: dict[str, Any], context: DeviceContext,
                 open_source: Callable[[], FrameSource]) -> None:
        self.id: str = config["id"]
        self.config = config
        self.context = context
        self.open_source = open_source
        self.screening = ScreeningConfig.from_device(config)
        self.pipeline = Pipeline(self.screening)
        self.counters = {"frames": 0, "bad_frames": 0, "alerts": 0, "rechecks": 0, "screened": 0}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._window = _Window()
        self._next_telemetry = 0.0
        self._hb: Any = None
        self._back_online = True
        self._bad_frame_log = RateLimitedLog(context.log, BAD_FRAME_LOG_SECONDS)
        self._health: dict[str, Any] = {}  # the retained state's screening part (edge.screening.payloads)

    # -- life cycle -----------------------------------------------------------------
    def start(self) -> None:
        self._stop.clear()
        self._next_telemetry = time.monotonic() + self.config["telemetry_seconds"]
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self._handle(self.pipeline.flush())
        if self._window.screened or self._window.fevers or self._window.rechecks or self._window.unscreened:
            self._send_telemetry()  # the last partial window is not lost

    def _report_offline(self, error: str) -> None:
        self._safely(lambda: self.context.event("camera_offline", {"error": error}))
        self._safely(lambda: self.context.state({"online": False, "error": error}))

    def _safely(self, report: Callable[[], Any]) -> None:
        """Reporting may fail (storage full); the retry loop must go on regardless."""
        try:
            report()
        except Exception:
            self.context.log.exception("reporting from the camera thread failed")

    # -- the thread -------------------------------------------------------------------
    def _run(self) -> None:
        # Beats on every frame and every retry; a read() that never returns stops them (the watchdog notices).
        beats = self.context.resources.heartbeats
        self._hb = beats.register(f"camera {self.id}", max(beats.default_limit_s, 2 * RETRY_MAX_S))
        try:
            self._loop()
        finally:
            self._hb.close()

    def _loop(self) -> None:
        pause = RETRY_FIRST_S
        offline: str | None = None
        while not self._stop.is_set():
            self._hb.beat()
            source: FrameSource | None = None
            self._back_online = False  # set by _pump once frames flow
            try:
                source = self.open_source()
                if offline is None:
                    self.context.state({"online": True, "blackbody": self.screening.blackbody is not None,
                                        **self._health})
                # after an outage, back online only with a good frame: a camera that opens but sends
                # NaN would otherwise flap online/offline at every retry
                self._pump(source, announce_online=offline is not None)
            except Exception as exc:  # the camera, never the agent
                error = str(exc) or type(exc).__name__
                if self._back_online:
                    offline, pause = None, RETRY_FIRST_S
                if offline is None:
                    self.context.log.error("camera offline: %s", error)
                    self._report_offline(error)
                offline = error
                self._safely(lambda: self._handle(self.pipeline.flush()))
                self._stop.wait(pause)
                pause = min(RETRY_MAX_S, pause * 2)
            finally:
                if source is not None:
                    try:
                        source.close()
                    except Exception:
                        self.context.log.exception("closing the frame source failed")

    def _pump(self, source: FrameSource, announce_online: bool) -> None:
        self._back_online = not announce_online
        bad_in_a_row = 0
        while not self._stop.is_set():
            frame = source.read()
            self._hb.beat()
            self._tick()
            if frame is None:  # nothing now (a replay that has ended): decide on the tracks we have
                self._handle(self.pipeline.flush())
                self._stop.wait(0.05)
                continue
            self.counters["frames"] += 1
            problem = frame_problem(frame.celsius)
            result = None
            if problem is None:
                try:
                    result = self.pipeline.process(frame.celsius, frame.ts)
                except Exception as exc:  # a bad frame is counted and dropped; the stream goes on
                    problem = f"the screening refused it: {type(exc).__name__}: {exc}"
                    self._bad_frame_log.exception("frame %d refused", self.counters["frames"])
            if problem is not None:
                self.counters["bad_frames"] += 1
                bad_in_a_row += 1
                self._bad_frame_log.warning("frame %d dropped: %s", self.counters["frames"], problem)
                if bad_in_a_row >= BAD_FRAMES_OFFLINE:  # a camera that only sends these is not screening
                    raise SourceError(f"{bad_in_a_row} unusable frames in a row; the last: {problem}")
                continue
            bad_in_a_row = 0
            if not self._back_online:
                self._back_online = True
                self.context.log.info("camera back online")
                self.context.event("camera_online", {})
                self.context.state({"online": True, "blackbody": self.screening.blackbody is not None,
                                    **self._health})
            assert result is not None  # no problem: the pipeline returned
            self._handle(result.events)

    def _tick(self) -> None:
        if time.monotonic() >= self._next_telemetry:
            self._next_telemetry = time.monotonic() + self.config["telemetry_seconds"]
            self._send_telemetry()

    # -- results ----------------------------------------------------------------------
    def _handle(self, events: list) -> None:
        for e in events:
            if isinstance(e, Screened):
                self._window.screened += 1
                self.counters["screened"] += 1
                self._window.max_temp(e.temp_c)
            elif isinstance(e, Fever):
                self._window.fevers += 1
                self.counters["alerts"] += 1
                self._window.max_temp(e.temp_c)
                self.context.log.warning("fever: track %d at %.2f degC (threshold %.1f)", e.track, e.temp_c,
                                         e.threshold_c)
                self.context.event("fever", fever_fields(e), ts_ms=int(e.ts * 1000))
            elif isinstance(e, Recheck):
                self._window.rechecks += 1
                self.counters["rechecks"] += 1
                self.context.log.warning("recheck: track %d, %s, estimate %.2f degC (threshold %.1f)",
                                         e.track, e.reason, e.temp_c, e.threshold_c)
                self.context.event("recheck", recheck_fields(e), ts_ms=int(e.ts * 1000))
            elif isinstance(e, TrackEnded):
                if e.screened and e.temp_c is not None:
                    self._window.max_temp(e.temp_c)
                if e.covered and not e.screened:
                    self._window.covered += 1
            elif (report := event_of(e)) is not None:  # unscreened, screening health, crowd drift
                type_, fields, ts = report
                self._window.unscreened += type_ == "unscreened"
                log = self.context.log.info if type_ == "screening_ready" else self.context.log.warning
                log("%s: %s", type_, {k: v for k, v in fields.items() if k != "snapshot_png"})
                if isinstance(e, HealthChange):
                    self._health = state_of(e)
                    self.context.state({"online": True, "blackbody": self.screening.blackbody is not None,
                                        **self._health})
                self.context.event(type_, fields, ts_ms=int(ts * 1000))

    def _send_telemetry(self) -> None:
        w, self._window = self._window, _Window()
        values: dict[str, float] = {"screened": w.screened, "fevers": w.fevers, "rechecks": w.rechecks,
                                    "covered": w.covered, "unscreened": w.unscreened}
        if w.max_c is not None:
            values["max_temp_c"] = round(w.max_c, 2)
        self.context.telemetry(values)


class _Window:
    """What happened since the last telemetry."""

    def __init__(self) -> None:
        self.screened = self.fevers = self.rechecks = self.covered = self.unscreened = 0
        self.max_c: float | None = None

    def max_temp(self, t: float) -> None:
        self.max_c = t if self.max_c is None else max(self.max_c, t)


def _alert_fields(e: Fever | Recheck, **extra: Any) -> dict[str, Any]:
    return {
        "track": e.track,
        **extra,
        "temp_c": e.temp_c,
        "threshold_c": e.threshold_c,
        "uncertainty_c": e.uncertainty_c,
        "frames": e.frames,
        "blackbody": e.blackbody,
        "snapshot_png": base64.b64encode(e.snapshot_png).decode("ascii") if e.snapshot_png else None,
    }


def fever_fields(e: Fever) -> dict[str, Any]:
    return _alert_fields(e)


def recheck_fields(e: Recheck) -> dict[str, Any]:
    """A recheck: "re-screen this pupil without glasses" (temp_c: the forehead estimate), or a hot runner
    (too_fast_hot; temp_c: the highest canthus reading) to stop for a handheld check."""
    return _alert_fields(e, reason=e.reason, site="forehead" if e.reason == "eyes_covered" else "canthus")
