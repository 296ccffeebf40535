"""The RS-485 port (drivers/serial_bus.py): real pyserial on a pty, the DL/T 645 simulator answering on the
far end. One bus per port shared by its meters, one question at a time; a silent meter costs its timeout;
a vanished port fails fast and is opened again once it is back."""

from __future__ import annotations

import logging
import os
import threading
import time

import pytest

from drivers.base import Resources
from drivers.dlt645 import codec
from drivers.serial_bus import PortError, SerialBus, shared_bus
from edge import simulated
from simulators.meters.sim_port import start_sim
from tests.conftest import wait_for
from tests.drivers.metering_support import RecordingContext

PORT = "sim:dlt645?profile=constant&turnaround=0&energy=4321.5&addresses=000000000161,000000000162"
ENERGY = 0x00010000
log = logging.getLogger("test.bus")


def ask(bus: SerialBus, address: str, timeout: float = 1.0) -> float | None:
    """The energy reading of the meter at ``address``, None when nobody answered."""
    reply = bus.transact(codec.encode_read(address, ENERGY), _a_frame, timeout)
    frame = codec.scan(reply).frame
    return None if frame is None else codec.decode_reply(frame, address, ENERGY).value


def _a_frame(buf: bytes) -> bool:
    return codec.scan(buf).frame is not None


@pytest.fixture
def resources():
    res = simulated.register(Resources())
    yield res
    res.close()


def test_meters_naming_one_port_share_one_bus_and_each_gets_its_own_answer(resources, caplog):
    bus = shared_bus(resources, PORT, 19200, "E", 1, log)
    with caplog.at_level(logging.WARNING):
        assert shared_bus(resources, PORT, 9600, "N", 1, log) is bus  # the first meter's settings win
    assert bus.matches(19200, "E") and "already open at 19200 baud parity E" in caplog.text
    answers: dict[str, list] = {"000000000161": [], "000000000162": []}

    def meter(address: str) -> None:
        for _ in range(8):
            answers[address].append(ask(bus, address))  # decode_reply refuses another meter's frame

    threads = [threading.Thread(target=meter, args=(a,)) for a in answers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert answers == {a: [pytest.approx(4321.5, abs=0.02)] * 8 for a in answers}
    assert bus.transactions == 16


def test_a_meter_that_is_not_there_costs_its_timeout_and_nothing_else(resources):
    bus = shared_bus(resources, PORT, 19200, "E", 1, log)
    assert ask(bus, "000000000999", timeout=0.2) is None  # nobody answers that address: no bytes, no error
    assert ask(bus, "000000000161") == pytest.approx(4321.5, abs=0.02)


def test_a_sim_port_without_its_opener_is_a_port_error():
    bus = SerialBus(PORT, 19200)  # the wiring registered no opener for `sim:`
    with pytest.raises(PortError, match="nothing is registered to open sim: ports"):
        ask(bus, "000000000161")


def test_a_vanished_port_fails_fast_and_is_opened_again_when_it_is_back(tmp_path):
    link = tmp_path / "ttyUSB0"  # what udev gives: a name that goes with the adapter and comes back
    sim = start_sim(PORT, 19200)
    link.symlink_to(sim.path)
    bus = SerialBus(str(link), 19200, reopen_seconds=0.3)
    try:
        assert ask(bus, "000000000161") == pytest.approx(4321.5, abs=0.02)
        sim.stop()  # the adapter is pulled
        link.unlink()
        with pytest.raises(PortError):
            ask(bus, "000000000161")
        with pytest.raises(PortError, match="not open"):  # the port is not tried again at every question
            ask(bus, "000000000161")
        sim = start_sim(PORT, 19200)  # plugged in again
        link.symlink_to(sim.path)
        wait_for(lambda: _answers(bus), 5, "the bus to reopen the port")
    finally:
        bus.stop()
        sim.stop()


def _answers(bus: SerialBus) -> bool:
    try:
        return ask(bus, "000000000161") is not None
    except PortError:
        return False


class Job:
    def __init__(self, name: str, fail: bool = False) -> None:
        self.name, self.fail, self.polls = name, fail, 0

    def poll(self, bus: SerialBus) -> float:
        self.polls += 1
        if self.fail:
            raise RuntimeError("a driver bug")
        return 0.01


def test_a_job_that_raises_does_not_stop_the_others_and_a_removed_job_is_not_polled(caplog):
    bus = SerialBus("/dev/null-not-opened", 19200)  # jobs alone: the bus opens its port only to transact
    broken, good = Job("broken", fail=True), Job("good")
    try:
        with caplog.at_level(logging.ERROR, logger="drivers.serial_bus"):
            bus.add(broken)
            bus.add(good)
            wait_for(lambda: good.polls >= 5, 5, "the good job polled again and again")
        assert broken.polls == 1 and "poll of broken failed unexpectedly" in caplog.text  # then it waits 5 s
        bus.remove(good)  # returns once a poll in progress has ended
        polls = good.polls
        time.sleep(0.1)
        assert good.polls == polls
    finally:
        bus.stop()


@pytest.mark.adversarial
def test_a_vanished_port_backs_off_and_logs_rarely(tmp_path, start_device, caplog):
    """Issue #9: a port that vanishes (USB adapter pulled) must not flood the log, and the meter's polls
    must back off to max_backoff_seconds. A real pty, which is then taken away."""
    master, slave = os.openpty()
    link = tmp_path / "ttyUSB0"  # what udev would give: a name that disappears with the adapter
    link.symlink_to(os.ttyname(slave))
    ctx = RecordingContext("m1")
    entry = {"id": "m1", "kind": "electricity_meter", "driver": "dlt645", "port": str(link),
             "address": "000000000161", "poll_seconds": 0.05, "timeout_seconds": 0.05, "retries": 0,
             "offline_after": 2, "max_backoff_seconds": 0.4}
    with caplog.at_level(logging.INFO):
        meter = start_device(entry, ctx)
        wait_for(lambda: "meter_offline" in ctx.event_types(), 10, "meter_offline (nobody answers)")
        # the adapter is pulled: the pty goes away and so does its name
        os.close(master)
        os.close(slave)
        link.unlink()
        wait_for(lambda: meter.publisher.failures["port"] >= 1, 10, "the port failure")
        port_failures = meter.publisher.failures["port"]
        time.sleep(3.0)
        during = meter.publisher.failures["port"] - port_failures
    # backing off to 0.4 s: at most ~8 polls in 3 s (a loaded machine polls less, never more);
    # without back-off it was one every poll_seconds (60)
    assert 1 <= during <= 12, during
    port_lines = [r for r in caplog.records if "port:" in r.getMessage() and r.name == "test.m1"]
    open_lines = [r for r in caplog.records if "cannot open serial port" in r.getMessage()]
    assert len(port_lines) <= 2 and len(open_lines) <= 1, [r.getMessage() for r in caplog.records]
    assert ctx.event_types().count("meter_offline") == 1
