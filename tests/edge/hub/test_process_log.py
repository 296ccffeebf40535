"""`campus-edge hub` as a process: an alert reaches the robot, and the robot's key never reaches the log
(the HTTP library's own request lines would print the whole webhook URL, which is the robot's password)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time

import yaml

from tests.conftest import wait_for
from tests.edge.hub.notify.support import png


def test_hub_process_delivers_and_never_logs_the_robot_key(broker, robots, mqtt_probe, tmp_path):
    key = robots.wecom_key()
    cfg = {"site": "s1", "mqtt": {"host": broker.host, "port": broker.port, "client_id": "ce-hub-log"},
           "storage": {"path": str(tmp_path / "hub.db")}, "timezone": "Asia/Shanghai",
           "channels": [{"id": "gate", "type": "wecom", "url": robots.wecom_url(key)}],
           "rules": [{"events": ["fever"], "channels": ["gate"]}]}
    (tmp_path / "hub.yaml").write_text(yaml.safe_dump(cfg))
    log = tmp_path / "hub.log"
    with open(log, "wb") as out:
        hub = subprocess.Popen([sys.executable, "-m", "edge.cli", "hub", "-c", str(tmp_path / "hub.yaml")],
                               stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: b"connected to" in log.read_bytes(), 30, "the hub to connect")
        probe = mqtt_probe()
        event = {"ts": int(time.time() * 1000), "seq": 1, "type": "fever", "temp_c": 38.2,
                 "threshold_c": 37.3, "snapshot_png": base64.b64encode(png()).decode()}
        # again every 2 s until it arrives (the hub subscribes just after it connected; a copy is a no-op)
        deadline = time.monotonic() + 30
        while len(robots.messages("wecom")) < 2:
            assert time.monotonic() < deadline, "the text and the snapshot did not reach the robot"
            probe.publish("campus/s1/gate/cam/event", json.dumps(event))
            end = time.monotonic() + 2
            while time.monotonic() < end and len(robots.messages("wecom")) < 2:
                time.sleep(0.05)
    finally:
        hub.terminate()
        hub.wait(30)
    text = log.read_text()
    assert key not in text, [line for line in text.splitlines() if key in line]
