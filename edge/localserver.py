"""A server we start ourselves on a free loopback port (Mosquitto, VictoriaMetrics) for the demo,
the tests and the benchmarks: its own directory, its own log, and stop / kill / restart."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f} s")


def find_exe(name: str, fallback: str, package: str) -> str:
    exe = shutil.which(name) or fallback
    if not Path(exe).exists():
        raise FileNotFoundError(f"{name} is not installed (apt-get install {package})")
    return exe


class LocalServer:
    host = "127.0.0.1"
    stop_timeout = 10.0

    def __init__(self, workdir: str | Path, port: int | None = None) -> None:
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def wait_ready(self) -> None:
        wait_port(self.host, self.port)

    def start(self):
        log_name = f"{type(self).__name__.lower()}.log"
        with open(self.dir / log_name, "ab") as log:  # the child keeps its own copy of the fd
            self.proc = subprocess.Popen(self.command(), stdout=log, stderr=log, start_new_session=True)
        try:
            self.wait_ready()
        except BaseException:  # a server that never came up is not left running
            self.kill()
            raise
        return self

    def stop(self) -> None:
        """Stop cleanly (SIGTERM): the server saves what it keeps on disk."""
        self._end(signal.SIGTERM, self.stop_timeout)

    def kill(self) -> None:
        """SIGKILL: what a power cut or the OOM killer does."""
        self._end(signal.SIGKILL, 10.0)

    def restart(self) -> None:
        self.stop()
        self.start()

    def _end(self, sig: int, timeout: float) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout)
        self.proc = None
