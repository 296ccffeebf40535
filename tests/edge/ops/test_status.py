"""`campus-edge status`: a node (-c FILE) and a whole site (--broker), against a real Mosquitto and agents."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import yaml

from edge import __version__
from edge.config.schema import validate
from edge.loaders.agent import AGENT
from edge.status import Retained, render_site, site_report
from tests.conftest import ROOT, RunningAgent, wait_for
from tests.edge.ops.support import without_systemd_env

PORT = "sim:dlt645?profile=school_day"
SILENT = "sim:dlt645?addresses=000000000161"  # a bus where meter 000000000999 never answers


def raw_config(broker, tmp_path: Path, node: str, pin: int = 17) -> dict:
    return {
        "site": "test-site", "node": node,
        "mqtt": {"host": broker.host, "port": broker.port, "keepalive": 5},
        "storage": {"path": str(tmp_path / f"{node}-{uuid.uuid4().hex[:6]}.db")},
        "devices": [
            {"id": "light", "kind": "relay", "driver": "gpio", "pin": pin},
            {"id": "m1", "kind": "electricity_meter", "driver": "dlt645", "port": PORT,
             "address": "000000000161", "poll_seconds": 0.3},
            {"id": "m9", "kind": "electricity_meter", "driver": "dlt645", "port": SILENT,
             "address": "000000000999", "poll_seconds": 0.3, "timeout_seconds": 0.6, "retries": 0,
             "offline_after": 2, "max_backoff_seconds": 1},
        ],
    }


def status(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge.cli", "status", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**without_systemd_env(), "PYTHONPATH": str(ROOT)}, timeout=60)


def test_node_status_online_then_broker_gone(broker, tmp_path, pin_factory):
    raw = raw_config(broker, tmp_path, "node-1")
    cfg_file = tmp_path / "node-1.yaml"
    cfg_file.write_text(yaml.safe_dump(raw))
    ra = RunningAgent(validate(AGENT, raw), pin_factory)
    try:
        wait_for(lambda: ra.agent.retained.get("m1", {}).get("values"), what="a meter reading")
        wait_for(lambda: ra.agent.retained.get("m9", {}).get("online") is False, what="m9 offline")
        r = status("-c", str(cfg_file))
        assert r.returncode == 0, r.stdout + r.stderr
        out = r.stdout
        assert f"on the broker: online, version {__version__}" in out
        assert "agent link: connected since" in out
        assert "outbox on disk: " in out
        assert "light" in out and "relay/gpio" in out and " off " in out + " "
        assert "m1" in out and "online" in out and "last reading: energy_kwh=" in out

        r = status("-c", str(cfg_file), "--json")
        report = json.loads(r.stdout)
        conditions = {d["id"]: d["condition"] for d in report["devices"]}
        assert conditions == {"light": "off", "m1": "online", "m9": "offline"}
        m9 = next(d for d in report["devices"] if d["id"] == "m9")
        assert m9["last_error"].startswith("timeout: no answer from 000000000999")
        assert "failures so far: timeout" in m9["last_error"]
        assert report["link"]["connected"] is True

        broker.stop()
        wait_for(lambda: len(ra.agent.outbox) >= 3, what="readings waiting in the outbox")
        wait_for(lambda: (ra.agent.db.get("agent", "link") or {}).get("last_error"), timeout=15,
                 what="a failed reconnect recorded")
        r = status("-c", str(cfg_file), "--timeout", "3")
        assert r.returncode == 1
        out = r.stdout
        assert "broker: UNREACHABLE from here (refused:" in out
        assert "agent link: NOT connected" in out and "last error refused" in out
        assert "outbox on disk: " in out and "oldest" in out
        assert "newest unsent reading" in out and "energy_kwh=" in out
    finally:
        ra.stop()


def test_site_status_lists_every_node(broker, tmp_path, pin_factory):
    agents = [RunningAgent(validate(AGENT, raw_config(broker, tmp_path, n, pin)), pin_factory)
              for n, pin in (("node-a", 17), ("node-b", 18))]
    try:
        for ra in agents:
            wait_for(lambda ra=ra: ra.agent.retained.get("m1", {}).get("values"), what="a meter reading")
        agents[1].stop()  # a clean stop: status offline, retained
        r = status("--broker", f"{broker.host}:{broker.port}", "--site", "test-site")
        assert r.returncode == 1, r.stdout + r.stderr  # not every node is online
        lines = {line.split()[1]: line for line in r.stdout.splitlines()[1:-1]}
        assert set(lines) == {"node-a", "node-b"}
        assert " online " in lines["node-a"] and __version__ in lines["node-a"]
        assert " OFFLINE " in lines["node-b"] and "ago)" in lines["node-b"]
        assert r.stdout.splitlines()[-1] == "1 of 2 node(s) online"

        r = status("--broker", f"{broker.host}:{broker.port}", "--site", "other-site", "--json")
        assert json.loads(r.stdout) == []
        r = status("--broker", f"{broker.host}:1", "--timeout", "3")
        assert r.returncode == 1 and "cannot read the broker at 127.0.0.1:1: refused" in r.stderr
    finally:
        for ra in agents:
            ra.stop()


def test_site_report_from_messages():
    info = {"version": "1.2", "started": 1000, "devices": [{"id": "a"}]}
    health = {"ts": 9000, "values": {"outbox_pending": 4}}
    msgs = Retained(ok=True, messages={
        "campus/s1/n1/status": b"online",
        "campus/s1/n1/info": json.dumps(info).encode(),
        "campus/s1/n1/a/state": json.dumps({"ts": 5000, "on": True}).encode(),
        "campus/s1/n2/status": b"offline",
        "campus/s2/n9/status": b"online",
        "campus/s1/n2/a/state": b"not json",
    }, live=[("campus/s1/n1/agent/telemetry", json.dumps(health).encode())])
    nodes = site_report(msgs, "campus", "s1")
    assert [(n["node"], n["status"], n["last_seen"], n["outbox"]) for n in nodes] == [
        ("n1", "online", 9000, 4), ("n2", "offline", None, None)]
    text = render_site(nodes, now_ms=69000)
    assert "1 of 2 node(s) online" in text and "(60 s ago)" in text and "OFFLINE" in text
