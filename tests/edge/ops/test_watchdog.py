"""systemd notify protocol and watchdog: a real AF_UNIX datagram socket, the agent as a real process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from edge.heartbeat import Heartbeats
from edge.sdnotify import Notifier, watchdog_seconds
from tests.conftest import ROOT, agent_config, wait_for
from tests.edge.ops.support import NotifySocket, without_systemd_env


@pytest.fixture
def notify_socket():
    ns = NotifySocket()
    yield ns
    ns.close()


def test_notifier_speaks_to_abstract_and_path_sockets(tmp_path: Path):
    for ns in (NotifySocket(), NotifySocket(tmp_path / "notify")):
        try:
            n = Notifier(ns.env())
            assert n.enabled
            assert n.ready("starting up") and n.watchdog() and n.status("all fine")
            wait_for(lambda ns=ns: len(ns.messages) == 3, timeout=5, what="three datagrams")
            assert ns.messages[0][1] == {"READY": "1", "STATUS": "starting up"}
            assert ns.with_key("WATCHDOG")[0][1] == "1"
            assert ns.with_key("STATUS")[-1][1] == "all fine"
        finally:
            ns.close()


def test_notifier_without_systemd_does_nothing_and_a_dead_socket_is_reported():
    assert Notifier({}).send("READY=1") is False
    n = Notifier({"NOTIFY_SOCKET": "@campus-edge-nobody-listens-here"})
    assert n.ready() is False and "refused" in (n.error or "").lower()


def test_watchdog_interval_is_for_this_process_only():
    assert watchdog_seconds({"WATCHDOG_USEC": "4000000"}) == 4.0
    assert watchdog_seconds({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": str(os.getpid())}) == 4.0
    assert watchdog_seconds({"WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_seconds({"WATCHDOG_USEC": "0"}) is None
    assert watchdog_seconds({}) is None


def test_heartbeats_report_the_thread_that_stopped():
    now = [0.0]
    beats = Heartbeats(clock=lambda: now[0], default_limit_s=10)
    bus, cam = beats.register("bus /dev/ttyUSB0"), beats.register("camera gate", 30)
    now[0] = 20.0
    cam.beat()
    stuck = beats.stuck()
    assert [s.name for s in stuck] == ["bus /dev/ttyUSB0"]
    assert "silent for 20 s" in str(stuck[0])
    bus.close()  # a thread that ends on purpose is no longer watched
    assert beats.stuck() == []


def _agent_process(cfg: dict, tmp_path: Path, env: dict[str, str]) -> tuple[subprocess.Popen, Path]:
    cfg_file = tmp_path / "agent.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg))
    log = tmp_path / "agent.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "agent", "-c", str(cfg_file)],
        env={**without_systemd_env(), "GPIOZERO_PIN_FACTORY": "mock", "PYTHONPATH": str(ROOT), **env},
        stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=ROOT,
    )
    return proc, log


def test_agent_process_says_ready_pings_and_reports_status(broker, tmp_path, notify_socket):
    cfg = {
        "site": "test-site", "node": "wd-1",
        "mqtt": {"host": broker.host, "port": broker.port, "keepalive": 5},
        "storage": {"path": str(tmp_path / "agent.db")},
        "devices": [{"id": "light", "kind": "relay", "driver": "gpio", "pin": 17}],
    }
    # WATCHDOG_USEC without WATCHDOG_PID: systemd sets the PID, but the child's is not known before it starts
    proc, log = _agent_process(cfg, tmp_path, notify_socket.env(watchdog_s=1.0))
    try:
        wait_for(lambda: notify_socket.with_key("READY"), timeout=20, what="READY=1")
        wait_for(lambda: any("connected to" in s and "outbox" in s and "not connected" not in s
                             for _, s in notify_socket.with_key("STATUS")), timeout=20,
                 what="STATUS saying connected, with the outbox depth")
        wait_for(lambda: len(notify_socket.with_key("WATCHDOG")) >= 4, timeout=20, what="watchdog pings")
        broker.stop()
        wait_for(lambda: any(s.startswith("not connected") for _, s in notify_socket.with_key("STATUS")),
                 timeout=20, what="STATUS saying the broker is gone")
        n = len(notify_socket.with_key("WATCHDOG"))
        wait_for(lambda: len(notify_socket.with_key("WATCHDOG")) > n + 2, timeout=10,
                 what="pings going on without the broker (the agent itself is fine)")
    finally:
        proc.terminate()
        assert proc.wait(20) == 0, log.read_text()
    assert notify_socket.with_key("STOPPING"), "STOPPING=1 on SIGTERM"


def test_a_stuck_poller_stops_the_pings_and_says_which(broker, tmp_path, notify_socket, pin_factory,
                                                       monkeypatch, caplog):
    from drivers.base import Resources
    from edge.agent.app import Agent

    port = "sim:dlt645?profile=school_day"
    cfg = agent_config(broker, tmp_path, [
        {"id": "m1", "kind": "electricity_meter", "driver": "dlt645", "port": port,
         "address": "000000000161", "poll_seconds": 0.2}], watchdog={"stall_seconds": 2})
    for k, v in notify_socket.env(watchdog_s=1.0, pid=os.getpid()).items():
        monkeypatch.setenv(k, v)
    agent = Agent(cfg, Resources(pin_factory=pin_factory))
    import threading

    t = threading.Thread(target=agent.run, daemon=True)
    t.start()
    try:
        wait_for(lambda: notify_socket.with_key("READY"), what="READY=1")
        bus = agent.resources._shared[f"serial:{port}"]
        wait_for(lambda: bus.transactions > 3, what="meter being polled")
        wait_for(lambda: len(notify_socket.with_key("WATCHDOG")) >= 3, what="pings while all is well")
        with bus._lock:  # the bus's wire lock held elsewhere: its next poll blocks, as a hung driver would
            time.sleep(0.5)
            wait_for(lambda: any("STUCK: bus " + port in s for _, s in notify_socket.with_key("STATUS")),
                     timeout=15, what="STATUS naming the stuck bus")
            last_ping = notify_socket.with_key("WATCHDOG")[-1][0]
            time.sleep(2.5)  # five ping intervals
            assert notify_socket.with_key("WATCHDOG")[-1][0] == last_ping, "pings went on while stuck"
            assert "thread(s) stopped making progress: bus " + port in caplog.text
        wait_for(lambda: notify_socket.with_key("WATCHDOG")[-1][0] > last_ping, timeout=10,
                 what="pings again once the bus moves")
    finally:
        agent.stop()
        t.join(15)


def test_bridge_process_says_ready_pings_and_reports_its_sink(broker, tmp_path, notify_socket, bridge_process,
                                                              monkeypatch):
    from tests.edge.bridge.support import bridge_raw_config

    for k, v in notify_socket.env(watchdog_s=1.0).items():
        monkeypatch.setenv(k, v)
    bp = bridge_process(bridge_raw_config(broker, tmp_path)).start()
    try:
        wait_for(lambda: notify_socket.with_key("READY"), timeout=20, what="READY=1 from the bridge")
        wait_for(lambda: any(s.startswith("connected to") and "sink up" in s and "disk buffer 0" in s
                             for _, s in notify_socket.with_key("STATUS")), timeout=20,
                 what="STATUS with link, sink and buffer")
        wait_for(lambda: len(notify_socket.with_key("WATCHDOG")) >= 3, timeout=20, what="watchdog pings")
    finally:
        assert bp.terminate() == 0, bp.log.read_text()
