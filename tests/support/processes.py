"""A campus-edge service (`python -m edge.cli COMMAND -c FILE`) as a child process, killable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


class ServiceProcess:
    """Writes the config to ``workdir``, runs the service with its output in a log beside it."""

    def __init__(self, command: str, raw: dict[str, Any], workdir: Path, stop_seconds: float = 20.0) -> None:
        self.command = command
        self.config = workdir / f"{command}-{uuid.uuid4().hex[:6]}.yaml"
        self.config.write_text(yaml.safe_dump(raw, allow_unicode=True))
        self.log = workdir / f"{self.config.stem}.log"
        self.stop_seconds = stop_seconds
        self.proc: subprocess.Popen | None = None

    def start(self) -> ServiceProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "edge.cli", self.command, "-c", str(self.config)],
                stdout=log, stderr=log, cwd=ROOT, env=env, start_new_session=True)
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(self.stop_seconds)
        return self.proc.returncode

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class BridgeProcess(ServiceProcess):
    def __init__(self, raw: dict[str, Any], workdir: Path) -> None:
        super().__init__("bridge", raw, workdir)


class HubProcess(ServiceProcess):
    def __init__(self, raw: dict[str, Any], workdir: Path) -> None:
        super().__init__("hub", raw, workdir, stop_seconds=30.0)
