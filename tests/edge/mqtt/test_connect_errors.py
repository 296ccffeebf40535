"""Failed connects are logged with their cause, rate-limited, and kept for the status report."""

from __future__ import annotations

import logging
import socket
import ssl
import subprocess
import sys

import pytest
import yaml

from edge.broker import free_port
from edge.mqtt.connect_errors import ConnectFailures, classify, classify_refusal
from tests.conftest import ROOT, RunningAgent, agent_config, wait_for
from tests.edge.ops.support import without_systemd_env


@pytest.mark.parametrize("exc, cause", [
    (socket.gaierror(-2, "Name or service not known"), "dns"),
    (ConnectionRefusedError(111, "Connection refused"), "refused"),
    (ssl.SSLCertVerificationError(1, "certificate verify failed"), "tls"),
    (ssl.SSLError(1, "wrong version number"), "tls"),
    (TimeoutError("timed out"), "timeout"),
    (OSError(113, "No route to host"), "unreachable"),
    (OSError(5, "Input/output error"), "other"),
    (None, "other"),
])
def test_classify(exc, cause):
    assert classify(exc)[0] == cause


def test_a_reset_during_the_tls_handshake_is_a_tls_problem():
    assert classify(ConnectionResetError(104, "Connection reset by peer"), tls=True)[0] == "tls"
    assert classify(ConnectionResetError(104, "Connection reset by peer"), tls=False)[0] == "other"


def test_classify_refusal():
    assert classify_refusal("Bad user name or password") == ("auth", "Bad user name or password")
    assert classify_refusal("Not authorized")[0] == "auth"
    assert classify_refusal("Server unavailable")[0] == "broker"


def test_first_failure_then_once_a_minute_then_success(caplog):
    now = [0.0]
    f = ConnectFailures(logging.getLogger("t"), "broker.lan:1883", clock=lambda: now[0])
    with caplog.at_level(logging.INFO, "t"):
        f.failed("dns", "Name or service not known")
        for now[0] in (1, 3, 7, 15, 31, 59):
            f.failed("dns", "Name or service not known")
        assert len(caplog.records) == 1
        assert "the broker at broker.lan:1883: dns: Name or service not known" in caplog.text
        now[0] = 61
        f.failed("dns", "Name or service not known")
        assert len(caplog.records) == 2
        assert "7 failed attempts since the last report" in caplog.records[-1].message
        now[0] = 62
        f.failed("refused", "Connection refused")  # a new cause is news at once
        assert len(caplog.records) == 3 and "refused" in caplog.records[-1].message
        f.succeeded()
        assert "after 9 failed attempt(s)" in caplog.records[-1].message
    assert f.snapshot()["cause"] == "refused" and f.snapshot()["in_row"] == 0  # kept for the status report


def _cause_logged(caplog, cause: str) -> bool:
    return any(f": {cause}: " in r.getMessage() for r in caplog.records if r.name == "edge.mqtt.session")


@pytest.mark.parametrize("mqtt, cause", [
    ({"host": "broker.school.invalid"}, "dns"),
    ({"port": "closed"}, "refused"),
    ({"tls": {"ca": "/etc/ssl/certs/ca-certificates.crt"}}, "tls"),  # TLS spoken to a plain listener
])
def test_agent_logs_why_it_cannot_connect(broker, tmp_path, pin_factory, caplog, mqtt, cause):
    if mqtt.get("port") == "closed":
        mqtt = {"port": free_port()}
    cfg = agent_config(broker, tmp_path, [], mqtt=mqtt)
    with caplog.at_level(logging.INFO):
        ra = RunningAgent(cfg, pin_factory, wait_online=False)
        try:
            wait_for(lambda: _cause_logged(caplog, cause), timeout=15, what=f"a log line naming {cause}")
            # paho retries after 1, 2, 4 s...: the later failures are counted, not logged (within a minute)
            wait_for(lambda: ra.agent.session.failures.snapshot()["in_row"] >= 3, timeout=30,
                     what="three failed attempts")
            lines = [r for r in caplog.records if "cannot connect to the broker" in r.getMessage()]
            assert len(lines) == 1, [r.getMessage() for r in lines]
            wait_for(lambda: ((ra.agent.db.get("agent", "link") or {}).get("last_error") or {}).get("cause")
                     == cause, what="the link state in the agent's database")
        finally:
            ra.stop()


def test_agent_logs_refused_credentials(tmp_path, pin_factory, caplog):
    from edge.broker import Mosquitto

    pw = tmp_path / "passwd"
    pw.write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(pw), "node-1", "s3cret"], check=True, timeout=30)
    b = Mosquitto(tmp_path / "mq-auth", extra_conf=f"allow_anonymous false\npassword_file {pw}\n").start()
    try:
        cfg = agent_config(b, tmp_path, [], mqtt={"username": "node-1", "password": "wrong"})
        with caplog.at_level(logging.INFO):
            ra = RunningAgent(cfg, pin_factory, wait_online=False)
            try:
                wait_for(lambda: _cause_logged(caplog, "auth"), timeout=15, what="a log line naming auth")
                assert "check mqtt.username/password" in caplog.text
            finally:
                ra.stop()
    finally:
        b.kill()


def test_agent_process_with_unresolvable_host_says_so(tmp_path):
    cfg = {"site": "s", "node": "n", "mqtt": {"host": "broker.school.invalid"},
           "storage": {"path": str(tmp_path / "a.db")}}
    f = tmp_path / "a.yaml"
    f.write_text(yaml.safe_dump(cfg))
    log = tmp_path / "a.log"
    proc = subprocess.Popen([sys.executable, "-m", "edge.cli", "agent", "-c", str(f)], cwd=ROOT,
                            env={**without_systemd_env(), "PYTHONPATH": str(ROOT)},
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: "cannot connect" in log.read_text(), timeout=20, what="the log line")
    finally:
        proc.terminate()
        proc.wait(20)
    text = log.read_text()
    assert "cannot connect to the broker at broker.school.invalid:1883: dns:" in text
    assert "check mqtt.host" in text
