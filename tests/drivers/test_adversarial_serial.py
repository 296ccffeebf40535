"""Issue #9: a serial port that vanishes (USB adapter pulled) must not flood the log, and the meter's
polls must back off to max_backoff_seconds. Real pyserial on a real pty, which is then taken away."""

from __future__ import annotations

import logging
import os
import time

import pytest

from tests.conftest import wait_for
from tests.drivers.metering_support import RecordingContext

pytestmark = pytest.mark.adversarial


def test_a_vanished_port_backs_off_and_logs_rarely(tmp_path, start_device, caplog):
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
