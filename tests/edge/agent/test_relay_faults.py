"""A relay the agent cannot switch on its own initiative: one ``relay_fault`` per fault, ``relay_ok`` when
it switches again, also across a restart. The agent's Switching on a real database and the GPIO relay on
gpiozero's mock pins, with the pin made to fail as a broken board does."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from drivers.base import Resources
from edge.agent.switching import Switching
from edge.mqtt.payloads import Command
from edge.store.commands import CommandLog
from edge.store.db import Database
from tests.drivers.metering_support import RecordingContext, build

NOW = lambda: int(time.time() * 1000)  # noqa: E731


@pytest.fixture
def pins():
    factory = MockFactory()
    yield factory
    factory.reset()


def _switching(tmp_path: Path, pins: MockFactory) -> tuple[Switching, Any]:
    """The agent's switching over one relay "uv" on pin 17 (a device stopped before: a restart)."""
    dev = build({"id": "uv", "kind": "relay", "driver": "gpio", "pin": 17},
                RecordingContext("uv", Resources(pin_factory=pins)))
    dev.start()
    db = Database(tmp_path / "agent.db")
    sw = Switching(db, CommandLog(db), {"uv": dev}, NOW)
    sw.boot()
    return sw, pins.pin(17)


def _break(pin: Any) -> None:
    def broken(value: Any) -> None:
        raise OSError("GPIO17 does not drive (simulated broken relay board)")

    pin._set_state = broken


def test_once_per_fault_then_ok_again_also_after_a_restart(tmp_path: Path, pins: MockFactory) -> None:
    sw, pin = _switching(tmp_path, pins)
    _break(pin)
    out = sw.switch("uv", True, "schedule")
    assert out.reply["ok"] is False and out.state is None
    etype, fields = out.event
    assert etype == "relay_fault" and fields["cause"] == "schedule" and fields["action"] == "on"
    assert "does not drive" in fields["error"] and fields["error"].startswith("OSError")
    # the failsafe and a local rule meet the same broken relay: no second event
    assert sw.switch("uv", False, "failsafe").event is None
    rule = sw.execute("uv", Command(action="on", id="rule:leak:4:0"), cause="rule")
    assert rule.reply["ok"] is False and rule.event is None
    assert sw.faults["uv"]["attempts"] == 3

    del pin._set_state  # the board is mended, and the agent restarts
    sw.switches["uv"].stop()
    sw, pin = _switching(tmp_path, pins)
    out = sw.switch("uv", True, "schedule")
    assert out.state["on"] is True and pin.state
    etype, fields = out.event
    assert etype == "relay_ok" and fields["cause"] == "schedule" and "does not drive" in fields["previous"]
    assert sw.switch("uv", False, "schedule").event is None  # healthy: nothing to tell
    sw.switches["uv"].stop()
    assert _switching(tmp_path, pins)[0].faults == {}  # cleared on disk too


def test_a_pulse_end_retried_every_turn_tells_once(tmp_path: Path, pins: MockFactory) -> None:
    sw, pin = _switching(tmp_path, pins)
    start = sw.execute("uv", Command(action="pulse", id="c1", seconds=0.05))
    assert start.reply["ok"] is True and start.event is None
    _break(pin)
    time.sleep(0.06)
    first = sw.due_pulse_ends()
    assert [o.event[0] if o.event else None for o in first] == ["relay_fault"]
    assert first[0].event[1]["cause"] == "pulse_end" and first[0].event[1]["action"] == "off"
    assert pin.state  # still on: the end stays due
    assert [o.event for o in sw.due_pulse_ends()] == [None]
    del pin._set_state
    back = sw.due_pulse_ends()
    assert back[0].event[0] == "relay_ok" and back[0].state["on"] is False and not pin.state
    assert sw.next_pulse_end() is None and sw.due_pulse_ends() == []


def test_a_command_that_fails_is_answered_in_its_reply_not_as_a_fault(tmp_path: Path,
                                                                        pins: MockFactory) -> None:
    sw, pin = _switching(tmp_path, pins)
    _break(pin)
    out = sw.execute("uv", Command(action="on", id="c2"))
    assert out.reply["ok"] is False and "relay could not be switched" in out.reply["error"]
    assert out.event is None and sw.faults == {}  # the hub judges the reply (edge/hub/upkeep/relays.py)
    assert sw.switch("uv", True, "schedule").event[0] == "relay_fault"
    del pin._set_state
    assert sw.execute("uv", Command(action="on", id="c3")).event[0] == "relay_ok"  # by any cause
