"""`campus-edge hub -c FILE` serves the console on web.host:web.port and stops it on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import yaml

from tests.edge.bridge.support import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_hub_process_serves_the_console(broker, tmp_path):
    port = free_port()
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(yaml.safe_dump({"site": "mh", "mqtt": {"host": broker.host, "port": broker.port},
                                   "storage": {"path": str(tmp_path / "hub.db")},
                                   "web": {"host": "127.0.0.1", "port": port}}))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "edge.cli", "hub", "-c", str(cfg)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "console did not come up"
                time.sleep(0.1)
        assert r.status_code == 200 and "登录" in r.text
        assert httpx.get(f"http://127.0.0.1:{port}/gate").status_code == 401
        # a second hub on the same port says why it cannot start
        cfg2 = tmp_path / "hub2.yaml"
        cfg2.write_text(yaml.safe_dump({"site": "mh", "mqtt": {"host": broker.host, "port": broker.port,
                                                               "client_id": "second-hub"},
                                        "storage": {"path": str(tmp_path / "hub2.db")},
                                        "web": {"host": "127.0.0.1", "port": port}}))
        second = subprocess.run([sys.executable, "-m", "edge.cli", "hub", "-c", str(cfg2)], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
