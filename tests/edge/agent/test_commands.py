"""Commands end to end through a real Mosquitto: relay pins, replies, retained state."""

from __future__ import annotations

import subprocess
import time
import uuid

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.conftest import wait_for

AC = {"id": "ac-301", "kind": "relay", "driver": "gpio", "pin": 17, "groups": ["after-hours"]}
LIGHT = {
    "id": "light-301",
    "kind": "relay",
    "driver": "gpio",
    "pin": 27,
    "active_high": False,
    "groups": ["after-hours"],
}


def pin(factory, n: int) -> int:
    return int(factory.pin(n).state)


def test_birth_status_info_and_boot_state(run_agent, mqtt_probe):
    ra = run_agent([AC, LIGHT])
    first = mqtt_probe([f"{ra.base}/status"])
    wait_for(lambda: first.on(f"{ra.base}/status"), what="status")
    probe = mqtt_probe([f"{ra.base}/#"])  # subscribes after the birth: gets the retained copies
    assert probe.wait_json(f"{ra.base}/ac-301/state")["cause"] == "boot"
    info = probe.wait_json(f"{ra.base}/info")
    assert info["session"] >= 1 and info["version"]
    assert [(d["id"], d["kind"]) for d in info["devices"]] == [("ac-301", "relay"), ("light-301", "relay")]
    wait_for(lambda: [m.payload for m in probe.on(f"{ra.base}/status")] == [b"online"], what="status online")
    assert all(m.retain for m in probe.on(f"{ra.base}/status") + probe.on(f"{ra.base}/info"))


def test_command_from_mosquitto_pub_flips_relay_and_replies(run_agent, mqtt_probe, broker, pin_factory):
    ra = run_agent([AC, LIGHT])
    probe = mqtt_probe([f"{ra.base}/#"])
    probe.wait_json(f"{ra.base}/light-301/state")
    assert pin(pin_factory, 27) == 1  # active-low board: off means the pin is high
    subprocess.run(
        [
            "mosquitto_pub",
            "-h",
            broker.host,
            "-p",
            str(broker.port),
            "-q",
            "1",
            "-V",
            "mqttv5",
            "-t",
            f"{ra.base}/light-301/set",
            "-m",
            '{"id":"cmd-1","action":"on"}',
        ],
        check=True,
        timeout=10,
    )
    reply = probe.wait_json(f"{ra.base}/light-301/reply", lambda r: r["id"] == "cmd-1")
    assert reply["ok"] is True and reply["state"]["on"] is True and reply["state"]["cause"] == "command"
    assert pin(pin_factory, 27) == 0
    state = probe.wait_json(f"{ra.base}/light-301/state", lambda s: s["cause"] == "command")
    assert state["on"] is True
    # retained: a late subscriber gets it
    late = mqtt_probe([f"{ra.base}/light-301/state"])
    assert late.wait_json(f"{ra.base}/light-301/state")["on"] is True


def test_duplicate_id_is_answered_not_executed(run_agent, mqtt_probe, pin_factory):
    ra = run_agent([AC])
    probe = mqtt_probe([f"{ra.base}/ac-301/reply"])
    for _ in range(3):
        probe.publish(f"{ra.base}/ac-301/set", {"id": "t1", "action": "toggle"})
    wait_for(lambda: len(probe.json_on(f"{ra.base}/ac-301/reply")) == 3, what="three replies")
    replies = probe.json_on(f"{ra.base}/ac-301/reply")
    assert [r.get("duplicate", False) for r in replies] == [False, True, True]
    assert all(r["state"]["on"] is True for r in replies)
    assert pin(pin_factory, 17) == 1  # toggled once, not three times


def test_duplicate_is_recognised_after_agent_restart(run_agent, mqtt_probe, broker, tmp_path, pin_factory):
    from tests.conftest import agent_config

    cfg = agent_config(broker, tmp_path, [AC])
    ra = run_agent(cfg=cfg)
    probe = mqtt_probe([f"{ra.base}/ac-301/reply"])
    probe.publish(f"{ra.base}/ac-301/set", {"id": "once", "action": "toggle"})
    probe.wait_json(f"{ra.base}/ac-301/reply", lambda r: r["id"] == "once")
    ra.stop()
    ra2 = run_agent(cfg=cfg)
    probe.publish(f"{ra2.base}/ac-301/set", {"id": "once", "action": "toggle"})
    dup = probe.wait_json(f"{ra.base}/ac-301/reply", lambda r: r.get("duplicate"))
    assert dup["id"] == "once" and dup["ok"] is True


def test_expired_command_is_refused(run_agent, mqtt_probe, pin_factory):
    ra = run_agent([AC])
    probe = mqtt_probe([f"{ra.base}/ac-301/reply"])
    probe.publish(
        f"{ra.base}/ac-301/set", {"id": "old", "action": "on", "expires": int(time.time() * 1000) - 5000}
    )
    reply = probe.wait_json(f"{ra.base}/ac-301/reply", lambda r: r["id"] == "old")
    assert reply["ok"] is False and "expired" in reply["error"]
    assert pin(pin_factory, 17) == 0


