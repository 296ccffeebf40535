"""A hub with its console on a free port, against the test's Mosquitto: what the console tests drive."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import httpx

from edge.broker import Mosquitto

PASSWORDS = {"duty": "duty-password-1", "logistics": "logistics-password-1", "admin": "admin-password-1"}
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class RunningConsole:
    """Hub.run on a thread, the console's uvicorn on another; accounts duty, logistics, admin."""

    def __init__(self, broker: Mosquitto, workdir: Path, readings: dict[str, Any] | None = None,
                 **extra: Any) -> None:
        from edge.hub.app import Hub
        from edge.hub.config import parse_hub_config
        from edge.hub.web import start_console

        raw: dict[str, Any] = {"site": "test-site", "mqtt": {"host": broker.host, "port": broker.port,
                                                             "keepalive": 5, "client_id": "hub-console-test"},
                               "storage": {"path": str(workdir / "hub.db")}, "timezone": "Asia/Shanghai",
                               **extra}
        if readings:
            raw["readings"] = readings
        self.cfg = parse_hub_config(raw)
        self.cfg["web"]["port"] = 0  # a free port
        self.hub = Hub(self.cfg)
        self.thread = threading.Thread(target=self.hub.run, name="hub", daemon=True)
        self.thread.start()
        assert self.hub.ready.wait(10), "hub did not start"
        assert self.hub.subscribed.wait(10), "hub did not subscribe"
        self.server = start_console(self.hub, self.cfg)
        assert self.server.wait_started(10), "console did not start"
        self.console = self.server.console
        self.url = self.server.url
        for role, password in PASSWORDS.items():
            self.console.users.add(role, role, password)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=20.0, follow_redirects=False)

    def login(self, role: str) -> tuple[httpx.Client, str]:
        """A logged-in HTTP client and its CSRF token."""
        c = self.client()
        token = CSRF.search(c.get("/login").text).group(1)
        r = c.post("/login", data={"csrf": token, "name": role, "password": PASSWORDS[role]})
        assert r.status_code == 303, r.text
        page = c.get("/alerts")
        return c, CSRF.search(page.text).group(1)

    def stop(self) -> None:
        self.server.stop()
        self.hub.stop()
        self.thread.join(15)
        assert not self.thread.is_alive(), "hub did not stop"


# -- a gate camera, as the agent's thermal camera publishes (docs/mqtt.md) ----------------------------


def snapshot_png() -> bytes:
    """A small false-colour thermal crop, made by the screening pipeline's own renderer."""
    import numpy as np

    from edge.screening.snapshot import false_colour_png

    y, x = np.mgrid[0:24, 0:32]
    face = 30.0 + 8.0 * np.exp(-(((x - 16) / 7.0) ** 2 + ((y - 12) / 8.0) ** 2))
    return false_colour_png(face.astype(np.float32))


class GateCamera:
    """Publishes a gate node's birth, the camera's state and its fever events with a snapshot."""

    def __init__(self, probe: Any, site: str = "test-site", node: str = "gate-east", device: str = "cam-east",
                 name: str = "东门") -> None:
        import time

        self.probe, self.base, self.device = probe, f"campus/{site}/{node}", device
        self.seq = 0
        now = int(time.time() * 1000)
        probe.publish(f"{self.base}/info", {"version": "0.1.0", "session": 1, "started": now,
                                            "devices": [{"id": device, "kind": "thermal_camera",
                                                         "driver": "replay", "name": name}]}, retain=True)
        probe.publish(f"{self.base}/status", "online", retain=True)
        probe.publish(f"{self.base}/{device}/state", {"online": True, "blackbody": True,
                                                      "ts": int(time.time() * 1000)}, retain=True)

    def fever(self, temp_c: float = 38.4, ts_ms: int | None = None, kind: str = "fever") -> dict[str, Any]:
        import base64
        import time

        self.seq += 1
        payload = {"ts": ts_ms or int(time.time() * 1000), "seq": self.seq, "type": kind,
                   "track": self.seq, "temp_c": temp_c, "threshold_c": 37.3, "uncertainty_c": 0.3,
                   "frames": 5, "blackbody": True,
                   "snapshot_png": base64.b64encode(snapshot_png()).decode("ascii")}
        self.probe.publish(f"{self.base}/{self.device}/event", payload)
        return payload

    def telemetry(self, screened: int) -> None:
        import time

        self.seq += 1
        self.probe.publish(f"{self.base}/{self.device}/telemetry",
                           {"ts": int(time.time() * 1000), "seq": self.seq,
                            "values": {"screened": screened, "fevers": 0, "rechecks": 0}})
