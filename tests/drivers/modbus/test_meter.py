"""The Modbus driver's real pyserial path against the pymodbus-framed simulator on a pty."""

import pytest

from drivers.metering import MeterFailure
from simulators.meters.sim_port import RUNNING
from tests.conftest import wait_for
from tests.drivers.metering_support import RecordingContext, device_config

PORT = "sim:modbus?profile=constant&power_w=2200&turnaround=0&energy=812.25&model=sdm630"


@pytest.fixture
def started(start_device):
    def start(unit=1, ctx=None, **extra):
        ctx = ctx or RecordingContext(f"mb-{unit}")
        entry = {"id": ctx.device_id, "kind": "electricity_meter", "driver": "modbus", "port": PORT,
                 "baudrate": 19200, "unit": unit, "model": "sdm630", "poll_seconds": 0.05,
                 "timeout_seconds": 0.1, **extra}
        return start_device(entry, ctx), ctx

    return start


def test_reads_sdm630_values(started):
    dev, ctx = started()
    values = wait_for(lambda: ctx.telemetries and ctx.telemetries[0], 10, "a reading")
    assert values["power_w"] == 2200.0
    assert values["energy_kwh"] == pytest.approx(812.25, abs=0.01)
    assert 228 <= values["voltage_v"] <= 232
    assert set(values) == {"voltage_v", "current_a", "power_w", "energy_kwh"}


def test_custom_map_reads_any_meter(started):
    # A "different" meter: voltage as float32 at 0, energy as float32 at 0x156, scaled from kWh to MWh.
    dev, ctx = started(unit=4, model="custom", registers=[
        {"name": "voltage_v", "register": 0, "type": "float32", "unit": "V"},
        {"name": "energy_mwh", "register": 0x156, "type": "float32", "scale": 0.001, "unit": "MWh"},
    ])
    values = wait_for(lambda: ctx.telemetries and ctx.telemetries[0], 10, "a reading")
    assert values["energy_mwh"] == pytest.approx(0.81225, abs=1e-5) and 228 <= values["voltage_v"] <= 232


def test_custom_map_is_required_for_custom_and_refused_otherwise():
    base = {"id": "x", "kind": "electricity_meter", "driver": "modbus", "port": "/dev/ttyUSB0", "unit": 1}
    with pytest.raises(Exception, match="needs its register map"):
        device_config({**base, "model": "custom"})
    with pytest.raises(Exception, match="only for model: custom"):
        device_config({**base, "registers": [{"name": "power_w", "register": 0}]})


@pytest.mark.parametrize("fault,kind", [
    ("corrupt", "checksum"), ("bad_checksum", "checksum"), ("truncate", "truncated"),
    ("wrong_address", "wrong_address"), ("silent", "timeout"), ("garbage", "checksum"),
])
def test_bad_replies_are_counted_failures(fault, kind, started):
    dev, ctx = started()
    wait_for(lambda: ctx.telemetries, 10, "a first good reading")
    dev.stop()
    RUNNING[PORT].bus.meter(1).faults = {fault}
    before = len(ctx.telemetries)
    with pytest.raises(MeterFailure) as exc:
        dev.read(dev.ctx.resources.shared(f"serial:{PORT}", lambda: None))
    assert exc.value.kind == kind
    assert dev.publisher.failures[kind] == 2
    assert len(ctx.telemetries) == before


def test_exception_reply_is_counted(started):
    dev, ctx = started()
    wait_for(lambda: ctx.telemetries, 10, "a first good reading")
    dev.stop()
    RUNNING[PORT].bus.meter(1).faults = {"error"}
    dev.poll(dev.ctx.resources.shared(f"serial:{PORT}", lambda: None))
    assert dev.publisher.failures["error_reply"] == 4


def test_slow_replies_never_give_a_wrong_number(started):
    dev, ctx = started()
    wait_for(lambda: ctx.telemetries, 10, "a first good reading")
    sim_meter = RUNNING[PORT].bus.meter(1)
    sim_meter.slow_seconds = 0.15
    sim_meter.faults = {"slow"}
    wait_for(lambda: dev.publisher.failures["timeout"] >= 4, 10, "timeouts")
    sim_meter.faults = set()
    n = len(ctx.telemetries)
    wait_for(lambda: len(ctx.telemetries) > n + 2, 10, "readings after the slow spell")
    for values in ctx.telemetries:
        assert values.get("power_w", 2200.0) == 2200.0 and 228 <= values.get("voltage_v", 230) <= 232
        assert values.get("energy_kwh", 812.25) == pytest.approx(812.25, abs=0.01)


def test_silent_unit_goes_offline_and_back_while_the_other_is_read(started):
    a, ctx_a = started(1, offline_after=2, max_backoff_seconds=0.3)
    b, ctx_b = started(2, ctx=RecordingContext("mb-2", resources=ctx_a.resources))
    wait_for(lambda: ctx_a.telemetries and ctx_b.telemetries, 10, "both read")
    RUNNING[PORT].bus.meter(1).faults = {"silent"}
    wait_for(lambda: "meter_offline" in ctx_a.event_types(), 10, "meter_offline")
    n_b = len(ctx_b.telemetries)
    wait_for(lambda: len(ctx_b.telemetries) >= n_b + 5, 10, "the other unit still read")
    RUNNING[PORT].bus.meter(1).faults = set()
    wait_for(lambda: "meter_online" in ctx_a.event_types(), 10, "meter_online")
