"""Pulse water meter: debounce rule, real gpiozero mock pins driven by the pulse generator, persistence."""

import pytest

from drivers.base import Resources
from drivers.pulse.debounce import Debouncer
from simulators.meters import profiles
from simulators.meters.clock import SimClock
from simulators.meters.pulse import PulseGenerator
from tests.conftest import wait_for
from tests.drivers.metering_support import RecordingContext, build


def test_debounce_counts_one_pulse_per_bouncy_closure():
    d = Debouncer(0.005)
    edges = [(0.0, True), (0.0003, False), (0.0006, True), (0.0009, False), (0.0012, True),  # closing bounce
             (0.010, False), (0.0103, True), (0.0106, False),  # opening bounce
             (0.050, True), (0.0502, False), (0.0504, True), (0.060, False)]  # second pulse
    assert sum(d.edge(t, closed) for t, closed in edges) == 2
    assert d.rejected == 4  # 2 closing bounces, 1 opening bounce, 1 closing bounce of the second pulse


def test_debounce_zero_gap_counts_every_closing_edge():
    d = Debouncer(0.0)
    assert sum(d.edge(t / 1000, t % 2 == 0) for t in range(10)) == 5


def meter_entry(**extra):
    return {"id": "water", "kind": "water_meter", "driver": "pulse", "pin": 5, "litres_per_pulse": 10,
            "debounce_ms": 5, "poll_seconds": 0.1, "initial_m3": 100.0, **extra}


def test_counts_bouncy_pulses_from_the_generator_exactly(pin_factory):
    ctx = RecordingContext("water", Resources(pin_factory=pin_factory))
    dev = build(meter_entry(), ctx)
    dev.start()
    try:
        gen = PulseGenerator(pin_factory.pin(5), profiles.make("constant", flow_lpm=6000.0), SimClock(),
                             litres_per_pulse=10, bounce=True, max_pulses=12).start()
        wait_for(lambda: gen.emitted == 12, 10, "12 pulses emitted")
        gen.stop()
        wait_for(lambda: ctx.telemetries and ctx.telemetries[-1]["volume_m3"] == 100.12, 5, "100.12 m3")
        assert dev.pulses == 12 and dev.debouncer.rejected > 0  # the bounce was there, and filtered
    finally:
        dev.stop()


def test_pulse_count_survives_a_restart(pin_factory):
    store: dict = {}
    for round_ in (1, 2):
        ctx = RecordingContext("water", Resources(pin_factory=pin_factory), store=store)
        dev = build(meter_entry(), ctx)
        dev.start()
        gen = PulseGenerator(pin_factory.pin(5), profiles.make("constant", flow_lpm=6000.0), SimClock(),
                             litres_per_pulse=10, max_pulses=5).start()
        wait_for(lambda g=gen: g.emitted == 5, 10, "5 pulses")
        gen.stop()
        wait_for(lambda d=dev, n=5 * round_: d.pulses == n, 5, f"{5 * round_} pulses counted")
        dev.stop()
        pin_factory.reset()
    assert store["pulses"] == 10


def test_flow_and_volume_with_simulate_config(pin_factory):
    ctx = RecordingContext("water", Resources(pin_factory=pin_factory))
    # 600 L/min at 10 L/pulse: 1 pulse every second of simulated time; scale 10 -> 10 pulses per real second.
    dev = build(meter_entry(poll_seconds=0.5, simulate={"profile": "constant", "flow_lpm": 600, "scale": 10}),
                ctx)
    dev.start()
    try:
        wait_for(lambda: len(ctx.telemetries) >= 5, 10, "five reports")
        flows = [t["flow_lpm"] for t in ctx.telemetries[1:5]]  # the first covers the generator's start-up
        # 600 L/min x scale 10 in real time; each report is 5 pulses +-1, so judge the mean of four
        assert all(f > 0 for f in flows) and 5000 <= sum(flows) / 4 <= 7000, flows
        volumes = [t["volume_m3"] for t in ctx.telemetries]
        assert volumes == sorted(volumes) and volumes[-1] > 100.0
        assert dev.pulses == pytest.approx(dev.generator.emitted, abs=1)
    finally:
        dev.stop()


def test_burst_is_reported_as_a_leak_event_and_detector_memory_is_saved(pin_factory):
    ctx = RecordingContext("water", Resources(pin_factory=pin_factory))
    dev = build(meter_entry(poll_seconds=0.2, leak={"burst_lpm": 1000, "burst_minutes": 0},
                            simulate={"profile": "constant", "flow_lpm": 600, "scale": 10}), ctx)
    dev.start()
    try:
        leak = wait_for(lambda: [f for t, f in ctx.events if t == "leak"], 10, "a leak event")[0]
        assert leak["reason"] == "burst" and leak["flow_lpm"] > 1000
    finally:
        dev.stop()
    assert ctx.store["alerts"]["leak"]["burst_fired"] is True  # kept for the next start