def test_plain_on_off_any_case(run_agent, mqtt_probe, pin_factory):
    ra = run_agent([AC])
    probe = mqtt_probe([f"{ra.base}/ac-301/state"])
    probe.publish(f"{ra.base}/ac-301/set", b"On")
    wait_for(lambda: pin(pin_factory, 17) == 1, what="relay on")
    probe.publish(f"{ra.base}/ac-301/set", b"OFF")
    wait_for(lambda: pin(pin_factory, 17) == 0, what="relay off")
    probe.publish(f"{ra.base}/ac-301/set", b"toggle")
    probe.wait_json(f"{ra.base}/ac-301/state", lambda s: s["on"] and s["cause"] == "command")


def test_group_command_switches_every_member(run_agent, mqtt_probe, pin_factory):
    other = {"id": "fan-1", "kind": "relay", "driver": "gpio", "pin": 5}
    ra = run_agent([AC, LIGHT, other])
    probe = mqtt_probe([f"{ra.base}/+/reply"])
    probe.publish(f"{ra.base}/ac-301/set", {"id": "a", "action": "on"})
    probe.publish(f"{ra.base}/light-301/set", {"id": "b", "action": "on"})
    probe.publish(f"{ra.base}/fan-1/set", {"id": "c", "action": "on"})
    wait_for(lambda: pin(pin_factory, 17) == 1 and pin(pin_factory, 27) == 0 and pin(pin_factory, 5) == 1)
    probe.publish("campus/test-site/group/after-hours/set", {"id": "g1", "action": "off"})
    probe.wait_json(f"{ra.base}/ac-301/reply", lambda r: r["id"] == "g1")
    probe.wait_json(f"{ra.base}/light-301/reply", lambda r: r["id"] == "g1")
    assert pin(pin_factory, 17) == 0 and pin(pin_factory, 27) == 1
    assert pin(pin_factory, 5) == 1  # not in the group
    assert not [r for r in probe.json_on(f"{ra.base}/fan-1/reply") if r["id"] == "g1"]


def test_malformed_commands_get_error_replies_and_agent_keeps_running(run_agent, mqtt_probe, pin_factory):
    ra = run_agent([AC])
    probe = mqtt_probe([f"{ra.base}/+/reply"])
    probe.publish(f"{ra.base}/ac-301/set", b"\x00\xffgarbage")
    probe.publish(f"{ra.base}/ac-301/set", {"id": "x1", "action": "explode"})
    probe.publish(f"{ra.base}/ac-301/set", b"x" * 100_000)
    probe.publish(f"{ra.base}/nope/set", {"id": "x2", "action": "on"})
    probe.publish(f"{ra.base}/ac-301/set", {"id": "p1", "action": "pulse", "seconds": 99999})
    wait_for(lambda: len(probe.json_on(f"{ra.base}/ac-301/reply")) == 4, what="four error replies")
    errors = [r["error"] for r in probe.json_on(f"{ra.base}/ac-301/reply")]
    assert all(not r["ok"] for r in probe.json_on(f"{ra.base}/ac-301/reply"))
    assert "'action' must be one of on, off, toggle, pulse" in errors[1]
    assert "the limit is 4096" in errors[2]
    assert "longer than the limit" in errors[3]
    assert "no device 'nope'" in probe.wait_json(f"{ra.base}/nope/reply")["error"]
    # still alive and correct
    probe.publish(f"{ra.base}/ac-301/set", {"id": "ok1", "action": "on"})
    assert probe.wait_json(f"{ra.base}/ac-301/reply", lambda r: r["id"] == "ok1")["ok"] is True
    assert ra.agent.counters["bad_payloads"] == 3


def test_pulse_switches_off_again(run_agent, mqtt_probe, pin_factory):
    ra = run_agent([AC])
    probe = mqtt_probe([f"{ra.base}/ac-301/state", f"{ra.base}/ac-301/reply"])
    probe.publish(f"{ra.base}/ac-301/set", {"id": "p", "action": "pulse", "seconds": 0.3})
    probe.wait_json(f"{ra.base}/ac-301/state", lambda s: s["on"] is True and s["cause"] == "command")
    probe.wait_json(
        f"{ra.base}/ac-301/state", lambda s: s["on"] is False and s["cause"] == "command", timeout=5
    )
    assert pin(pin_factory, 17) == 0
    # One reply per command: the pulse's end is a new state, not a second reply (with no id).
    probe.publish(f"{ra.base}/ac-301/set", {"id": "after", "action": "off"})
    probe.wait_json(f"{ra.base}/ac-301/reply", lambda r: r["id"] == "after")
    assert [r["id"] for r in probe.json_on(f"{ra.base}/ac-301/reply")] == ["p", "after"]


