"""Meters in a real agent: simulated buses on ptys, real pyserial, real Mosquitto, telemetry over MQTT."""

import pytest

from simulators.meters.sim_port import RUNNING
from tests.conftest import wait_for

DLT = "sim:dlt645?profile=constant&power_w=1500&energy=250.5&turnaround=0"
MODBUS = "sim:modbus?profile=constant&power_w=900&energy=75&turnaround=0&units=3"


def test_meters_publish_telemetry_and_state_over_mqtt(run_agent, mqtt_probe):
    ra = run_agent([
        {"id": "meter-a", "kind": "electricity_meter", "driver": "dlt645", "port": DLT, "baudrate": 19200,
         "address": "000000000161", "poll_seconds": 0.2, "timeout_seconds": 0.2},
        {"id": "meter-b", "kind": "electricity_meter", "driver": "dlt645", "port": DLT, "baudrate": 19200,
         "address": "000000000162", "poll_seconds": 0.2, "timeout_seconds": 0.2},
        {"id": "meter-c", "kind": "electricity_meter", "driver": "modbus", "port": MODBUS, "baudrate": 19200,
         "unit": 3, "model": "sdm120", "poll_seconds": 0.2, "timeout_seconds": 0.2},
        {"id": "water", "kind": "water_meter", "driver": "pulse", "pin": 6, "litres_per_pulse": 1,
         "debounce_ms": 5, "poll_seconds": 0.3, "simulate": {"profile": "constant", "flow_lpm": 600}},
    ])
    probe = mqtt_probe([f"{ra.base}/#"])
    a = probe.wait_json(f"{ra.base}/meter-a/telemetry")["values"]
    assert a["energy_kwh"] == pytest.approx(250.5, abs=0.02) and a["power_w"] == 1500.0
    assert 228 <= a["voltage_v"] <= 232 and a["current_a"] > 6
    probe.wait_json(f"{ra.base}/meter-b/telemetry")
    c = probe.wait_json(f"{ra.base}/meter-c/telemetry")["values"]
    assert c["power_w"] == 900.0 and c["energy_kwh"] == pytest.approx(75.0, abs=0.01)
    water = wait_for(lambda: (w := probe.json_on(f"{ra.base}/water/telemetry")) and len(w) >= 7 and w, 10,
                     "seven water reports")
    first, last = water[1], water[-1]  # the first report may cover the generator's start-up
    litres = (last["values"]["volume_m3"] - first["values"]["volume_m3"]) * 1000
    assert 480 <= litres / ((last["ts"] - first["ts"]) / 60000) <= 720  # 600 L/min, +-1 pulse in 10
    assert all(w["values"]["flow_lpm"] > 0 for w in water[1:])
    state = probe.wait_json(f"{ra.base}/meter-a/state")
    assert state["online"] is True and state["values"]["power_w"] == 1500.0
    assert not probe.json_on(f"{ra.base}/meter-a/event")


def test_silent_meter_is_reported_offline_then_online(run_agent, mqtt_probe):
    port = DLT + "&addresses=000000000161"
    ra = run_agent([{"id": "meter-a", "kind": "electricity_meter", "driver": "dlt645", "port": port,
                     "baudrate": 19200, "address": "000000000161", "poll_seconds": 0.1,
                     "timeout_seconds": 0.1, "offline_after": 2, "max_backoff_seconds": 0.3}])
    probe = mqtt_probe([f"{ra.base}/#"])
    probe.wait_json(f"{ra.base}/meter-a/telemetry")
    RUNNING[port].bus.meter("000000000161").faults = {"silent"}
    off = probe.wait_json(f"{ra.base}/meter-a/event", lambda e: e["type"] == "meter_offline")
    assert off["last_error"] == "timeout" and off["failures"] == 2
    probe.wait_json(f"{ra.base}/meter-a/state", lambda s: s["online"] is False)
    RUNNING[port].bus.meter("000000000161").faults = set()
    on = probe.wait_json(f"{ra.base}/meter-a/event", lambda e: e["type"] == "meter_online")
    assert on["offline_seconds"] >= 0
    n = len(probe.json_on(f"{ra.base}/meter-a/telemetry"))
    wait_for(lambda: len(probe.json_on(f"{ra.base}/meter-a/telemetry")) > n, 5, "telemetry again")
