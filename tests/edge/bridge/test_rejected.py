"""A batch the database refuses is split until the refused points are found; the rest is written."""

import pytest

from edge.bridge import history
from edge.bridge.lineproto import Point
from edge.bridge.sinks import InfluxSink, SinkRejected, SinkUnavailable, SqliteSink
from tests.conftest import wait_for
from tests.edge.bridge.support import T0, info, publish_until, telemetry

BASE = "campus/school-1/node-1"


class PickySink(SqliteSink):
    """A real SQLite sink that, like InfluxDB on a field type conflict, refuses a batch for one point."""

    def write(self, points):
        if any(dict(p.fields).get("energy_kwh") == 13.0 for p in points):
            raise SinkRejected("HTTP 422: field type conflict")
        super().write(points)


def test_refused_points_are_isolated_and_kept(run_bridge, mqtt_probe, tmp_path):
    path = str(tmp_path / "picky.db")
    rb = run_bridge(sink_object=PickySink(path),
                    batch={"size": 100, "interval_seconds": 0.5, "idle_ms": 300})
    probe = mqtt_probe()
    probe.publish(f"{BASE}/info", info(("m1", "electricity_meter")), retain=True)
    publish_until(lambda: probe.publish(f"{BASE}/m1/telemetry", telemetry(0)),
                  lambda: rb.counters.get("written"))
    for i in range(1, 30):
        probe.publish(f"{BASE}/m1/telemetry", telemetry(i))
    def stored():
        return history.query(path, "school-1", "node-1", "m1", T0, T0 + 100)

    rows = wait_for(lambda: rb.counters.get("rejected_points") == 1 and len(got := stored()) == 29 and got,
                    10, "29 points written and one refused")
    assert [r.ts_ms - T0 for r in rows] == [i for i in range(30) if i != 13]
    [(reason, points)] = rb.bridge.buffer.rejected()
    assert "422" in reason and points[0].ts_ms == T0 + 13


def test_influx_sink_classifies_failures(victoria):
    cfg = {"url": victoria.url, "token": "t", "org": "campus", "bucket": "campus", "timeout_seconds": 1}
    sink = InfluxSink(cfg)
    good = Point("m", (("site", "s"),), (("v", 1.0),), T0)
    sink.write([good])  # the real server takes it
    with pytest.raises(SinkRejected):  # cannot be encoded: retrying would never help
        sink.write([Point("m", (("site", "s"),), (("v", float("nan")),), T0)])
    victoria.stop()
    with pytest.raises(SinkUnavailable):  # connection refused: try again later
        sink.write([good])
    sink.close()
