"""paho's own log lines reach ours: a child of the session's logger, at WARNING (DEBUG is every packet)."""

from __future__ import annotations

import logging
import queue
import time

from edge.mqtt.session import PAHO_LOG, MqttSession


def test_pahos_logger_is_ours_at_warning(broker, caplog):
    session = MqttSession({"host": broker.host, "port": broker.port}, "log-test", queue.Queue())
    assert session.client.logger is PAHO_LOG and PAHO_LOG.name == "edge.mqtt.session.paho"
    assert PAHO_LOG.getEffectiveLevel() == logging.WARNING

    def broken(*_):
        raise RuntimeError("a bug in a callback")

    session.client.on_subscribe = broken  # paho logs what a callback raises, then raises it itself
    session.client.suppress_exceptions = True
    session.start()
    inbox = session.inbox
    assert inbox.get(timeout=10).__class__.__name__ == "Connected"
    with caplog.at_level(logging.WARNING, logger="edge.mqtt.session.paho"):
        session.subscribe(["log/test"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(r.name == PAHO_LOG.name for r in caplog.records):
            time.sleep(0.05)
    session.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "edge.mqtt.session.paho"]
    assert any("a bug in a callback" in line for line in lines), lines


def test_pahos_not_connected_refrain_is_left_out(caplog):
    """Said at every turn of paho's loop while it waits to reconnect; ConnectFailures says why instead."""
    with caplog.at_level(logging.WARNING, logger=PAHO_LOG.name):
        PAHO_LOG.error("Client is not connected. Socket: None). Last known Connection State: X")
        PAHO_LOG.error("something else paho has to say")
    assert [r.getMessage() for r in caplog.records] == ["something else paho has to say"]
