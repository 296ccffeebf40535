"""The GPIO relay driver on gpiozero's mock pins: what the pin was driven to, not what the code meant."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.base import Resources
from tests.drivers.metering_support import RecordingContext, build

HIGH, LOW = True, False


@pytest.fixture
def pins():
    factory = MockFactory()  # plain pins: a released pin keeps its last level, so the test can read it
    yield factory
    factory.reset()


def relay(pins, store=None, **keys):
    ctx = RecordingContext("r1", Resources(pin_factory=pins), store=store)
    dev = build({"id": "r1", "kind": "relay", "driver": "gpio", "pin": 17, **keys}, ctx)
    dev.start()
    return dev, pins.pin(17)


def driven(pin) -> list[bool]:
    """The levels the pin was driven to, after the idle low it had as an input."""
    return [bool(s.state) for s in pin.states[1:]]


def test_an_active_low_board_is_driven_inverted_and_reads_back_switched(pins):
    dev, pin = relay(pins, active_high=False)
    assert (pin.function, pin.state, dev.is_on()) == ("output", HIGH, False)
    dev.set_on(True)
    assert (pin.state, dev.is_on()) == (LOW, True)
    dev.set_on(False)
    assert (pin.state, dev.is_on()) == (HIGH, False)


@pytest.mark.parametrize("active_high,initial,store,level", [
    (True, "off", None, LOW),
    (True, "on", None, HIGH),
    (False, "off", None, HIGH),  # an active-low relay that must stay off is never pulled in at boot
    (False, "on", None, LOW),
    (True, "restore", {"state": {"on": True}}, HIGH),
    (False, "restore", {"state": {"on": False}}, HIGH),
    (True, "restore", None, LOW),  # nothing stored yet: off
])
def test_the_initial_state_is_the_first_level_the_pin_is_driven_to(pins, active_high, initial, store, level):
    _, pin = relay(pins, store=store, active_high=active_high, initial=initial)
    assert pin.state == level and set(driven(pin)) <= {level}  # straight there: no glitch through the other


@pytest.mark.parametrize("safe_state,levels", [("off", [HIGH, LOW]), ("on", [HIGH, LOW, HIGH]),
                                               ("keep", [HIGH, LOW])])
def test_stop_drives_the_safe_state_then_releases_the_pin(pins, safe_state, levels):
    dev, pin = relay(pins, safe_state=safe_state, initial="on")
    dev.set_on(False)
    dev.stop()
    assert driven(pin) == levels and pin.state == levels[-1]
    assert pin.function == "input"  # released: on a Pi, gpiozero leaves the line an input without pull
    assert dev.is_on() is False  # a stopped relay reports nothing switched on
