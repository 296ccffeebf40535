"""A real systemd notify socket for tests: an AF_UNIX datagram socket the test binds."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from pathlib import Path


class NotifySocket:
    """Binds ``@campus-edge-test-<uuid>`` (abstract) or a path; records every datagram with its time."""

    def __init__(self, path: Path | None = None) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if path is None:
            name = f"campus-edge-test-{uuid.uuid4().hex}"
            self.sock.bind("\0" + name)
            self.env_value = "@" + name
        else:
            self.sock.bind(str(path))
            self.env_value = str(path)
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            with self._lock:
                self.messages.append((time.monotonic(), fields))

    def with_key(self, key: str) -> list[tuple[float, str]]:
        with self._lock:
            return [(t, f[key]) for t, f in self.messages if key in f]

    def env(self, watchdog_s: float | None = None, pid: int | None = None) -> dict[str, str]:
        env = {"NOTIFY_SOCKET": self.env_value}
        if watchdog_s is not None:
            env["WATCHDOG_USEC"] = str(int(watchdog_s * 1_000_000))
            if pid is not None:
                env["WATCHDOG_PID"] = str(pid)
        return env

    def close(self) -> None:
        self._stop = True
        self.sock.close()
        self._thread.join(2)


def without_systemd_env() -> dict[str, str]:
    drop = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID")
    return {k: v for k, v in os.environ.items() if k not in drop}
