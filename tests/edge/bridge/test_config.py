"""The bridge config: every mistake with its place, exit status 2; the shipped config is valid."""

import subprocess
import sys
from pathlib import Path

import pytest

from edge.bridge.config import BRIDGE, load_bridge_config
from edge.cli import main
from edge.config.schema import ConfigError, validate

ROOT = Path(__file__).resolve().parents[3]


def test_defaults_are_the_embedded_sqlite_store():
    cfg = validate(BRIDGE, {})
    assert cfg["sink"] == {"type": "sqlite", "path": "/var/lib/campus-edge/history.db"}
    assert cfg["mqtt"]["host"] == "127.0.0.1" and cfg["share_group"] is None


def test_every_mistake_has_its_place():
    raw = {
        "mqtt": {"port": "eighty", "colour": "blue"},
        "sink": {"type": "influxdb", "path": "/x.db", "timeout_seconds": 0},
        "storage": {"max_points": 10},
        "batch": {"interval_seconds": -1},
        "share_group": "Bridges!",
        "extra": 1,
    }
    with pytest.raises(ConfigError) as err:
        validate(BRIDGE, raw)
    text = "\n".join(err.value.errors)
    for place in ("mqtt.port: expected an integer", "mqtt.colour: unknown key", "sink.url: is required",
                  "sink.path: unknown key", "sink.timeout_seconds: must be at least", "storage.max_points:",
                  "batch.interval_seconds:", "share_group:", "extra: unknown key"):
        assert place in text


def test_cross_checks():
    with pytest.raises(ConfigError) as err:
        validate(BRIDGE, {"sink": {"type": "sqlite", "path": "a.db"}, "storage": {"path": "a.db"},
                          "retry": {"min_seconds": 5, "max_seconds": 1}})
    assert any(e.startswith("retry.min_seconds") for e in err.value.errors)
    assert any(e.startswith("sink.path") for e in err.value.errors)
    with pytest.raises(ConfigError):
        validate(BRIDGE, {"sink": {"type": "kafka"}})


def test_bad_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bridge.yaml"
    bad.write_text("sink: {type: influxdb}\nbatch: {size: 0}\n")
    assert main(["bridge", "-c", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "sink.url: is required" in err and "batch.size: must be at least 1" in err
    bad.write_text("sink: [unclosed\n")
    assert main(["bridge", "-c", str(bad), "--check"]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_shipped_config_is_valid():
    cfg = load_bridge_config(ROOT / "config" / "bridge.yaml")
    assert cfg["sink"]["type"] == "sqlite"
    out = subprocess.run([sys.executable, "-m", "edge.cli", "bridge", "-c", "config/bridge.yaml", "--check"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0 and "OK" in out.stdout
