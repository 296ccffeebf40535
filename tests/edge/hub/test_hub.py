"""The hub against a real Mosquitto (and a real agent with mock relays): journal, availability, names,
commands, node views, listeners, bad payloads."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from edge.broker import Mosquitto
from tests.conftest import wait_for
from tests.edge.hub.support import SITE, RunningHub, fever, hub_raw_config, info, png

BASE = f"campus/{SITE}/gate"


@pytest.fixture
def run_hub(broker: Mosquitto, tmp_path: Path) -> Iterator[Callable[..., RunningHub]]:
    running: list[RunningHub] = []

    def start(raw: dict | None = None, **extra) -> RunningHub:
        rh = RunningHub(raw or hub_raw_config(broker, tmp_path, **extra))
        running.append(rh)
        return rh

    yield start
    for rh in running:
        rh.stop()


def test_event_is_journalled_once_with_its_snapshot_and_place(run_hub, mqtt_probe) -> None:
    rh = run_hub()
    probe = mqtt_probe()
    probe.publish(f"{BASE}/info", info(("cam-east", "thermal_camera", "东门")), retain=True)
    wait_for(lambda: rh.journal.nodes().get((SITE, "gate")), what="the info to be kept")
    img = png(5)
    body = fever(1, snapshot=img)
    probe.publish(f"{BASE}/cam-east/event", body)
    a = wait_for(lambda: rh.journal.alerts(), what="the alert")[0]
    assert a.place == "东门" and a.type == "fever" and a.fields["temp_c"] == 38.1
    assert Path(a.snapshot_path).read_bytes() == img
    for _ in range(3):  # the agent's outbox re-sends after a lost PUBACK
        probe.publish(f"{BASE}/cam-east/event", body)
    probe.publish(f"{BASE}/cam-east/event", fever(2))
    wait_for(lambda: rh.hub.counters["events"] == 2 and rh.hub.counters["duplicates"] == 3,
             what="the copies to be seen")
    assert rh.journal.count() == 2


def test_bad_payloads_are_counted_and_the_hub_goes_on(run_hub, mqtt_probe, caplog) -> None:
    rh = run_hub()
    probe = mqtt_probe()
    probe.publish(f"{BASE}/cam-east/event", b"\x00garbage" + b"x" * 1000)
    probe.publish(f"{BASE}/cam-east/event", {"ts": 1, "type": "fever"})
    probe.publish(f"{BASE}/status", "exploded")
    probe.publish(f"{BASE}/cam-east/event", fever(9))
    wait_for(lambda: rh.journal.count() == 1, what="the good event")
    assert rh.hub.counters["bad_payloads"] == 3
    lines = [r.getMessage() for r in caplog.records if "refused message" in r.getMessage()]
    assert lines and all(len(line) < 700 for line in lines) and "\\x00garbage" in lines[0]


def test_node_offline_and_online_entries(run_hub, mqtt_probe) -> None:
    rh = run_hub()
    probe = mqtt_probe()
    probe.publish(f"{BASE}/status", "online", retain=True)
    probe.publish(f"{BASE}/status", "online", retain=True)
    probe.publish(f"{BASE}/status", "offline", retain=True)
    probe.publish(f"{BASE}/status", "offline", retain=True)
    probe.publish(f"{BASE}/status", "online", retain=True)
    wait_for(lambda: len(rh.journal.alerts()) == 2, what="two availability entries")
    assert [a.type for a in reversed(rh.journal.alerts())] == ["node_offline", "node_online"]
    view = wait_for(lambda: [n for n in rh.hub.nodes() if n["node"] == "gate"], what="the node view")[0]
    assert view["online"] is True


def test_names_survive_a_restart_without_the_retained_info(run_hub, mqtt_probe, broker, tmp_path) -> None:
    raw = hub_raw_config(broker, tmp_path)
    rh = run_hub(raw)
    probe = mqtt_probe()
    probe.publish(f"{BASE}/info", info(("cam-east", "thermal_camera", "东门")), retain=True)
    wait_for(lambda: rh.journal.nodes().get((SITE, "gate")), what="the info to be kept")
    rh.stop()
    probe.publish(f"{BASE}/info", b"", retain=True)  # the retained info is gone
    rh = run_hub(raw)
    probe.publish(f"{BASE}/cam-east/event", fever(1))
    probe.publish(f"{BASE}/cam-west/event", fever(1))
    wait_for(lambda: rh.journal.count() == 2, what="both alerts")
    assert sorted(a.place for a in rh.journal.alerts()) == ["cam-west", "东门"]  # falls back to the id


def test_commands_nodes_and_listeners_with_a_real_agent(run_hub, run_agent, pin_factory) -> None:
    rh = run_hub()
    heard: list[tuple[str, dict]] = []
    rh.hub.add_listener(lambda kind, what: heard.append((kind, what)))
    relay = {"id": "buzzer", "kind": "relay", "driver": "gpio", "pin": 17, "name": "东门蜂鸣器",
             "groups": ["gate-alarm"]}
    light = {"id": "light", "kind": "relay", "driver": "gpio", "pin": 27, "groups": ["gate-alarm"]}
    ra = run_agent([relay, light], node="gate")
    reply = rh.hub.command(SITE, "gate", "buzzer", "on", by="王老师")
    assert reply["ok"] is True and reply["state"]["on"] is True and reply["node"] == "gate"
    assert int(pin_factory.pin(17).state) == 1
    replies = rh.hub.command_group(SITE, "gate-alarm", "off", timeout=3)
    assert sorted(r["device"] for r in replies) == ["buzzer", "light"] and all(r["ok"] for r in replies)
    # Knowing the group's two members, the hub answers once both replied instead of at the timeout.
    started = time.monotonic()
    replies = rh.hub.command_group(SITE, "gate-alarm", "off", timeout=120, members=2)
    assert sorted(r["device"] for r in replies) == ["buzzer", "light"] and time.monotonic() - started < 60
    assert rh.hub.command(SITE, "gate", "nope", "on", timeout=1)["ok"] is False  # the agent refuses it
    assert rh.hub.command(SITE, "ghost-node", "x", "on", timeout=0.5) == {"ok": False, "error": "timeout"}

    def view():
        nodes = [n for n in rh.hub.nodes() if n["node"] == "gate"]
        return nodes and nodes[0]["devices"] and all(d["state"] for d in nodes[0]["devices"]) and nodes[0]

    node = wait_for(view, what="the node view with states")
    assert node["online"] is True and node["version"]
    devs = {d["id"]: d for d in node["devices"]}
    assert devs["buzzer"]["name"] == "东门蜂鸣器" and devs["light"]["name"] == "light"
    assert devs["buzzer"]["groups"] == ["gate-alarm"] and devs["buzzer"]["state"]["on"] is False
    wait_for(lambda: any(k == "state" and w["device"] == "buzzer" for k, w in heard), what="a state")
    assert any(k == "status" and w["online"] for k, w in heard)
    ra.stop()
    wait_for(lambda: any(k == "alert" and w.type == "node_offline" for k, w in heard), what="offline alert")
    a = rh.journal.alerts(types="node_offline")[0]
    rh.journal.acknowledge(a.id, "me", 1)
    wait_for(lambda: any(k == "alert" and w.state == "acknowledged" for k, w in heard), what="the ack")


def test_screening_telemetry_and_agent_health(run_hub, mqtt_probe) -> None:
    rh = run_hub()
    probe = mqtt_probe()
    tel = {"ts": 1_764_547_200_000, "seq": 1, "values": {"screened": 40, "fevers": 1, "rechecks": 2,
                                                       "covered": 3, "max_temp_c": 38.2}}
    probe.publish(f"{BASE}/cam-east/telemetry", tel)
    probe.publish(f"{BASE}/cam-east/telemetry", tel)
    probe.publish(f"{BASE}/agent/telemetry", {"ts": 1, "seq": 1, "values": {"outbox_pending": 7.0}})
    probe.publish(f"{BASE}/meter/telemetry", {"ts": 1, "seq": 1, "values": {"energy_kwh": 7.0}})
    wait_for(lambda: [n for n in rh.hub.nodes() if n["outbox_pending"] == 7.0], what="the agent's health")
    totals = rh.journal.screening_totals(0, 2**62)
    assert totals == [(SITE, "gate", "cam-east", {"screened": 40, "fevers": 1, "rechecks": 2, "covered": 3,
                                                  "unscreened": 0})]
    assert json.loads(json.dumps(rh.hub.nodes()))  # the console serialises it


def test_names_of_a_large_node_come_from_every_info_page(run_hub, mqtt_probe) -> None:
    """10,000 devices: the agent pages its info (docs/mqtt.md); an alert of a device on the last page
    carries its name, not its id."""
    from edge.mqtt.payloads import info_pages

    rh = run_hub()
    probe = mqtt_probe()
    devices = [{"id": f"m{i:05d}", "kind": "electricity_meter", "driver": "modbus", "name": f"表 {i}"}
               for i in range(9_999)]
    devices.append({"id": "cam-last", "kind": "thermal_camera", "driver": "sim", "name": "西门"})
    pages = info_pages("1.0", 5, 0, devices)
    assert len(pages) > 2
    probe.publish(f"{BASE}/info", pages[0], retain=True)  # page 1 first: incomplete until the rest come
    for p in pages[1:]:
        probe.publish(f"{BASE}/info/{p['page']}", p, retain=True)
    node = wait_for(lambda: (rh.journal.nodes().get((SITE, "gate")) or {}).get("info") or None,
                    what="the info kept")
    wait_for(lambda: len(rh.journal.nodes()[(SITE, "gate")]["info"]["devices"]) == 10_000,
             what="all pages merged")
    assert node is not None
    probe.publish(f"{BASE}/cam-last/event", fever(1))
    a = wait_for(lambda: rh.journal.alerts(), what="the alert")[0]
    assert a.place == "西门"
