"""The README's first command: the simulated campus runs end to end, the hub tells the phones, and the
demo reads back what the bridge stored and what the hub journalled."""

from __future__ import annotations

import re
import subprocess
import sys

from edge.i18n import text


def test_demo_runs_the_campus_and_reads_back_history(tmp_path):
    r = subprocess.run([sys.executable, "-m", "edge.cli", "demo", "--seconds", "35", "--people", "6",
                        "--workdir", str(tmp_path / "demo")], capture_output=True, text=True, timeout=240)
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
    history = out.split("== what the bridge stored")[1].split("== the hub's journal")[0]
    assert "electricity_meter  " in history and "water_meter  " in history

    # the hub (a real process) told the duty teachers' WeCom group, in Chinese, with the snapshot
    fever_title = text("alert.title.fever", "zh-CN")
    fever_at = out.find(f"PHONE gate-group (WeCom robot): 【{fever_title}】")
    assert fever_at >= 0, out
    image = re.search(r"PHONE gate-group \(WeCom robot\): \[image: PNG, ([\d.]+) KB, md5 ok\]",
                      out[fever_at:])
    assert image is not None and float(image.group(1)) > 1, out[fever_at:]
    assert "PHONE office (DingTalk robot): 【" + text("alert.title.leak", "zh-CN") in out  # signed robot
    # the journal lists the alerts; the first fever is closed with its re-check; the day's report
    journal = out.split("== the hub's journal")[1]
    listing = journal.split("$ campus-edge hub close")[0]
    for title in (fever_title, text("alert.title.leak", "zh-CN")):
        assert title in listing
    assert re.search(r"alert \d+ closed by school-nurse: parents_called, reading 3\d\.\d", journal)
    report = journal.split("$ campus-edge hub report")[1]
    assert re.search(r"\| \S.* \| [1-9]\d* \| [1-9]\d* \|", report)  # a gate: people screened, fevers
