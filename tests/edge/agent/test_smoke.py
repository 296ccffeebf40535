from tests.conftest import wait_for


def test_relay_on_command_flips_pin_and_replies(run_agent, mqtt_probe, pin_factory):
    ra = run_agent([{"id": "ac-301", "kind": "relay", "driver": "gpio", "pin": 17}])
    probe = mqtt_probe([f"{ra.base}/#"])
    probe.wait_json(f"{ra.base}/ac-301/state", lambda s: s["cause"] == "boot")
    probe.publish(f"{ra.base}/ac-301/set", {"id": "c1", "action": "on"})
    reply = probe.wait_json(f"{ra.base}/ac-301/reply")
    assert reply["ok"] is True and reply["id"] == "c1"
    wait_for(lambda: pin_factory.pin(17).state == 1, what="pin 17 high")
