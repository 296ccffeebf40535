"""Agent -> Mosquitto -> bridge -> VictoriaMetrics (InfluxDB v2 write API), read back over /api/v1/export."""

from tests.conftest import wait_for
from tests.edge.bridge.support import T0, influx_sink, vm_export, vm_timestamps


def test_agent_relay_health_and_events_reach_the_database(run_agent, run_bridge, mqtt_probe, victoria):
    rb = run_bridge(influx_sink(victoria))
    ra = run_agent([{"id": "ac-301", "kind": "relay", "driver": "gpio", "pin": 17}], health_seconds=1)
    probe = mqtt_probe([f"{ra.base}/#"])
    probe.wait_json(f"{ra.base}/ac-301/state", lambda s: s["cause"] == "boot")
    probe.publish(f"{ra.base}/ac-301/set", {"id": "c1", "action": "on"})
    on = probe.wait_json(f"{ra.base}/ac-301/state", lambda s: s["cause"] == "command")
    # a contract event and a relay reading (its kind comes from the agent's real retained info)
    probe.publish(f"{ra.base}/gate-1/event", {"ts": T0, "seq": 1, "type": "fever", "temp_c": 38.2,
                                              "gate": "north"})
    probe.publish(f"{ra.base}/ac-301/telemetry", {"ts": T0 + 1, "seq": 1, "values": {"power_w": 5.5}})

    state = wait_for(lambda: vm_export(victoria, '{__name__="state_on",cause="command"}'), 15,
                     "the relay's switch in the database")
    assert state[0]["metric"] == {"__name__": "state_on", "site": "test-site", "node": "node-1",
                                  "device": "ac-301", "cause": "command"}
    assert state[0]["values"] == [1] and state[0]["timestamps"] == [on["ts"]]
    health = wait_for(lambda: vm_export(victoria, '{__name__="agent_uptime_s",device="agent"}'), 15,
                      "the agent's health readings")
    assert health[0]["metric"]["node"] == "node-1"
    fever = wait_for(lambda: vm_export(victoria, '{__name__="event_temp_c",type="fever"}'), 10, "the event")
    assert fever[0]["values"] == [38.2] and fever[0]["metric"]["device"] == "gate-1"
    assert wait_for(lambda: vm_timestamps(victoria, '{__name__="relay_power_w"}'), 10, "relay telemetry") \
        == [T0 + 1]
    assert rb.counters.get("bad_messages", 0) == 0 and rb.counters.get("written", 0) >= 4
