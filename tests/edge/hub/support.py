"""Hub test helpers: configs against the test broker, agent-shaped messages, the hub as thread or process."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from edge.broker import Mosquitto

ROOT = Path(__file__).resolve().parents[3]
SITE = "test-site"
T0 = 1_764_547_200_000  # 2025-12-01 08:00 Asia/Shanghai (00:00 UTC)


def png(seed: int = 0) -> bytes:
    """A small real PNG (a false-colour patch), different per seed."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def fever(seq: int, ts: int | None = None, temp: float = 38.1,
          snapshot: bytes | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"ts": T0 + seq if ts is None else ts, "seq": seq, "type": "fever", "track": seq,
                            "temp_c": temp, "threshold_c": 37.3, "uncertainty_c": 0.3, "frames": 7,
                            "blackbody": True}
    body["snapshot_png"] = base64.b64encode(snapshot).decode() if snapshot is not None else None
    return body


def info(*devices: tuple[str, str, str], groups: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """devices: (id, kind, name)."""
    return {"version": "1.2.3", "session": 1, "started": T0,
            "devices": [{"id": d, "kind": k, "driver": "sim", "name": n, "groups": (groups or {}).get(d, [])}
                        for d, k, n in devices]}


def hub_raw_config(broker: Mosquitto, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    name = extra.pop("name", f"h-{uuid.uuid4().hex[:6]}")
    return {
        "site": extra.pop("site", SITE),
        "mqtt": {"host": broker.host, "port": broker.port, "keepalive": 5, "client_id": f"ce-hub-{name}",
                 **extra.pop("mqtt", {})},
        "storage": {"path": str(tmp_path / name / "hub.db")},
        "timezone": extra.pop("timezone", "Asia/Shanghai"),
        "delivery": {"min_retry_seconds": 0.2, "max_retry_seconds": 1.0, **extra.pop("delivery", {})},
        "status_seconds": 1,
        **extra,
    }


class RunningHub:
    """A Hub on its own thread, as `campus-edge hub` runs it."""

    def __init__(self, raw: dict[str, Any], **kw: Any) -> None:
        from edge.hub.app import Hub
        from edge.hub.config import parse_hub_config

        self.cfg = parse_hub_config(raw)
        self.hub = Hub(self.cfg, **kw)
        self.thread = threading.Thread(target=self.hub.run, name="hub", daemon=True)
        self.thread.start()
        assert self.hub.ready.wait(10), "hub did not start"
        assert self.hub.subscribed.wait(10), "hub did not connect and subscribe"

    @property
    def journal(self):
        return self.hub.journal

    def stop(self) -> None:
        if self.thread.is_alive():
            self.hub.stop()
            self.thread.join(30)
            assert not self.thread.is_alive(), "hub did not stop"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}, timeout=60)


def wait_until(predicate, timeout: float = 15.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


def dumps(obj: Any) -> str:
    return json.dumps(obj)
