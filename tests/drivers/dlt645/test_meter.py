"""The DL/T 645 driver's real pyserial path against the simulator on a pty, faults included."""

import pytest

from drivers.metering import MeterFailure
from simulators.meters.sim_port import RUNNING
from tests.conftest import wait_for
from tests.drivers.metering_support import RecordingContext, build

PORT = "sim:dlt645?profile=constant&power_w=1500&turnaround=0&energy=4321.5"
BAUD = 19200


def meter_entry(address="000000000161", port=PORT, ctx=None, **extra):
    ctx = ctx or RecordingContext("m-" + address[-3:])
    entry = {"id": ctx.device_id, "kind": "electricity_meter", "driver": "dlt645", "port": port,
             "baudrate": BAUD, "address": address, "poll_seconds": 0.05, "timeout_seconds": 0.15, **extra}
    return entry, ctx


def meter(*args, **kw):
    entry, ctx = meter_entry(*args, **kw)
    return build(entry, ctx), ctx


@pytest.fixture
def started(start_device):
    def start(*args, **kw):
        entry, ctx = meter_entry(*args, **kw)
        return start_device(entry, ctx), ctx

    return start


def test_reads_what_the_simulated_meter_shows(started):
    dev, ctx = started()
    values = wait_for(lambda: ctx.telemetries and ctx.telemetries[0], 10, "a reading")
    assert values["energy_kwh"] == pytest.approx(4321.5, abs=0.02)
    assert values["energy_combined_kwh"] == pytest.approx(4321.5, abs=0.02)
    assert values["power_w"] == 1500.0
    assert 228 <= values["voltage_v"] <= 232
    assert values["current_a"] == pytest.approx(1500 / (values["voltage_v"] * 0.95), abs=0.01)
    assert ctx.states[-1]["online"] is True and ctx.states[-1]["values"]["power_w"] == 1500.0


def test_meters_on_one_port_share_one_bus_and_answer_by_address(started):
    a, ctx_a = started("000000000161")
    b, ctx_b = started("000000001616", ctx=RecordingContext("m-b", resources=ctx_a.resources))
    assert a.bus is b.bus
    sim = RUNNING[PORT]
    sim.bus.meter("000000001616").energy_kwh = 17.25
    wait_for(lambda: ctx_a.telemetries and ctx_b.telemetries, 10, "both meters read")
    wait_for(lambda: any(t["energy_kwh"] == 17.25 for t in ctx_b.telemetries), 5, "meter b's own energy")
    assert all(t["energy_kwh"] != 17.25 for t in ctx_a.telemetries)


@pytest.mark.parametrize("fault,kind", [
    ("corrupt", "checksum"), ("bad_checksum", "checksum"), ("truncate", "truncated"),
    ("wrong_address", "wrong_address"), ("garbage", "garbage"), ("silent", "timeout"),
])
def test_bad_replies_are_counted_failures_never_numbers(fault, kind, started):
    dev, ctx = started()
    wait_for(lambda: ctx.telemetries, 10, "a first good reading")
    dev.stop()  # poll by hand from here on
    RUNNING[PORT].bus.meter("000000000161").faults = {fault}
    before = len(ctx.telemetries)
    with pytest.raises(MeterFailure) as exc:
        dev.read(dev.ctx.resources.shared(f"serial:{PORT}", lambda: None))
    assert exc.value.kind == kind
    assert dev.publisher.failures[kind] == 2  # the attempt and its retry, each counted
    assert len(ctx.telemetries) == before


def test_error_reply_is_counted_and_nothing_is_published(started):
    dev, ctx = started()
    wait_for(lambda: ctx.telemetries, 10, "a first good reading")
    dev.stop()
    RUNNING[PORT].bus.meter("000000000161").faults = {"error"}
    bus = dev.ctx.resources.shared(f"serial:{PORT}", lambda: None)
    before = len(ctx.telemetries)
    assert dev.poll(bus) > 0
    assert dev.publisher.failures["error_reply"] == 5  # one per data id, no retry: the meter said no
    assert len(ctx.telemetries) == before


def test_slow_replies_never_give_a_wrong_number(started):
    dev, ctx = started()
    wait_for(lambda: ctx.telemetries, 10, "a first good reading")
    sim_meter = RUNNING[PORT].bus.meter("000000000161")
    sim_meter.slow_seconds = 0.2  # later than the driver's 0.15 s timeout: it lands in the next transaction
    sim_meter.faults = {"slow"}
    wait_for(lambda: dev.publisher.failures["timeout"] >= 4, 10, "timeouts")
    sim_meter.faults = set()
    n = len(ctx.telemetries)
    wait_for(lambda: len(ctx.telemetries) > n + 2, 10, "readings after the slow spell")
    for values in ctx.telemetries:  # a poll may publish fewer values, never a wrong one
        assert values.get("power_w", 1500.0) == 1500.0 and 228 <= values.get("voltage_v", 230) <= 232
        assert values.get("energy_kwh", 4321.5) == pytest.approx(4321.5, abs=0.02)
        assert 6.80 <= values.get("current_a", 6.85) <= 6.93  # 1500 W / (228..232 V x 0.95)


def test_silent_meter_goes_offline_and_back_without_stalling_the_other(started):
    a, ctx_a = started("000000000161", offline_after=2, max_backoff_seconds=0.3)
    b, ctx_b = started("000000000162", ctx=RecordingContext("m-b", resources=ctx_a.resources))
    wait_for(lambda: ctx_a.telemetries and ctx_b.telemetries, 10, "both meters read")
    RUNNING[PORT].bus.meter("000000000161").faults = {"silent"}
    wait_for(lambda: "meter_offline" in ctx_a.event_types(), 10, "meter_offline")
    n_b = len(ctx_b.telemetries)
    wait_for(lambda: len(ctx_b.telemetries) >= n_b + 5, 10, "the other meter still read while one is silent")
    assert ctx_a.states[-1]["online"] is False
    RUNNING[PORT].bus.meter("000000000161").faults = set()
    wait_for(lambda: "meter_online" in ctx_a.event_types(), 10, "meter_online")
    assert ctx_a.event_types() == ["meter_offline", "meter_online"]
    assert "meter_offline" not in ctx_b.event_types()


def test_counter_going_backwards_is_an_event(started):
    dev, ctx = started()
    wait_for(lambda: ctx.telemetries, 10, "a first reading")
    RUNNING[PORT].bus.meter("000000000161").energy_kwh = 3.0  # meter replaced
    ev = wait_for(lambda: [f for t, f in ctx.events if t == "counter_reset"], 10, "counter_reset")[0]
    assert ev["previous"] == pytest.approx(4321.5, abs=0.02) and ev["current"] == 3.0


def test_missing_port_is_a_counted_failure_and_goes_offline(started):
    dev, ctx = started(port="/dev/does-not-exist", offline_after=1)
    wait_for(lambda: "meter_offline" in ctx.event_types(), 10, "meter_offline")
    assert dev.publisher.failures["port"] >= 1 and not ctx.telemetries
