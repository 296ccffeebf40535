"""Scale-out on an MQTT v5 shared subscription, and bad input that must not hurt the good."""

import json

from edge.bridge import history
from tests.conftest import wait_for
from tests.edge.bridge.support import (
    T0,
    influx_sink,
    info,
    publish_until,
    telemetry,
    vm_export,
    vm_timestamps,
)

BASE = "campus/school-1/node-1"
METRIC = '{__name__="electricity_meter_energy_kwh"}'


def test_two_bridges_share_the_stream_and_write_nothing_twice(run_bridge, mqtt_probe, victoria):
    a = run_bridge(influx_sink(victoria), share_group="district", name="a")
    b = run_bridge(influx_sink(victoria), share_group="district", name="b")
    probe = mqtt_probe()
    probe.publish(f"{BASE}/info", info(("m1", "electricity_meter")), retain=True)
    # info is not shared: each bridge gets it, which also shows both have subscribed
    wait_for(lambda: a.bridge.kinds and b.bridge.kinds, 10, "both bridges to know the node")
    total = 1000
    for i in range(total):
        probe.publish(f"{BASE}/m1/telemetry", telemetry(i))
    wait_for(lambda: len(set(vm_timestamps(victoria, METRIC))) == total, 20, f"{total} points")
    # VictoriaMetrics keeps every sample it is sent, so a point written twice would show up here twice
    assert vm_timestamps(victoria, METRIC) == [T0 + i for i in range(total)]
    wa, wb = a.counters.get("written", 0), b.counters.get("written", 0)
    assert wa + wb == total and wa > 0 and wb > 0


def test_bad_messages_are_counted_and_never_block_good_ones(run_bridge, mqtt_probe):
    rb = run_bridge()
    probe = mqtt_probe()
    probe.publish(f"{BASE}/info", info(("m1", "electricity_meter")), retain=True)
    publish_until(lambda: probe.publish(f"{BASE}/m1/telemetry", telemetry(0)),
                  lambda: rb.counters.get("written"))
    bad = [
        (f"{BASE}/m1/telemetry", b"not json"),
        (f"{BASE}/m1/telemetry", b"\xff\xfe\x00garbage"),
        (f"{BASE}/m1/telemetry", b"[1, 2, 3]"),
        (f"{BASE}/m1/telemetry", json.dumps({"seq": 1, "values": {"energy_kwh": 1}}).encode()),  # no ts
        (f"{BASE}/m1/telemetry", json.dumps({"ts": T0, "seq": 1}).encode()),  # no values
        (f"{BASE}/m1/telemetry", json.dumps({"ts": "now", "values": {"energy_kwh": 1}}).encode()),
        (f"{BASE}/m1/telemetry", json.dumps({"ts": T0 + 1, "values": {"energy_kwh": "12.5"}}).encode()),
        (f"{BASE}/m1/telemetry", b'{"ts": %d, "values": {"energy_kwh": NaN}}' % (T0 + 2)),
        (f"{BASE}/m1/telemetry", b'{"ts": %d, "values": {"e": 1}, "pad": "%s"}' % (T0 + 3, b"x" * 1_000_000)),
        ("campus/school-1/Node 1/m1/telemetry", json.dumps(telemetry(4)).encode()),  # odd characters in ids
        ("campus/school-1/node-1/m\u00e9ter/telemetry", json.dumps(telemetry(5)).encode()),
        (f"{BASE}/m1/event", json.dumps({"ts": T0 + 6, "seq": 1}).encode()),  # no type
        (f"{BASE}/m1/state", json.dumps({"ts": T0 + 7, "on": "maybe"}).encode()),
        (f"{BASE}/info", b"{broken"),
    ]
    for topic, payload in bad:
        probe.publish(topic, payload)
    # one message with a bad value among good ones: the good values are kept, the bad one counted
    probe.publish(f"{BASE}/m1/telemetry", b'{"ts": %d, "values": {"energy_kwh": 9, "power_w": Infinity}}'
                  % (T0 + 8))
    probe.publish(f"{BASE}/m1/telemetry", json.dumps(telemetry(9)).encode())
    wait_for(lambda: rb.counters.get("bad_messages", 0) == len(bad) and rb.counters.get("written", 0) >= 3,
             10, "every bad message counted and the good ones written")
    assert rb.counters["bad_values"] == 1 and rb.thread.is_alive()
    rows = history.query(rb.cfg["sink"]["path"], "school-1", "node-1", "m1", T0 - 1, T0 + 100)
    assert [(r.ts_ms - T0, r.values) for r in rows] == [(0, {"energy_kwh": 0.0}), (8, {"energy_kwh": 9.0}),
                                                       (9, {"energy_kwh": 9.0})]


def test_odd_value_names_are_escaped_on_the_way_to_the_database(run_bridge, mqtt_probe, victoria):
    rb = run_bridge(influx_sink(victoria))
    probe = mqtt_probe()
    probe.publish(f"{BASE}/info", info(("m1", "electricity_meter")), retain=True)
    wait_for(lambda: rb.bridge.kinds, 10, "the node's info")
    probe.publish(f"{BASE}/m1/telemetry", telemetry(1, **{"temp c,x=1": 21.5, "t°C": 3}))
    got = wait_for(lambda: vm_export(victoria, '{__name__=~"electricity_meter_t.*"}'), 10, "the points")
    assert sorted(s["metric"]["__name__"] for s in got) == ["electricity_meter_temp c,x=1",
                                                            "electricity_meter_t°C"]
