"""Issue #9: a replay file that shrinks while it plays, and a camera that sends NaN/inf frames.

The first runs a real `campus-edge agent` process (a memory-mapped file truncated under it used to kill it
with SIGBUS, relays and all); the second runs the camera device on a real replay source."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from drivers.thermal.sources import ReplaySource
from edge.config.schema import Obj
from edge.processors import thermal as camera_mod
from edge.processors.screening_fields import SCREENING
from edge.processors.thermal import ThermalCamera
from tests.conftest import wait_for
from tests.edge.processors.test_camera_device import RecordingContext

pytestmark = pytest.mark.adversarial

ROOT = Path(__file__).resolve().parents[3]


def test_a_replay_file_truncated_while_playing_is_camera_offline_not_a_crash(broker, mqtt_probe, tmp_path):
    frames = np.full((3000, 24, 32), 22.0, np.float32)  # 100 s at 30 fps: still playing when truncated
    scene = tmp_path / "scene.npy"
    np.save(scene, frames)
    cfg = tmp_path / "agent.yaml"
    cfg.write_text(yaml.safe_dump({
        "site": "s1", "node": "gate", "mqtt": {"host": broker.host, "port": broker.port, "keepalive": 5},
        "storage": {"path": str(tmp_path / "agent.db")}, "health_seconds": 60,
        "devices": [{"id": "cam", "kind": "thermal_camera", "driver": "replay", "path": str(scene),
                     "fps": 30},
                    {"id": "r1", "kind": "relay", "driver": "gpio", "pin": 17}]}))
    probe = mqtt_probe(["campus/s1/gate/#"])
    log = open(tmp_path / "agent.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "edge.cli", "agent", "-c", str(cfg)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "GPIOZERO_PIN_FACTORY": "mock"},
                            stdout=log, stderr=log)
    try:
        probe.wait_json("campus/s1/gate/cam/state", lambda s: s.get("online") is True, timeout=20)
        time.sleep(1.0)  # some 30 frames played from the file
        os.truncate(scene, 128 + 5 * 24 * 32 * 4)  # the header and 5 frames are left
        offline = probe.wait_json("campus/s1/gate/cam/event", lambda e: e["type"] == "camera_offline",
                                  timeout=20)
        assert "truncated" in offline["error"]
        assert proc.poll() is None, f"the agent died (exit {proc.returncode}; -7 is SIGBUS)"
        probe.publish("campus/s1/gate/r1/set", {"id": "after-truncation", "action": "on"})
        assert probe.wait_json("campus/s1/gate/r1/reply")["ok"] is True  # the node still works
        assert probe.wait_json("campus/s1/gate/cam/state", lambda s: s.get("online") is False)
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
    assert "Traceback" not in (tmp_path / "agent.log").read_text()


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_a_camera_sending_nan_or_inf_frames_is_offline_with_a_reason(tmp_path, monkeypatch, caplog, value):
    monkeypatch.setattr(camera_mod, "RETRY_FIRST_S", 0.1)
    path = tmp_path / "bad.npy"
    np.save(path, np.full((200, 24, 32), value, np.float32))
    cfg = Obj(SCREENING).check({"blackbody": {"roi": [0, 0, 4, 4]}, "telemetry_seconds": 60}, "", [])
    cfg.update(id="cam", path=str(path), fps=100.0)
    ctx = RecordingContext()
    cam = ThermalCamera(cfg, ctx, lambda: ReplaySource(path, 100.0))
    with caplog.at_level(logging.INFO, logger="test.camera"):
        cam.start()
        try:
            wait_for(lambda: "camera_offline" in ctx.types(), 10, "camera_offline")
            time.sleep(0.8)  # several reopen attempts, each sending bad frames again
        finally:
            cam.stop()
    types = ctx.types()
    assert types.count("camera_offline") == 1 and "camera_online" not in types  # no flapping
    assert "not finite" in dict(ctx.events)["camera_offline"]["error"]
    assert ctx.states[-1]["online"] is False and "not finite" in ctx.states[-1]["error"]
    assert cam.counters["bad_frames"] >= camera_mod.BAD_FRAMES_OFFLINE
    assert not any(r.exc_info for r in caplog.records), "no traceback per bad frame"
    assert len([r for r in caplog.records if "dropped" in r.getMessage()]) == 1  # rate-limited


def test_a_few_nan_pixels_are_screened_as_usual(tmp_path):
    frames = np.full((30, 24, 32), 22.0, np.float32)
    frames[:, 0, :5] = np.nan  # a dead column edge: the frame is still usable
    path = tmp_path / "ok.npy"
    np.save(path, frames)
    cfg = Obj(SCREENING).check({"telemetry_seconds": 60}, "", [])
    cfg.update(id="cam", path=str(path), fps=100.0)
    ctx = RecordingContext()
    cam = ThermalCamera(cfg, ctx, lambda: ReplaySource(path, 100.0))
    cam.start()
    try:
        wait_for(lambda: cam.counters["frames"] >= 30, 10, "30 frames")
    finally:
        cam.stop()
    assert cam.counters["bad_frames"] == 0 and "camera_offline" not in ctx.types()
