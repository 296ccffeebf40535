"""The embedded default: bridge -> SQLite, re-deliveries overwrite, `campus-edge history` reads it back."""

import csv
import io

from edge.bridge import history
from edge.cli import main
from tests.conftest import wait_for
from tests.edge.bridge.support import T0, info, telemetry

BASE = "campus/school-1/node-1"


def rows(rb, device="m1", **kw):
    return history.query(rb.cfg["sink"]["path"], "school-1", "node-1", device, T0 - 1, T0 + 10**6, **kw)


def test_bridge_writes_and_history_exports(run_bridge, mqtt_probe, tmp_path, capsys):
    rb = run_bridge()
    probe = mqtt_probe()
    probe.publish(f"{BASE}/info", info(("m1", "electricity_meter"), ("w1", "water_meter")), retain=True)
    for i in range(20):
        probe.publish(f"{BASE}/m1/telemetry", telemetry(i, energy_kwh=100.0 + i, power_w=1500))
    probe.publish(f"{BASE}/m1/event", {"ts": T0 + 5, "seq": 1, "type": "overload", "power_w": 9000})
    probe.publish(f"{BASE}/w1/telemetry", telemetry(3, flow_lpm=12.5))
    wait_for(lambda: len(rows(rb)) == 21 and rows(rb, "w1"), what="21 rows of m1 and one of w1")
    got = rows(rb, measurement="electricity_meter")
    assert got[0].values == {"energy_kwh": 100.0, "power_w": 1500.0} and got[-1].ts_ms == T0 + 19
    assert rows(rb, "w1")[0].measurement == "water_meter"
    ev = rows(rb, measurement="event")
    assert ev[0].tags == '{"type":"overload"}' and ev[0].values == {"power_w": 9000.0, "seq": 1.0}

    # the CLI: table to stdout, CSV to a file, from the bridge's config file
    config = tmp_path / "bridge.yaml"
    config.write_text(f"sink: {{type: sqlite, path: {rb.cfg['sink']['path']}}}\n"
                      f"storage: {{path: {tmp_path / 'other.db'}}}\n")
    since, until = str(T0), str(T0 + 10)
    assert main(["history", "school-1/node-1/m1", "-c", str(config), "--since", since, "--until", until,
                 "--measurement", "electricity_meter"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 10
    assert out[0] == "2025-11-24T16:00:00.000Z  electricity_meter  energy_kwh=100 power_w=1500"
    target = tmp_path / "m1.csv"
    assert main(["history", "school-1/node-1/m1", "--db", rb.cfg["sink"]["path"], "--since", since,
                 "--until", until, "--format", "csv", "-o", str(target), "--field", "energy_kwh"]) == 0
    table = list(csv.reader(io.StringIO(target.read_text())))
    assert table[0] == ["time", "ts_ms", "measurement", "tags", "energy_kwh"]
    assert table[1] == ["2025-11-24T16:00:00.000Z", str(T0), "electricity_meter", "", "100"]
    assert len(table) == 11


def test_redelivered_message_overwrites(run_bridge, mqtt_probe):
    rb = run_bridge()
    probe = mqtt_probe()
    probe.publish(f"{BASE}/info", info(("m1", "electricity_meter")), retain=True)
    for _ in range(3):  # the same reading three times, as a broker re-delivery would
        probe.publish(f"{BASE}/m1/telemetry", telemetry(1, energy_kwh=5.0))
    probe.publish(f"{BASE}/m1/telemetry", telemetry(2, energy_kwh=6.0))
    wait_for(lambda: rb.counters.get("written", 0) >= 4, what="four writes")
    assert [(r.ts_ms, r.values) for r in rows(rb)] == [(T0 + 1, {"energy_kwh": 5.0}),
                                                       (T0 + 2, {"energy_kwh": 6.0})]


def test_telemetry_before_info_waits_then_is_unknown(run_bridge, mqtt_probe):
    rb = run_bridge(info_wait_seconds=0.5)
    probe = mqtt_probe()
    probe.publish("campus/school-1/node-0/info", info(), retain=True)  # another node: shows we subscribed
    wait_for(lambda: rb.bridge.kinds, 10, "the bridge to subscribe")
    probe.publish(f"{BASE}/m2/telemetry", telemetry(1))   # info comes later: held, then gets its kind
    probe.publish(f"{BASE}/m3/telemetry", telemetry(2))   # never in any info: written as unknown
    probe.publish(f"{BASE}/info", info(("m2", "water_meter")), retain=True)
    wait_for(lambda: rows(rb, "m2") and rows(rb, "m3"), what="both rows")
    assert rows(rb, "m2")[0].measurement == "water_meter"
    assert rows(rb, "m3")[0].measurement == "unknown"
    assert rb.counters["unknown_kind"] == 1


def test_history_usage_errors(tmp_path, capsys):
    config = tmp_path / "b.yaml"
    config.write_text("sink: {type: influxdb, url: 'http://127.0.0.1:8086'}\n")
    assert main(["history", "s/n/d", "-c", str(config)]) == 2
    assert main(["history", "s/n", "--db", "x.db"]) == 2
    assert main(["history", "s/n/d", "--db", "x.db", "--since", "last tuesday"]) == 2
    assert main(["history", "s/n/d", "--db", str(tmp_path / "missing.db")]) == 1
    assert history.parse_time("2h", now_ms=10_000_000) == 10_000_000 - 7_200_000
    assert [history.number(v) for v in (1000.0, 1000.01, 12345.678901, -0.5, 1e20)] == \
        ["1000", "1000.01", "12345.678901", "-0.5", "1e+20"]
    assert history.parse_time("2025-11-24T16:00:00") == T0
    assert history.parse_time("2025-11-24T18:00:00+02:00") == T0


def test_a_node_without_info_does_not_stall_the_others(run_bridge, mqtt_probe):
    """Held telemetry is unacknowledged: a flood of it must not fill the broker's window to the bridge."""
    rb = run_bridge(info_wait_seconds=30)
    probe = mqtt_probe()
    probe.publish(f"{BASE}/info", info(("m1", "electricity_meter")), retain=True)
    wait_for(lambda: "school-1/node-1" in rb.bridge.kinds, what="info seen")
    for i in range(150):  # a node that never says what its devices are
        probe.publish("campus/school-1/mystery/x1/telemetry", telemetry(i))
    probe.publish(f"{BASE}/m1/telemetry", telemetry(1, energy_kwh=5.0))
    wait_for(lambda: rows(rb, "m1"), timeout=5, what="the known node's reading, long before info_wait")
    assert rows(rb, "m1")[0].measurement == "electricity_meter"
