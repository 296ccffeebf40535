"""`campus-edge switch` sends a command with an id and prints the agent's reply."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml


def switch(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "edge.cli", "switch", "-c", str(cfg), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def write_cfg(tmp_path: Path, ra) -> Path:
    f = tmp_path / "node.yaml"
    raw = {
        "site": ra.cfg["site"],
        "node": ra.cfg["node"],
        "mqtt": {"host": ra.cfg["mqtt"]["host"], "port": ra.cfg["mqtt"]["port"]},
        "devices": [{"id": "ac", "kind": "relay", "driver": "gpio", "pin": 17}],
    }
    f.write_text(yaml.safe_dump(raw))
    return f


def test_switch_on_prints_ok_reply_and_exits_0(run_agent, tmp_path, pin_factory):
    ra = run_agent([{"id": "ac", "kind": "relay", "driver": "gpio", "pin": 17}])
    r = switch(write_cfg(tmp_path, ra), "ac", "on")
    assert r.returncode == 0, r.stderr
    reply = json.loads(r.stdout)
    assert reply["ok"] is True and reply["state"]["on"] is True
    assert int(pin_factory.pin(17).state) == 1


def test_switch_exits_1_on_refusal(run_agent, tmp_path):
    ra = run_agent([{"id": "ac", "kind": "relay", "driver": "gpio", "pin": 17}])
    r = switch(write_cfg(tmp_path, ra), "missing-device", "on")
    assert r.returncode == 1
    assert json.loads(r.stdout)["error"] == "no device 'missing-device' on node node-1"


def test_switch_exits_1_on_timeout(broker, tmp_path):
    f = tmp_path / "node.yaml"
    f.write_text(
        yaml.safe_dump(
            {"site": "s", "node": "nobody-home", "mqtt": {"host": broker.host, "port": broker.port}}
        )
    )
    r = switch(f, "ac", "off", "--timeout", "1")
    assert r.returncode == 1 and "no reply from nobody-home/ac within 1 s" in r.stderr


def test_every_subcommand_explains_itself():
    for sub in ("agent", "check-config", "switch"):
        r = subprocess.run(
            [sys.executable, "-m", "edge.cli", sub, "--help"], capture_output=True, text=True, timeout=60
        )
        assert r.returncode == 0 and "usage: campus-edge" in r.stdout and len(r.stdout) > 200


def test_agent_without_gpio_says_what_to_do(tmp_path):
    import os

    import pytest

    if "Raspberry Pi" in (
        Path("/proc/device-tree/model").read_text(errors="ignore")
        if Path("/proc/device-tree/model").exists()
        else ""
    ):
        pytest.skip("this machine has real GPIO; the test needs one without")
    f = tmp_path / "node.yaml"
    f.write_text(
        yaml.safe_dump(
            {
                "site": "s",
                "node": "n",
                "mqtt": {"port": 1},
                "storage": {"path": str(tmp_path / "a.db")},
                "devices": [{"id": "ac", "kind": "relay", "driver": "gpio", "pin": 17}],
            }
        )
    )
    env = {k: v for k, v in os.environ.items() if k != "GPIOZERO_PIN_FACTORY"}
    r = subprocess.run(
        [sys.executable, "-m", "edge.cli", "agent", "-c", str(f)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert r.returncode == 1
    assert "ac (relay/gpio) could not start" in r.stderr and "GPIOZERO_PIN_FACTORY=mock" in r.stderr
    assert "Traceback" not in r.stderr
