"""A relay in a real agent: the state it comes back in after a restart, and the one it is left in."""

from tests.conftest import agent_config, wait_for

AC = {"id": "ac-301", "kind": "relay", "driver": "gpio", "pin": 17}


def pin(factory, n: int) -> int:
    return int(factory.pin(n).state)


def test_initial_restore_and_safe_state_on_shutdown(run_agent, mqtt_probe, broker, tmp_path, pin_factory):
    dev = {**AC, "initial": "restore", "safe_state": "off"}
    cfg = agent_config(broker, tmp_path, [dev])
    ra = run_agent(cfg=cfg)
    probe = mqtt_probe([f"{ra.base}/ac-301/reply"])
    probe.publish(f"{ra.base}/ac-301/set", {"id": "on1", "action": "on"})
    probe.wait_json(f"{ra.base}/ac-301/reply")
    ra.stop()
    assert pin(pin_factory, 17) == 0  # the agent stopped the relay (test_gpio.py: each safe_state's level)
    ra2 = run_agent(cfg=cfg)
    wait_for(lambda: pin(pin_factory, 17) == 1, what="restored on")
    assert ra2.agent.switching.states["ac-301"]["cause"] == "boot"