def test_mqtt5_response_topic_and_correlation_data(run_agent, mqtt_probe):
    ra = run_agent([AC])
    probe = mqtt_probe(["app/replies/42"])
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic = "app/replies/42"
    props.CorrelationData = b"corr-7"
    probe.publish(f"{ra.base}/ac-301/set", {"id": "r1", "action": "on"}, properties=props)
    msg = wait_for(lambda: probe.on("app/replies/42"), what="reply on the response topic")[0]
    assert msg.properties.CorrelationData == b"corr-7"
    assert b'"id":"r1"' in msg.payload


def test_rebirth_republishes_retained(run_agent, mqtt_probe):
    ra = run_agent([AC])
    probe = mqtt_probe([f"{ra.base}/info"])
    probe.wait_json(f"{ra.base}/info")
    probe.publish(f"{ra.base}/cmd", b"rebirth")
    wait_for(lambda: len(probe.on(f"{ra.base}/info")) >= 2, what="a second info")


def test_command_sent_while_agent_offline_is_delivered_on_return(
    run_agent, mqtt_probe, broker, tmp_path, pin_factory
):
    from tests.conftest import agent_config

    cfg = agent_config(broker, tmp_path, [AC])
    ra = run_agent(cfg=cfg)
    probe = mqtt_probe([f"{ra.base}/ac-301/reply"])
    probe.wait_json  # noqa: B018
    wait_for(lambda: ra.agent.session.connected, what="agent connected")
    ra.stop()
    cid = uuid.uuid4().hex
    probe.publish(f"{ra.base}/ac-301/set", {"id": cid, "action": "on"})
    probe.publish(
        f"{ra.base}/ac-301/set", {"id": "stale", "action": "off", "expires": int(time.time() * 1000) + 200}
    )
    time.sleep(0.4)  # let the second command's expiry pass while the agent is away
    run_agent(cfg=cfg)
    assert probe.wait_json(f"{ra.base}/ac-301/reply", lambda r: r["id"] == cid)["ok"] is True
    stale = probe.wait_json(f"{ra.base}/ac-301/reply", lambda r: r["id"] == "stale")
    assert stale["ok"] is False and "expired" in stale["error"]
    assert pin(pin_factory, 17) == 1


def test_failsafe_when_broker_gone(run_agent, mqtt_probe, broker, pin_factory):
    dev = {**AC, "failsafe": {"offline_seconds": 1, "state": "off"}}
    ra = run_agent([dev])
    probe = mqtt_probe([f"{ra.base}/ac-301/reply"])
    probe.publish(f"{ra.base}/ac-301/set", {"id": "on1", "action": "on"})
    probe.wait_json(f"{ra.base}/ac-301/reply")
    probe.close()
    broker.stop()
    wait_for(lambda: ra.agent.switching.states["ac-301"]["cause"] == "failsafe", what="failsafe")
    assert pin(pin_factory, 17) == 0
    broker.start()
    late = mqtt_probe([f"{ra.base}/ac-301/state"])
    # after reconnecting, the agent republishes the failsafe state (the broker's retained copy said "command")
    state = late.wait_json(f"{ra.base}/ac-301/state", lambda s: s["cause"] == "failsafe", timeout=40)
    assert state["on"] is False


def test_failsafe_drives_a_relay_whose_state_cannot_be_read(run_agent, mqtt_probe, broker, pin_factory):
    # reading the pin fails (a flaky board, an expander that answers writes only): the failsafe does not
    # skip the relay for that, it drives it to the safe state
    dev = {**AC, "failsafe": {"offline_seconds": 1, "state": "off"}}
    ra = run_agent([dev])
    probe = mqtt_probe([f"{ra.base}/ac-301/reply"])
    probe.publish(f"{ra.base}/ac-301/set", {"id": "on1", "action": "on"})
    assert probe.wait_json(f"{ra.base}/ac-301/reply")["ok"] is True
    probe.close()
    gpio = pin_factory.pin(17)

    def unreadable() -> bool:
        raise OSError("GPIO17 cannot be read (simulated)")

    gpio._get_state = unreadable
    broker.stop()
    wait_for(lambda: ra.agent.switching.states["ac-301"]["cause"] == "failsafe", what="failsafe")
    del gpio._get_state
    assert pin(pin_factory, 17) == 0


def test_relay_that_cannot_be_driven_answers_not_ok_and_agent_runs_on(run_agent, mqtt_probe):
    ra = run_agent([AC, LIGHT])
    ra.agent.devices["ac-301"]._out.close()  # the pin is gone (driver released it, hardware fault)
    probe = mqtt_probe([f"{ra.base}/+/reply"])
    probe.publish(f"{ra.base}/ac-301/set", {"id": "f1", "action": "on"})
    reply = probe.wait_json(f"{ra.base}/ac-301/reply", lambda r: r["id"] == "f1")
    assert reply["ok"] is False and "relay could not be switched" in reply["error"]
    probe.publish(f"{ra.base}/light-301/set", {"id": "f2", "action": "on"})
    assert probe.wait_json(f"{ra.base}/light-301/reply", lambda r: r["id"] == "f2")["ok"] is True
    # not recorded as done: once the relay works again, the same id is executed, not answered as duplicate
    assert ra.agent.commands.lookup("f1", "ac-301") is None
