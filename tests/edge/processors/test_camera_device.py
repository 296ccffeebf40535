"""The camera device on its own: retries a failing source, reports it, and screens once it is back."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Any

from drivers.base import Resources
from drivers.thermal.sources import ReplaySource, SourceError
from edge.config.schema import Obj
from edge.processors import thermal as camera_mod
from edge.processors.screening_fields import SCREENING
from edge.processors.thermal import ThermalCamera
from simulators import gate_scene as gs
from tests.conftest import wait_for


class RecordingContext:
    """A DeviceContext that keeps what the device reports (the agent's outbox is tested elsewhere)."""

    device_id = "cam"
    log = logging.getLogger("test.camera")
    resources = Resources()

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[tuple[str, dict]] = []
        self.telemetry_values: list[dict] = []
        self.states: list[dict] = []

    def telemetry(self, values: dict[str, float], ts_ms: int | None = None) -> None:
        with self.lock:
            self.telemetry_values.append(values)

    def event(self, type_: str, fields: dict[str, Any], ts_ms: int | None = None) -> None:
        with self.lock:
            self.events.append((type_, fields))

    def state(self, state: dict[str, Any]) -> None:
        with self.lock:
            self.states.append(state)

    def load(self, key: str, default: Any = None) -> Any:
        return default

    def save(self, key: str, value: Any) -> None:
        pass

    def types(self) -> list[str]:
        with self.lock:
            return [t for t, _ in self.events]


def test_source_failure_is_reported_retried_and_recovered(tmp_path, monkeypatch):
    monkeypatch.setattr(camera_mod, "RETRY_FIRST_S", 0.1)
    spec = gs.SceneSpec(people=1, seed=5, pair_share=0.0, glasses_share=0.0, cup_carry_share=0.0)
    scene = gs.generate(spec, [gs.with_core(p, 38.8) for p in gs.plan(spec)])
    path, _ = scene.save(tmp_path / "s.npy")
    cfg = Obj(SCREENING).check({"blackbody": {"roi": scene.blackbody_roi}, "telemetry_seconds": 1}, "", [])
    cfg.update(id="cam", path=str(path), fps=60.0)
    calls = []

    def open_source():
        calls.append(1)
        if len(calls) < 3:
            raise SourceError("P2 Pro on /dev/video0: no frame (unplugged?)")
        return ReplaySource(path, 60.0)

    ctx = RecordingContext()
    cam = ThermalCamera(cfg, ctx, open_source)
    cam.start()
    try:
        wait_for(lambda: "fever" in ctx.types(), 15, "a fever event after the camera came back")
    finally:
        cam.stop()
    types = ctx.types()
    assert types.count("camera_offline") == 1  # reported once per outage, not per retry
    assert types.index("camera_offline") < types.index("camera_online") < types.index("fever")
    assert len(calls) == 3 and types.count("fever") == 1
    offline = dict(ctx.events)["camera_offline"]
    assert "unplugged" in offline["error"]
    assert ctx.states[0]["online"] is False and ctx.states[-1]["online"] is True
    assert sum(t["screened"] for t in ctx.telemetry_values) == 1  # the partial window is sent at stop
    assert sum(t["fevers"] for t in ctx.telemetry_values) == 1


def replay_one_person(tmp_path, core_c: float, until: str, glasses: bool = False,
                      **screening: Any) -> RecordingContext:
    """One pupil walks past a replay camera; returns the recorded context once an `until` event came."""
    spec = gs.SceneSpec(people=1, seed=5, pair_share=0.0, glasses_share=0.0, cup_carry_share=0.0)
    scene = gs.generate(spec, [replace(gs.with_core(p, core_c), glasses=glasses) for p in gs.plan(spec)])
    path, _ = scene.save(tmp_path / "s.npy")
    cfg = Obj(SCREENING).check({"blackbody": {"roi": scene.blackbody_roi}, **screening}, "", [])
    cfg.update(id="cam", path=str(path), fps=60.0)
    ctx = RecordingContext()
    cam = ThermalCamera(cfg, ctx, lambda: ReplaySource(path, 60.0))
    cam.start()
    try:
        wait_for(lambda: until in ctx.types(), 15, f"a {until} event")
    finally:
        cam.stop()
    return ctx


def test_snapshot_off_sends_null(tmp_path):
    ctx = replay_one_person(tmp_path, 38.8, "fever", snapshot=False)
    fever = dict(ctx.events)["fever"]
    assert fever["snapshot_png"] is None and fever["blackbody"] is True


def test_a_febrile_glasses_wearer_is_a_recheck_event_not_a_fever(tmp_path):
    ctx = replay_one_person(tmp_path, 38.6, "recheck", glasses=True)
    assert ctx.types().count("recheck") == 1 and "fever" not in ctx.types()
    recheck = dict(ctx.events)["recheck"]
    assert set(recheck) == {"track", "reason", "site", "temp_c", "threshold_c", "uncertainty_c", "frames",
                            "blackbody", "snapshot_png"}
    assert recheck["reason"] == "eyes_covered" and recheck["site"] == "forehead"
    assert recheck["uncertainty_c"] == 0.6 and recheck["snapshot_png"]
    assert sum(t["rechecks"] for t in ctx.telemetry_values) == 1
    assert sum(t["fevers"] for t in ctx.telemetry_values) == 0


def test_screening_keys_reach_the_pipeline_and_a_bad_blur_table_is_refused():
    from edge.processors.screening_fields import check_screening
    from edge.screening import ScreeningConfig

    errors: list[str] = []
    entry = Obj(SCREENING).check({"blur_table_c": [[10, 0.8], [20, 0.3]], "alert_margin_c": 0.0,
                                  "fallback_offset_c": 1.8, "recheck_margin_c": 0.2}, "", errors)
    check_screening(entry, "devices[0]", errors)
    assert errors == []
    cfg = ScreeningConfig.from_device(entry)
    assert cfg.blur_table() == ((10.0, 0.8), (20.0, 0.3)) and cfg.alert_margin_c == 0.0
    assert cfg.fallback and cfg.fallback_offset_c == 1.8 and cfg.recheck_margin_c == 0.2
    assert ScreeningConfig.from_device(Obj(SCREENING).check({"blur_table_c": []}, "", [])).blur_table() == ()
    bad = Obj(SCREENING).check({"blur_table_c": [[20, 0.3], [10, 0.8]]}, "", errors)
    check_screening(bad, "devices[0]", errors)
    assert errors == ["devices[0].blur_table_c: face widths must rise, got [20.0, 10.0]"]


def test_an_roi_across_the_blackbody_edge_is_reported_with_a_fix_and_retained(tmp_path):
    spec = gs.SceneSpec(people=3, seed=5, pair_share=0.0, glasses_share=0.0, cup_carry_share=0.0)
    scene = gs.generate(spec)
    path, _ = scene.save(tmp_path / "s.npy")
    x, y, _ = gs.blackbody_rect(spec)
    cfg = Obj(SCREENING).check({"blackbody": {"roi": [x - 11, y + 5, 16, 16]}, "degraded_alert_seconds": 1.0},
                               "", [])
    cfg.update(id="cam", path=str(path), fps=9.0)  # real time: health is judged on the frames' clock
    ctx = RecordingContext()
    cam = ThermalCamera(cfg, ctx, lambda: ReplaySource(path, 9.0))
    cam.start()
    try:
        wait_for(lambda: "screening_blind" in ctx.types() and "unscreened" in ctx.types(), 30,
                 "screening_blind and unscreened events")
    finally:
        cam.stop()
    degraded = dict(ctx.events)["screening_degraded"]
    assert degraded["reason"] == "blackbody_not_uniform"
    assert f"ROI [{x - 11}, {y + 5}, 16, 16] spans the blackbody's edge" in degraded["detail"]
    assert "use an ROI inside it, e.g. [" in degraded["detail"]
    state = ctx.states[-1]
    assert state["screening"] == "degraded" and state["reasons"] == ["blackbody_not_uniform"]
    blind = dict(ctx.events)["screening_blind"]
    assert blind["seconds"] >= 1.0 and blind["face_frames"] > 0
    unscreened = dict(ctx.events)["unscreened"]
    assert unscreened["reason"] == "screening_degraded" and unscreened["snapshot_png"]
    assert sum(t["unscreened"] for t in ctx.telemetry_values) == ctx.types().count("unscreened")
    assert "screened" not in ctx.types() and "fever" not in ctx.types()
