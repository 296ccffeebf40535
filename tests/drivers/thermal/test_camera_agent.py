"""A real agent with a replay thermal camera, against the test broker."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from edge.config.schema import ConfigError
from simulators import gate_scene as gs
from tests.conftest import agent_config, wait_for


def small_scene(tmp_path, cores: list[float]) -> dict:
    spec = gs.SceneSpec(people=len(cores), seed=5, pair_share=0.0, glasses_share=0.0, cup_carry_share=0.0)
    people = [gs.with_core(p, c) for p, c in zip(gs.plan(spec), cores, strict=True)]
    scene = gs.generate(spec, people)
    path, _ = scene.save(tmp_path / "scene.npy")
    return {"id": "gate-cam", "kind": "thermal_camera", "driver": "replay", "path": str(path), "fps": 30,
            "blackbody": {"roi": scene.blackbody_roi, "temp_c": 35.0}, "telemetry_seconds": 1}


def test_fever_event_arrives_over_mqtt_with_the_contract_fields(run_agent, mqtt_probe, tmp_path):
    cam = small_scene(tmp_path, [36.6, 38.7, 36.8])
    probe = mqtt_probe(["campus/#"])
    ra = run_agent([cam])
    event_topic = f"{ra.base}/gate-cam/event"
    fever = probe.wait_json(event_topic, lambda e: e["type"] == "fever", timeout=20)
    assert set(fever) == {"type", "ts", "seq", "track", "temp_c", "threshold_c", "uncertainty_c", "frames",
                          "blackbody", "snapshot_png"}
    assert fever["temp_c"] == pytest.approx(38.7, abs=0.4)
    assert fever["threshold_c"] == 37.3 and fever["blackbody"] is True and fever["frames"] >= 3
    png = base64.b64decode(fever["snapshot_png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None and min(img.shape[:2]) >= 32
    telemetry = probe.wait_json(f"{ra.base}/gate-cam/telemetry", lambda t: t["values"]["screened"] >= 1,
                                timeout=20)
    assert {"screened", "fevers"} <= set(telemetry["values"])
    # the whole scene plays out: three people screened, exactly one fever (one febrile person)
    topic = f"{ra.base}/gate-cam/telemetry"
    wait_for(lambda: sum(t["values"]["screened"] for t in probe.json_on(topic)) >= 3, 20, "3 people screened")
    ra.stop()
    assert [e["type"] for e in probe.json_on(event_topic)].count("fever") == 1


def test_an_unplugged_camera_is_reported_and_the_agent_runs_on(run_agent, mqtt_probe):
    probe = mqtt_probe(["campus/#"])
    ra = run_agent([{"id": "door-cam", "kind": "thermal_camera", "driver": "uvc_p2pro",
                     "device": "/dev/video-campus-edge-none"},
                    {"id": "ac-1", "kind": "relay", "driver": "gpio", "pin": 5}])
    offline = probe.wait_json(f"{ra.base}/door-cam/event", lambda e: e["type"] == "camera_offline",
                              timeout=15)
    assert "cannot open" in offline["error"]
    assert probe.wait_json(f"{ra.base}/door-cam/state", lambda s: s["online"] is False)
    probe.publish(f"{ra.base}/ac-1/set", {"id": "c1", "action": "on"})
    assert probe.wait_json(f"{ra.base}/ac-1/reply")["ok"] is True  # the agent is alive
    assert ra.thread.is_alive()


def test_config_errors_name_their_place(broker, tmp_path):
    cam = {"id": "gate-cam", "kind": "thermal_camera", "driver": "replay", "path": str(tmp_path / "none.npy"),
           "threshold_c": "hot", "blackbody": {"roi": [1, 2, 3]}, "colour": "red"}
    with pytest.raises(ConfigError) as err:
        agent_config(broker, tmp_path, [cam])
    text = str(err.value)
    assert "devices[0].threshold_c: expected a number" in text
    assert "devices[0].blackbody.roi: needs at least 4 item(s)" in text
    assert "devices[0].colour: unknown key" in text


def test_a_replay_file_of_the_wrong_shape_is_a_camera_fault_not_a_crash(run_agent, mqtt_probe, tmp_path):
    # The file is opened like a camera: checked at start, reported, retried (check-config passes
    # on a machine where the scene has not been recorded yet).
    np.save(tmp_path / "flat.npy", np.zeros((4, 4), np.float32))
    probe = mqtt_probe(["campus/#"])
    cam = {"id": "gate-cam", "kind": "thermal_camera", "driver": "replay",
           "path": str(tmp_path / "flat.npy")}
    ra = run_agent([cam])
    offline = probe.wait_json(f"{ra.base}/gate-cam/event", lambda e: e["type"] == "camera_offline",
                              timeout=15)
    assert "(N, H, W)" in offline["error"]
    assert ra.thread.is_alive()


def test_mlx90640_entry_defaults_to_face_max(broker, tmp_path):
    cfg = agent_config(broker, tmp_path, [{"id": "c", "kind": "thermal_camera", "driver": "mlx90640"}])
    assert cfg["devices"][0]["method"] == "face_max" and cfg["devices"][0]["refresh_hz"] == 8
    with pytest.raises(ConfigError, match="refresh_hz"):
        agent_config(broker, tmp_path, [{"id": "c", "kind": "thermal_camera", "driver": "mlx90640",
                                         "refresh_hz": 3}])


def test_a_blackbody_roi_across_its_edge_is_an_event_and_retained_state(run_agent, mqtt_probe, tmp_path):
    cam = small_scene(tmp_path, [36.6, 36.8, 36.7])
    x, y, _ = gs.blackbody_rect(gs.SceneSpec())
    cam.update(fps=9, blackbody={"roi": [x - 11, y + 5, 16, 16], "temp_c": 35.0})
    probe = mqtt_probe(["campus/#"])
    ra = run_agent([cam])
    degraded = probe.wait_json(f"{ra.base}/gate-cam/event", lambda e: e["type"] == "screening_degraded",
                               timeout=20)
    assert degraded["reason"] == "blackbody_not_uniform"
    assert "use an ROI inside it, e.g. [" in degraded["detail"]
    state = probe.wait_json(f"{ra.base}/gate-cam/state", lambda s: s.get("screening") == "degraded",
                            timeout=10)
    assert state["online"] is True and state["reasons"] == ["blackbody_not_uniform"]
    # nobody is screened on that reference, and nobody passes unseen
    unscreened = probe.wait_json(f"{ra.base}/gate-cam/event", lambda e: e["type"] == "unscreened", timeout=20)
    assert unscreened["reason"] == "screening_degraded"
    ra.stop()
