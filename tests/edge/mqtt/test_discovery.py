"""Home Assistant discovery configs: pure builder, and what an agent publishes."""

from __future__ import annotations

import json

from edge.mqtt.discovery import discovery_configs
from edge.mqtt.topics import Topics
from tests.conftest import wait_for

T = Topics("campus", "mh-primary", "classroom-301")


def test_relay_becomes_a_switch_that_sends_plain_on_off() -> None:
    dc, events = discovery_configs(
        "homeassistant",
        T,
        "0.1.0",
        [{"id": "ac-301", "kind": "relay", "driver": "gpio", "name": "Air conditioner"}],
    )
    assert events.topic == "homeassistant/event/classroom-301/ac-301_events/config"
    assert dc.topic == "homeassistant/switch/classroom-301/ac-301/config"
    p = dc.payload
    assert p["command_topic"] == "campus/mh-primary/classroom-301/ac-301/set"
    assert p["state_topic"] == "campus/mh-primary/classroom-301/ac-301/state"
    assert (p["payload_on"], p["payload_off"]) == ("ON", "OFF")
    assert p["value_template"] == "{{ 'ON' if value_json.on else 'OFF' }}"
    assert p["availability_topic"] == "campus/mh-primary/classroom-301/status"
    assert p["unique_id"] == "ce_mh-primary_classroom-301_ac-301" and p["name"] == "Air conditioner"


def test_meters_become_sensors_of_their_state_values() -> None:
    configs = discovery_configs(
        "ha",
        T,
        "0.1.0",
        [
            {"id": "water-main", "kind": "water_meter", "driver": "pulse"},
            {"id": "cam", "kind": "thermal_camera", "driver": "replay"},
        ],
    )
    by_topic = {c.topic: c.payload for c in configs}
    assert {t for t in by_topic if "water-main" in t} == {
        "ha/sensor/classroom-301/water-main_volume_m3/config",
        "ha/sensor/classroom-301/water-main_flow_lpm/config",
        "ha/event/classroom-301/water-main_events/config",
    }
    vol = by_topic["ha/sensor/classroom-301/water-main_volume_m3/config"]
    assert vol["value_template"] == "{{ value_json['values']['volume_m3'] }}"
    assert (vol["device_class"], vol["unit_of_measurement"], vol["state_class"]) == (
        "water",
        "m³",
        "total_increasing",
    )


def test_agent_publishes_discovery_and_answers_home_assistant_birth(run_agent, mqtt_probe, pin_factory):
    run_agent(
        [{"id": "ac", "kind": "relay", "driver": "gpio", "pin": 17}], homeassistant={"discovery": True}
    )
    topic = "homeassistant/switch/node-1/ac/config"
    probe = mqtt_probe([topic])
    cfg = probe.wait_json(topic)
    assert probe.on(topic)[0].retain
    probe.publish(
        cfg["command_topic"], cfg["payload_on"].encode()
    )  # what HA sends when the switch is flipped
    wait_for(lambda: int(pin_factory.pin(17).state) == 1, what="relay on")
    n = len(probe.on(topic))
    probe.publish("homeassistant/status", b"online")
    wait_for(lambda: len(probe.on(topic)) > n, what="discovery republished after HA's birth")
    assert json.loads(probe.on(topic)[-1].payload) == cfg


def test_no_discovery_unless_asked(run_agent, mqtt_probe):
    ra = run_agent([{"id": "ac", "kind": "relay", "driver": "gpio", "pin": 17}])
    probe = mqtt_probe(["homeassistant/#", f"{ra.base}/info"])
    probe.wait_json(f"{ra.base}/info")
    assert not [m for m in probe.seen if m.topic.startswith("homeassistant/")]
