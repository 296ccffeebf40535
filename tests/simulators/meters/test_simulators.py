"""Simulators: profiles, integration of registers, `sim:` strings, baud pacing, and protocol interop."""

import time
from datetime import datetime

import pytest
import serial

from drivers.dlt645 import codec
from simulators.meters import profiles
from simulators.meters.clock import ManualClock
from simulators.meters.dlt645 import Dlt645Bus
from simulators.meters.model import SimMeter
from simulators.meters.pty import PtyLink
from simulators.meters.sim_port import parse, start_sim

MONDAY_NOON = datetime(2026, 3, 9, 12, 0)
MONDAY_3AM = datetime(2026, 3, 9, 3, 0)
SATURDAY_3AM = datetime(2026, 3, 14, 3, 0)


def test_school_day_profile_is_busy_by_day_and_dry_at_night():
    day, night = profiles.school_day(MONDAY_NOON), profiles.school_day(MONDAY_3AM)
    assert day.power_w > 5000 and day.flow_lpm > 5
    assert night.power_w < 700 and night.flow_lpm == 0.0


def test_fault_profiles_add_to_the_school_day_from_their_onset():
    onset = datetime(2026, 3, 9, 2, 0)
    leak = profiles.make("slow_leak", onset=onset, leak_lpm=1.5)
    assert leak(datetime(2026, 3, 9, 1, 0)).flow_lpm == 0.0 and leak(MONDAY_3AM).flow_lpm == 1.5
    assert profiles.make("burst_pipe", burst_lpm=90)(MONDAY_3AM).flow_lpm == 90
    ac = profiles.make("ac_overnight", ac_w=2000)
    assert ac(MONDAY_3AM).power_w == pytest.approx(profiles.night(MONDAY_3AM).power_w + 2000)
    assert ac(MONDAY_NOON).power_w == profiles.school_day(MONDAY_NOON).power_w
    with pytest.raises(ValueError, match="unknown profile"):
        profiles.make("holiday")


def test_meter_integrates_its_profile_in_simulated_time():
    clock = ManualClock(MONDAY_3AM)
    m = SimMeter("1", profiles.make("constant", power_w=1500, flow_lpm=2), clock, energy_kwh=10.0)
    m.update()
    clock.advance(7200)  # two simulated hours, in no real time at all
    r = m.readings()
    assert r["energy_kwh"] == pytest.approx(13.0) and r["volume_m3"] == pytest.approx(0.24)


@pytest.mark.parametrize("port,message", [
    ("sim:iec62056", "unknown simulated protocol"),
    ("sim:dlt645?profile=rainy", "unknown profile"),
    ("sim:dlt645?faults=silent,fire", "unknown fault"),
    ("sim:modbus?colour=red", "unknown simulator option"),
    ("sim:dlt645?scale=fast", "could not convert"),
])
def test_bad_sim_strings_say_what_is_wrong(port, message):
    with pytest.raises(ValueError, match=message):
        parse(port)


def test_sim_port_in_a_config_is_checked_when_it_loads():
    from tests.drivers.metering_support import device_config

    with pytest.raises(Exception, match=r"port: unknown profile"):
        device_config({"id": "m", "kind": "electricity_meter", "driver": "dlt645", "address": "000000000161",
                       "port": "sim:dlt645?profile=rainy"})


def test_replies_are_paced_to_the_baud_rate():
    bus = Dlt645Bus(lambda a: SimMeter(a, profiles.night, ManualClock(MONDAY_3AM)))
    link = PtyLink(bus, baudrate=2400, bits_per_char=11).start()
    try:
        with serial.Serial(link.path, 2400, parity="E", timeout=1) as ser:
            request = codec.encode_read("000000000161", 0x00010000)
            t = time.monotonic()
            ser.write(request)
            reply = ser.read(21)  # FE + 20-byte reply
            took = time.monotonic() - t
        assert codec.scan(reply).frame is not None
        assert took >= (len(request) + len(reply)) * 11 / 2400 * 0.95  # ~0.19 s on a real 2400 baud line
    finally:
        link.stop()


def test_modbus_simulator_answers_pymodbus_own_client():
    from pymodbus.client import ModbusSerialClient

    from drivers.modbus import registers as regs

    sim = start_sim("sim:modbus?profile=constant&power_w=1234&units=7&turnaround=0&model=sdm120", 19200)
    client = ModbusSerialClient(port=sim.path, baudrate=19200, timeout=1, retries=0)
    try:
        assert client.connect()
        rr = client.read_input_registers(0x000C, count=2, device_id=7)
        assert not rr.isError() and regs.decode(regs.SDM120[2], rr.registers) == 1234.0
        bad = client.read_input_registers(0x0100, count=2, device_id=7)
        assert bad.isError() and bad.exception_code == 2  # illegal data address
    finally:
        client.close()
        sim.stop()


def test_dlt645_simulator_answers_only_its_meters():
    sim = start_sim("sim:dlt645?addresses=000000000161&turnaround=0", 19200)
    try:
        with serial.Serial(sim.path, 19200, parity="E", timeout=0.2) as ser:
            ser.write(codec.encode_read("000000000162", 0x00010000))
            assert ser.read(30) == b""
            ser.write(codec.encode_read("000000000161", 0x00010000))
            frame = codec.scan(ser.read(21)).frame
        assert frame is not None and frame.address == "000000000161"
    finally:
        sim.stop()


def test_one_meter_on_a_sim_bus_can_have_its_own_profile():
    assert parse("sim:dlt645?profile.000000000162=ac_overnight").params["profile.000000000162"]
    with pytest.raises(ValueError, match="unknown profile"):
        parse("sim:dlt645?profile.000000000162=rainy")
    sim = start_sim("sim:dlt645?profile=night&profile.000000000162=ac_overnight&turnaround=0", 19200)
    try:
        quiet, ac = sim.bus.meter("000000000161"), sim.bus.meter("000000000162")
        assert ac.profile(MONDAY_3AM).power_w == pytest.approx(quiet.profile(MONDAY_3AM).power_w + 2500)
    finally:
        sim.stop()
