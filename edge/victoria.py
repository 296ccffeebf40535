"""Start a private VictoriaMetrics (speaks the InfluxDB v2 write API) for tests and benchmarks."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from edge.broker import free_port


class VictoriaMetrics:
    def __init__(self, workdir: str | Path, port: int | None = None) -> None:
        exe = shutil.which("victoria-metrics") or "/usr/bin/victoria-metrics"
        if not Path(exe).exists():
            raise FileNotFoundError("victoria-metrics is not installed (apt-get install victoria-metrics)")
        self.exe = exe
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> VictoriaMetrics:
        with open(self.dir / "vm.log", "ab") as log:
            self.proc = subprocess.Popen(
                [
                    self.exe,
                    f"-httpListenAddr=127.0.0.1:{self.port}",
                    f"-storageDataPath={self.dir / 'data'}",
                    "-retentionPeriod=100y",
                    "-search.latencyOffset=0s",
                    "-loggerLevel=ERROR",
                ],
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"VictoriaMetrics did not come up on port {self.port}")

    def flush(self) -> None:
        """Make just-written points visible to queries (test/benchmark use)."""
        urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=10).read()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(20)
        self.proc = None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None
