"""Start a private VictoriaMetrics (speaks the InfluxDB v2 write API) for tests and benchmarks."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

from edge.localserver import LocalServer, find_exe


class VictoriaMetrics(LocalServer):
    stop_timeout = 20.0

    def __init__(self, workdir: str | Path, port: int | None = None) -> None:
        self.exe = find_exe("victoria-metrics", "/usr/bin/victoria-metrics", "victoria-metrics")
        super().__init__(workdir, port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            self.exe,
            f"-httpListenAddr=127.0.0.1:{self.port}",
            f"-storageDataPath={self.dir / 'data'}",
            "-retentionPeriod=100y",
            "-search.latencyOffset=0s",
            "-loggerLevel=ERROR",
        ]

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError(f"VictoriaMetrics did not come up on port {self.port}")

    def flush(self) -> None:
        """Make just-written points visible to queries (test/benchmark use)."""
        urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=10).read()
