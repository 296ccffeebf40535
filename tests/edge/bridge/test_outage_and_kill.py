"""Nothing lost: the database away for many retry intervals, and the bridge killed with SIGKILL mid-stream."""

import threading
import time

from tests.conftest import wait_for
from tests.edge.bridge.support import (
    T0,
    bridge_raw_config,
    influx_sink,
    info,
    publish_until,
    telemetry,
    vm_export,
    vm_timestamps,
)

BASE = "campus/school-1/node-1"
METRIC = '{__name__="electricity_meter_energy_kwh"}'


def publish_range(probe, start: int, stop: int, pause: float = 0.0) -> None:
    for i in range(start, stop):
        probe.publish(f"{BASE}/m1/telemetry", telemetry(i))
        if pause:
            time.sleep(pause)


def test_database_down_then_back_loses_nothing(run_bridge, mqtt_probe, victoria):
    rb = run_bridge(influx_sink(victoria, timeout_seconds=1))
    probe = mqtt_probe()
    probe.publish(f"{BASE}/info", info(("m1", "electricity_meter")), retain=True)
    publish_range(probe, 0, 300)
    wait_for(lambda: len(vm_timestamps(victoria, METRIC)) == 300, 15, "the first 300 points")

    victoria.stop()  # graceful: what VictoriaMetrics acknowledged is on its disk
    publish_range(probe, 300, 900, pause=0.002)
    # the outage outlasts many retry intervals (0.1..0.3 s) and write timeouts; the disk buffer holds it all
    wait_for(lambda: rb.counters.get("write_failures", 0) >= 5 and rb.counters.get("received", 0) >= 901, 20,
             "several failed retries")
    wait_for(lambda: len(rb.bridge.buffer) == 600, 5, "600 points in the disk buffer")
    victoria.start()
    publish_range(probe, 900, 1000)
    got = wait_for(lambda: (ts := vm_timestamps(victoria, METRIC)) and len(set(ts)) == 1000 and ts, 30,
                   "all 1000 points after the outage")
    assert set(got) == {T0 + i for i in range(1000)}
    wait_for(lambda: len(rb.bridge.buffer) == 0, 10, "an empty buffer")
    assert rb.counters["drained"] >= 600


def test_bridge_killed_mid_stream_loses_nothing(broker, tmp_path, mqtt_probe, victoria, bridge_process):
    raw = bridge_raw_config(broker, tmp_path, influx_sink(victoria), name="killed")
    first = bridge_process(raw).start()
    probe = mqtt_probe()
    probe.publish(f"{BASE}/info", info(("m1", "electricity_meter")), retain=True)
    publish_until(lambda: probe.publish(f"{BASE}/m1/telemetry", telemetry(0)),
                  lambda: vm_timestamps(victoria, METRIC), what="the bridge's first point")

    total = 2000
    publisher = threading.Thread(target=publish_range, args=(probe, 1, total, 0.001))
    publisher.start()
    wait_for(lambda: len(vm_timestamps(victoria, METRIC)) >= 300, 20, "300 points written")
    first.kill()  # SIGKILL: no flush, no goodbye; unacknowledged messages stay with the broker
    time.sleep(0.5)  # the stream goes on into the broker's queue for our persistent session
    second = bridge_process(raw).start()
    publisher.join(60)
    got = wait_for(lambda: (ts := vm_timestamps(victoria, METRIC)) and len(set(ts)) == total and ts, 40,
                   f"all {total} points after the kill")
    assert set(got) == {T0 + i for i in range(total)}
    # re-delivered messages give the same series, time and value: InfluxDB overwrites them
    series = vm_export(victoria, METRIC)
    assert len(series) == 1
    values = dict(zip(series[0]["timestamps"], series[0]["values"], strict=True))
    assert all(values[T0 + i] == float(i) for i in range(total))
    assert second.terminate() == 0 and first.proc.returncode == -9
    assert "broker kept our session: True" in second.log.read_text()


def test_broker_restart_with_an_open_batch_loses_nothing(run_bridge, broker, mqtt_probe):
    from edge.bridge import history

    # a long batch window: the messages are still in the open batch when the connection drops
    rb = run_bridge(batch={"size": 5000, "interval_seconds": 5, "idle_ms": 2500})
    probe = mqtt_probe()
    probe.publish(f"{BASE}/info", info(("m1", "electricity_meter")), retain=True)
    publish_range(probe, 0, 50)
    wait_for(lambda: len(rb.bridge.batch) == 50, 10, "50 messages in the open batch")
    probe.close()
    broker.restart()  # graceful: Mosquitto keeps the bridge's session and its unacknowledged messages
    wait_for(lambda: rb.counters.get("written", 0) >= 50, 15, "the open batch stored on disconnect")
    probe = mqtt_probe()
    publish_range(probe, 50, 60)

    def stored():
        return history.query(rb.cfg["sink"]["path"], "school-1", "node-1", "m1", T0, T0 + 1000)

    rows = wait_for(lambda: len(got := stored()) == 60 and got, 40, "all 60 points after the restart")
    assert [r.ts_ms - T0 for r in rows] == list(range(60))
    # the broker re-sent the 50 unacknowledged messages; they were acknowledged on the new connection
    wait_for(lambda: rb.counters.get("received", 0) >= 110, 40, "the re-sent copies")
