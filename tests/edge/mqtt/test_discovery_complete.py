"""Home Assistant completeness: events, image, camera sensors, per-device availability, removals."""

from __future__ import annotations

import base64
import json
import time

import jinja2.sandbox

from edge.mqtt.discovery import EVENT_TEMPLATE, discovery_configs, removed
from edge.mqtt.events import EVENTS
from edge.mqtt.topics import Topics
from tests.conftest import RunningAgent, agent_config, wait_for

T = Topics("campus", "mh-primary", "gate")
DEVICES = [
    {"id": "gate-cam", "kind": "thermal_camera", "driver": "replay", "name": "North gate"},
    {"id": "water-main", "kind": "water_meter", "driver": "pulse"},
    {"id": "ac", "kind": "relay", "driver": "gpio"},
]


def render(template: str, value_json: dict, this_state: str = "unknown") -> str:
    """Render as Home Assistant does: a sandboxed Jinja environment with HA's `to_json` filter."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment()
    env.filters["to_json"] = json.dumps
    return env.from_string(template).render(value_json=value_json, this={"state": this_state})


def by_topic() -> dict[str, dict]:
    return {c.topic: c.payload for c in discovery_configs("homeassistant", T, "1.0", DEVICES)}


def test_camera_gets_event_image_and_count_sensors():
    c = by_topic()
    ev = c["homeassistant/event/gate/gate-cam_events/config"]
    assert ev["state_topic"] == "campus/mh-primary/gate/gate-cam/event"
    assert ev["event_types"][:4] == ["fever", "recheck", "camera_offline", "camera_online"]
    # the screening's own reports too: Home Assistant refuses an event whose type is not listed
    reports = {"unscreened", "screening_degraded", "screening_blind", "calibration_drift"}
    assert reports <= set(ev["event_types"])
    img = c["homeassistant/image/gate/gate-cam_fever_snapshot/config"]
    assert img["image_topic"] == "campus/mh-primary/gate/gate-cam/snapshot"
    assert (img["image_encoding"], img["content_type"]) == ("b64", "image/png")
    screened = c["homeassistant/sensor/gate/gate-cam_screened/config"]
    assert screened["state_topic"] == "campus/mh-primary/gate/gate-cam/telemetry"
    assert render(screened["value_template"], {"values": {"screened": 7, "fevers": 0}}) == "7"
    maxt = c["homeassistant/sensor/gate/gate-cam_max_temp_c/config"]
    assert maxt["device_class"] == "temperature" and maxt["unit_of_measurement"] == "°C"
    # a window where no one was screened has no max_temp_c: the sensor keeps its last value
    assert render(maxt["value_template"], {"values": {"screened": 0}}, this_state="36.8") == "36.8"
    assert "homeassistant/sensor/gate/gate-cam_fevers/config" in c
    leak = c["homeassistant/event/gate/water-main_events/config"]
    assert "leak" in leak["event_types"] and "meter_offline" in leak["event_types"]


def test_every_event_a_device_emits_is_a_type_of_its_event_entity():
    c = by_topic()
    for dev in DEVICES:
        listed = set(c[f"homeassistant/event/gate/{dev['id']}_events/config"]["event_types"])
        assert set(EVENTS[dev["kind"]]) <= listed, dev["kind"]
    relay = c["homeassistant/event/gate/ac_events/config"]
    assert relay["event_types"] == ["relay_fault", "relay_ok", "rule_action"]
    # a relay has no availability of its own
    assert relay["availability_topic"] == "campus/mh-primary/gate/status"


def test_event_template_gives_home_assistant_the_type_and_fields_without_the_snapshot():
    fever = {"ts": 1, "seq": 4, "type": "fever", "track": 3, "temp_c": 38.4, "threshold_c": 37.3,
             "snapshot_png": base64.b64encode(b"\x89PNG....").decode()}
    out = json.loads(render(EVENT_TEMPLATE, fever))
    assert out == {"event_type": "fever", "ts": 1, "seq": 4, "track": 3, "temp_c": 38.4, "threshold_c": 37.3}
    leak = {"ts": 2, "seq": 1, "type": "leak", "reason": "burst", "flow_lpm": 30.5}
    assert json.loads(render(EVENT_TEMPLATE, leak))["event_type"] == "leak"


def test_meters_and_cameras_need_node_and_device_available_relays_only_the_node():
    c = by_topic()
    for topic, payload in c.items():
        if "/gate-cam" in topic or "/water-main" in topic:
            dev = "gate-cam" if "/gate-cam" in topic else "water-main"
            assert payload["availability"] == [{"topic": "campus/mh-primary/gate/status"},
                                               {"topic": f"campus/mh-primary/gate/{dev}/availability"}], topic
            assert payload["availability_mode"] == "all" and "availability_topic" not in payload
        else:
            assert payload["availability_topic"] == "campus/mh-primary/gate/status"


def test_removed_lists_what_was_announced_and_is_gone():
    now = discovery_configs("homeassistant", T, "1.0", DEVICES[2:])
    before = [c.topic for c in discovery_configs("homeassistant", T, "1.0", DEVICES)]
    gone = removed(before, now)
    assert gone and all("gate-cam" in t or "water-main" in t for t in gone)
    assert removed(before, discovery_configs("homeassistant", T, "1.0", DEVICES)) == []


def _retained(mqtt_probe, pattern: str) -> dict[str, bytes]:
    """What a newcomer (Home Assistant starting up) gets: the retained messages only."""
    probe = mqtt_probe([pattern])
    time.sleep(0.5)  # retained messages arrive right after the subscription
    return {m.topic: bytes(m.payload) for m in probe.seen if m.retain}


def test_a_device_removed_from_the_config_disappears_from_home_assistant(broker, tmp_path, pin_factory,
                                                                          mqtt_probe):
    meter = {"id": "m1", "kind": "electricity_meter", "driver": "dlt645",
             "port": "sim:dlt645?profile=school_day", "address": "000000000161", "poll_seconds": 1}
    relay = {"id": "ac", "kind": "relay", "driver": "gpio", "pin": 17}
    db = str(tmp_path / "agent.db")
    cfg = agent_config(broker, tmp_path, [relay, meter], homeassistant={"discovery": True},
                       storage={"path": db})
    ra = RunningAgent(cfg, pin_factory)
    sensor = "homeassistant/sensor/node-1/m1_energy_kwh/config"
    wait_for(lambda: sensor in _retained(mqtt_probe, "homeassistant/#"), what="the meter's sensors announced")
    ra.stop()
    cfg = agent_config(broker, tmp_path, [relay], homeassistant={"discovery": True}, storage={"path": db})
    ra = RunningAgent(cfg, pin_factory)
    try:
        wait_for(lambda: not [t for t in _retained(mqtt_probe, "homeassistant/#") if "m1" in t],
                 what="the meter's configs deleted (empty retained payloads)")
        left = _retained(mqtt_probe, "homeassistant/#")
        assert "homeassistant/switch/node-1/ac/config" in left
        announced = ra.agent.db.get("homeassistant", "announced")
        assert announced == ["homeassistant/event/node-1/ac_events/config",
                             "homeassistant/switch/node-1/ac/config"]
    finally:
        ra.stop()


def test_a_silent_meter_is_unavailable_on_its_own(run_agent, mqtt_probe):
    probe = mqtt_probe(["campus/#"])
    silent = {"id": "m9", "kind": "electricity_meter", "driver": "dlt645",
              "port": "sim:dlt645?addresses=000000000161", "address": "000000000999", "poll_seconds": 0.2,
              "timeout_seconds": 0.6, "retries": 0, "offline_after": 2, "max_backoff_seconds": 0.5}
    ok = {**silent, "id": "m1", "address": "000000000161"}
    ra = run_agent([ok, silent], homeassistant={"discovery": True})
    wait_for(lambda: [m for m in probe.on(f"{ra.base}/m9/availability") if m.payload == b"offline"],
             timeout=15, what="m9 offline on its availability topic")
    avail = _retained(mqtt_probe, f"{ra.base}/+/availability")
    assert avail == {f"{ra.base}/m9/availability": b"offline", f"{ra.base}/m1/availability": b"online"}


def test_a_fever_snapshot_becomes_the_image(run_agent, mqtt_probe, tmp_path):
    from tests.drivers.thermal.test_camera_agent import small_scene

    cam = small_scene(tmp_path, [38.8])
    ra = run_agent([cam], homeassistant={"discovery": True})
    topic = f"{ra.base}/gate-cam/snapshot"
    wait_for(lambda: topic in _retained(mqtt_probe, f"{ra.base}/+/snapshot"), timeout=30,
             what="the fever snapshot retained")
    png = base64.b64decode(_retained(mqtt_probe, topic)[topic])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    img = _retained(mqtt_probe, "homeassistant/image/#")
    config = json.loads(img["homeassistant/image/node-1/gate-cam_fever_snapshot/config"])
    assert config["image_topic"] == topic
