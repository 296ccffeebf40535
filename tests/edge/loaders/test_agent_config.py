"""The agent's config: every mistake reported with its place, exit status 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge.config.schema import ConfigError, validate
from edge.loaders.agent import AGENT, load_agent_config

GOOD = """
site: mh-primary
node: classroom-301
mqtt: {host: 127.0.0.1, port: 1883}
storage: {path: /tmp/x.db}
devices:
  - {id: ac-301, kind: relay, driver: gpio, pin: 17, active_high: true, initial: off, groups: [after-hours]}
  - {id: light-301, kind: relay, driver: gpio, pin: 27, initial: restore}
schedules:
  - {at: "18:00", action: off, groups: [after-hours]}
"""


def errors_of(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        validate(AGENT, raw)
    return exc.value.errors


def test_good_file_loads_with_defaults(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(GOOD)
    cfg = load_agent_config(f)
    assert cfg["devices"][0]["initial"] == "off"  # YAML's bare `off` is a boolean; we read it as the word
    assert cfg["devices"][1]["active_high"] is True
    assert cfg["mqtt"]["session_expiry"] == 3600
    assert cfg["schedules"][0]["days"] == ["mon", "tue", "wed", "thu", "fri"]


def test_every_mistake_is_reported_with_its_place() -> None:
    errs = errors_of(
        {
            "site": "MH Primary",
            "node": "n1",
            "mqtt": {"port": "x", "colour": "red"},
            "devices": [
                {"id": "ac", "kind": "relay", "driver": "gpio", "pin": "seventeen", "initial": "maybe"},
                {"id": "ac2", "kind": "fridge", "driver": "gpio"},
                {"kind": "relay", "driver": "gpio", "pin": 5},
            ],
        }
    )
    assert "devices[0].pin: expected an integer, got 'seventeen'" in errs
    assert "devices[0].initial: expected one of off, on, restore, got 'maybe'" in errs
    assert any(e.startswith("site: ") for e in errs)
    assert "mqtt.port: expected an integer, got 'x'" in errs
    assert any(e.startswith("mqtt.colour: unknown key") for e in errs)
    assert any(e.startswith("devices[1].kind: unknown kind 'fridge'") for e in errs)
    assert "devices[2].id: is required" in errs
    assert len(errs) == 7


def test_unknown_device_key_is_an_error_not_ignored() -> None:
    errs = errors_of(
        {
            "site": "s",
            "node": "n",
            "devices": [{"id": "a", "kind": "relay", "driver": "gpio", "pin": 1, "pinn": 2}],
        }
    )
    assert errs and errs[0].startswith("devices[0].pinn: unknown key")


def test_duplicate_ids_and_pins_are_refused() -> None:
    errs = errors_of(
        {
            "site": "s",
            "node": "n",
            "devices": [
                {"id": "a", "kind": "relay", "driver": "gpio", "pin": 1},
                {"id": "a", "kind": "relay", "driver": "gpio", "pin": 1},
            ],
        }
    )
    assert "devices[1].id: 'a' is already used by devices[0]" in errs
    assert "devices[1].pin: GPIO 1 is already used by devices[0]" in errs


def test_schedule_must_name_existing_devices_and_a_valid_time() -> None:
    errs = errors_of(
        {
            "site": "s",
            "node": "n",
            "devices": [{"id": "a", "kind": "relay", "driver": "gpio", "pin": 1}],
            "schedules": [
                {"at": "18:00", "action": "off", "devices": ["b"]},
                {"at": "7:5", "action": "on", "devices": ["a"]},
            ],
        }
    )
    assert "schedules[0].devices[0]: no device 'b' on this node" in errs
    assert any(e.startswith("schedules[1].at: expected a time HH:MM") for e in errs)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "edge.cli", *args], capture_output=True, text=True, timeout=60
    )


def test_check_config_exits_2_without_traceback(tmp_path: Path) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("site: s\nnode: n\ndevices:\n  - {id: a, kind: relay, driver: gpio, pin: seventeen}\n")
    r = run_cli("check-config", str(f))
    assert r.returncode == 2
    assert "devices[0].pin: expected an integer, got 'seventeen'" in r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize(
    "content, expected",
    [
        ("site: [unclosed\n", "line 2, column 1: not valid YAML"),
        ("", "the file is empty"),
        ("- just\n- a list\n", "(top level): expected a mapping, got a list"),
    ],
)
def test_broken_files_are_config_errors(tmp_path: Path, content: str, expected: str) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(content)
    r = run_cli("check-config", str(f))
    assert r.returncode == 2 and expected in r.stderr and "Traceback" not in r.stderr


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    r = run_cli("agent", "-c", str(tmp_path / "nope.yaml"))
    assert r.returncode == 2 and "cannot read the file" in r.stderr


def test_check_config_accepts_good_file(tmp_path: Path) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(GOOD)
    r = run_cli("check-config", str(f))
    assert r.returncode == 0 and "OK" in r.stdout


def test_shipped_example_configs_are_valid() -> None:
    root = Path(__file__).resolve().parents[3] / "config"
    agent_files = [p for p in root.glob("*.yaml") if p.name not in ("bridge.yaml", "hub.yaml")]
    assert agent_files, "config/ holds example agent configs"
    for p in agent_files:
        load_agent_config(p)


def test_config_reference_is_generated_from_the_schema() -> None:
    from edge.loaders.docs import render

    doc = Path(__file__).resolve().parents[3] / "docs" / "config.md"
    stale = "docs/config.md is stale: python -m edge.loaders.docs > docs/config.md"
    assert doc.read_text() == render(), stale


def test_meters_on_one_port_must_share_its_line_settings() -> None:
    m = {"kind": "electricity_meter", "driver": "dlt645", "port": "/dev/ttyUSB0"}
    errs = errors_of({"site": "s", "node": "n", "devices": [
        {**m, "id": "a", "address": "000000000161"},
        {**m, "id": "b", "address": "000000000162", "baudrate": 9600},
        {**m, "id": "c", "address": "000000000163", "port": "/dev/ttyUSB1", "baudrate": 9600},
    ]})
    assert errs == ["devices[1].baudrate: 9600 differs from 2400 of devices[0] on the same port /dev/ttyUSB0"]
