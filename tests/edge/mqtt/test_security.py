"""TLS and passwords: the agent's `mqtt.tls`, `username` and `password` against a real Mosquitto."""

from __future__ import annotations

import queue
import subprocess
import time
from pathlib import Path

import pytest

from edge.broker import Mosquitto, free_port
from edge.mqtt.session import RECV_SIZE, Connected, MqttSession
from tests.conftest import MqttProbe, RunningAgent, agent_config
from tests.edge.mqtt.test_buffered_session import take

RELAY = {"id": "ac", "kind": "relay", "driver": "gpio", "pin": 17}


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(d: Path, name: str) -> None:
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=d)


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    """A campus CA, a server certificate for 127.0.0.1 signed by it, and an unrelated CA."""
    d = tmp_path / "pki"
    d.mkdir()
    make_ca(d, "campus-ca")
    make_ca(d, "other-ca")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
            "-out", "server.csr", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "campus-ca.pem", "-CAkey", "campus-ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem", cwd=d)
    return d


@pytest.fixture
def tls_broker(tmp_path: Path, pki: Path):
    port = free_port()
    b = Mosquitto(tmp_path / "mq-tls", extra_conf=(
        f"listener {port} 127.0.0.1\ncafile {pki / 'campus-ca.pem'}\n"
        f"certfile {pki / 'server.pem'}\nkeyfile {pki / 'server.key'}\n")).start()
    b.tls_port = port
    yield b
    b.kill()


def test_agent_over_tls_takes_commands(tls_broker, pki, tmp_path, pin_factory):
    cfg = agent_config(tls_broker, tmp_path, [RELAY],
                       mqtt={"port": tls_broker.tls_port, "tls": {"ca": str(pki / "campus-ca.pem")}})
    ra = RunningAgent(cfg, pin_factory)  # waits until connected and subscribed, over TLS
    probe = MqttProbe(tls_broker, [f"{ra.base}/ac/reply"])  # plain listener, same broker
    try:
        probe.publish(f"{ra.base}/ac/set", {"id": "t1", "action": "on"})
        assert probe.wait_json(f"{ra.base}/ac/reply")["ok"] is True
        assert int(pin_factory.pin(17).state) == 1
    finally:
        probe.close()
        ra.stop()


def test_agent_refuses_a_broker_its_ca_did_not_sign(tls_broker, pki, tmp_path, pin_factory):
    cfg = agent_config(tls_broker, tmp_path, [RELAY],
                       mqtt={"port": tls_broker.tls_port, "tls": {"ca": str(pki / "other-ca.pem")}})
    ra = RunningAgent(cfg, pin_factory, wait_online=False)
    try:
        time.sleep(2.0)
        assert not ra.agent.session.connected and not ra.agent.online.is_set()
        assert ra.thread.is_alive()  # it keeps trying; the relays keep their state
    finally:
        ra.stop()


@pytest.fixture
def auth_broker(tmp_path: Path):
    pw = tmp_path / "passwd"
    pw.write_text("")
    subprocess.run(["mosquitto_passwd", "-b", str(pw), "node-1", "s3cret"], check=True, timeout=30)
    # the later allow_anonymous overrides the fixture's default: this broker takes no anonymous clients
    b = Mosquitto(tmp_path / "mq-auth", extra_conf=f"allow_anonymous false\npassword_file {pw}\n").start()
    yield b
    b.kill()


@pytest.mark.parametrize("password, online", [("s3cret", True), ("wrong", False), (None, False)])
def test_agent_logs_in_with_its_password(auth_broker, tmp_path, pin_factory, password, online):
    login = {"username": "node-1", "password": password} if password else {}
    cfg = agent_config(auth_broker, tmp_path, [RELAY], mqtt=login)
    ra = RunningAgent(cfg, pin_factory, wait_online=False)
    try:
        assert ra.agent.online.wait(5 if online else 2) is online
        assert ra.thread.is_alive()
    finally:
        ra.stop()


def test_the_bridges_buffered_reader_over_tls_gets_every_message_in_order(tls_broker, pki):
    """TLS hands the buffered reader records of up to 16 KiB and keeps decrypted bytes of its own
    (paho then skips select()): every message still arrives once, whole and in order."""
    inbox: queue.Queue = queue.Queue()
    settings = {"host": "127.0.0.1", "port": tls_broker.tls_port, "tls": {"ca": str(pki / "campus-ca.pem")}}
    s = MqttSession(settings, "tls-reader", inbox, manual_ack=True, buffered_reads=True, batched=True)
    s.start()
    while not isinstance(inbox.get(timeout=10), Connected):
        pass
    s.subscribe(["tls/#"])
    time.sleep(0.3)
    lines = [f"{i:05d}{'y' * (i % 500)}" for i in range(2000)] + ["z" * (2 * RECV_SIZE)]
    subprocess.run(["mosquitto_pub", "-p", str(tls_broker.port), "-q", "1", "-t", "tls/lines", "-l"],
                   input="\n".join(lines) + "\n", text=True, check=True, timeout=60)
    got = take(s, len(lines))
    s.stop()
    assert [m.payload.decode() for m in got] == lines
