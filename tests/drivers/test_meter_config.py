"""Meter device entries are validated at the border, with the place of each mistake."""

from pathlib import Path

import pytest

from edge.config.schema import ConfigError
from edge.loaders.agent import load_agent_config
from tests.drivers.metering_support import device_config

ROOT = Path(__file__).resolve().parents[2]


def errors_of(entry):
    with pytest.raises(ConfigError) as exc:
        device_config(entry)
    return exc.value.errors


def test_example_meter_room_config_loads():
    cfg = load_agent_config(ROOT / "config" / "meter-room.yaml")
    kinds = {(d["kind"], d["driver"]) for d in cfg["devices"]}
    assert kinds == {("electricity_meter", "dlt645"), ("electricity_meter", "modbus"),
                     ("water_meter", "pulse"), ("relay", "gpio")}  # the relay: the main water valve
    water = next(d for d in cfg["devices"] if d["driver"] == "pulse")
    assert water["leak"]["night_window"] == "02:00-04:00" and water["leak"]["burst_lpm"] == 150


def test_dlt645_defaults_and_mistakes():
    cfg = device_config({"id": "m", "kind": "electricity_meter", "driver": "dlt645", "port": "/dev/ttyUSB0",
                         "address": "000000000161"})
    assert (cfg["baudrate"], cfg["parity"], cfg["poll_seconds"]) == (2400, "E", 10.0)
    assert cfg["after_hours"] is None
    errs = errors_of({"id": "m", "kind": "electricity_meter", "driver": "dlt645", "port": "/dev/ttyUSB0",
                      "address": "161", "baudrate": "fast", "after_hours": {"school_hours": "7-18"}})
    assert any(e.startswith("address: expected 12 digits") for e in errs), errs
    assert any(e.startswith("baudrate: expected an integer") for e in errs), errs
    assert any(e.startswith("after_hours.school_hours: expected a window") for e in errs), errs
    errs = errors_of({"id": "m", "kind": "electricity_meter", "driver": "dlt645", "port": "/dev/ttyUSB0",
                      "address": "999999999999"})
    assert errs == ["address: 999999999999 is the broadcast address; use the meter's own"]


def test_pulse_meter_mistakes():
    errs = errors_of({"id": "w", "kind": "water_meter", "driver": "pulse", "pin": 5, "litres_per_pulse": 0,
                      "leak": {"nightwindow": "02:00-04:00"}, "simulate": {"profile": "flood"}})
    assert any(e.startswith("litres_per_pulse: must be greater than 0") for e in errs), errs
    assert any(e.startswith("leak.nightwindow: unknown key") for e in errs), errs
    assert any(e.startswith("simulate.profile: expected one of") for e in errs), errs
