"""The README's first command: the simulated campus runs end to end and reads back what it stored."""

from __future__ import annotations

import subprocess
import sys


def test_demo_runs_the_campus_and_reads_back_history(tmp_path):
    r = subprocess.run([sys.executable, "-m", "edge.cli", "demo", "--seconds", "30", "--people", "6",
                        "--workdir", str(tmp_path / "demo")], capture_output=True, text=True, timeout=180)
    out = r.stdout
    assert r.returncode == 0, out[-2000:] + r.stderr[-2000:]
    for node in ("gate", "classroom-301", "meter-room"):
        assert f"mh-primary/{node} is online" in out
    assert '"ok": true' in out  # the phone-app commands were carried out
    for device in ("meter-block-a", "meter-block-b", "meter-canteen", "water-main"):
        assert f"telemetry messages from meter-room/{device}" in out
    # the pipe bursts a third of the way in; the meter room's own rule closes the main valve
    closed = ("LOCAL RULE burst-closes-valve at meter-room: water-valve off for the leak of water-main, "
              "by itself: done")
    assert closed in out
    assert "state meter-room/water-valve: off (rule)" in out
    history = out.split("== what the bridge stored")[1]
    assert "electricity_meter  " in history and "water_meter  " in history
