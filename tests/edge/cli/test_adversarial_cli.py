"""Issue #9: clumsy command lines get a clear error and exit 2, never a traceback (real processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edge.bridge.lineproto import Point
from edge.bridge.sinks import SqliteSink

pytestmark = pytest.mark.adversarial

ROOT = Path(__file__).resolve().parents[3]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)


@pytest.fixture
def node_cfg(tmp_path: Path) -> Path:
    f = tmp_path / "node.yaml"
    # port 9: nothing listens; every case must be refused before any connection is tried
    f.write_text(f"site: s1\nnode: n1\nmqtt: {{host: 127.0.0.1, port: 9}}\n"
                 f"storage: {{path: {tmp_path}/a.db}}\n")
    return f


@pytest.mark.parametrize("args, expected", [
    (["r1/#", "on"], "DEVICE must be a device id"),
    (["+", "off"], "DEVICE must be a device id"),
    (["r1", "on", "--timeout", "1e308"], "argument --timeout: must be more than 0 and at most 3600"),
    (["r1", "on", "--timeout", "nan"], "argument --timeout: must be more than 0"),
    (["r1", "on", "--timeout", "-1"], "argument --timeout: must be more than 0"),
    (["r1", "pulse", "--seconds", "inf"], "argument --seconds: must be more than 0"),
])
def test_switch_refuses_what_it_cannot_send(node_cfg, args, expected):
    r = cli("switch", "-c", str(node_cfg), *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert expected in r.stderr and "Traceback" not in r.stderr


@pytest.fixture
def history_db(tmp_path: Path) -> Path:
    path = tmp_path / "history.db"
    sink = SqliteSink(str(path))
    sink.write([Point("relay", (("site", "s"), ("node", "n"), ("device", "d")), (("on", 1.0),),
                      1_764_000_000_000)])
    sink.close()
    return path


@pytest.mark.parametrize("args, expected", [
    (["--since", "99999999999999999999"], "time out of range: '99999999999999999999'"),
    (["--until", "99999999999999999999999w"], "time out of range"),
    (["--since", "-5"], "not a time"),
    (["--since", "0", "-o", "/proc/version"], "cannot write /proc/version"),
    (["--since", "0", "-o", "/nonexistent-dir/out.csv"], "cannot write /nonexistent-dir/out.csv"),
])
def test_history_refuses_what_it_cannot_do(history_db, args, expected):
    r = cli("history", "s/n/d", "--db", str(history_db), *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert expected in r.stderr and "Traceback" not in r.stderr


def test_history_reads_a_file_that_is_not_a_database(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    r = cli("history", "s/n/d", "--db", str(junk))
    assert r.returncode == 1 and "cannot read the history database" in r.stderr
    assert "Traceback" not in r.stderr


def test_history_still_exports(history_db, tmp_path):
    out = tmp_path / "d.csv"
    r = cli("history", "s/n/d", "--db", str(history_db), "--since", "0", "--format", "csv", "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_text().splitlines()[1].startswith("2025-11-24T16:00:00.000Z,1764000000000,relay")
