"""Bridge test helpers: configs against the test broker, a bridge on a thread or as a process, VM reads."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.publish as publish
import pytest
import yaml

from edge.broker import Mosquitto
from edge.victoria import VictoriaMetrics

ROOT = Path(__file__).resolve().parents[3]
SENTINEL_INFO = "campus/zz-test/zz-sentinel/info"
T0 = 1_764_000_000_000  # 2025-11-24, a fixed base time for published points


def bridge_raw_config(broker: Mosquitto, tmp_path: Path, sink: dict[str, Any] | None = None,
                      **extra: Any) -> dict[str, Any]:
    """A bridge config (as YAML would hold it) with short batch and retry times."""
    name = extra.pop("name", f"b-{uuid.uuid4().hex[:6]}")
    return {
        "mqtt": {"host": broker.host, "port": broker.port, "keepalive": 5, "client_id": f"ce-bridge-{name}",
                 **extra.pop("mqtt", {})},
        "sink": sink or {"type": "sqlite", "path": str(tmp_path / f"{name}-history.db")},
        "storage": {"path": str(tmp_path / f"{name}-buffer.db"), **extra.pop("storage", {})},
        "batch": {"size": 500, "interval_seconds": 0.1, **extra.pop("batch", {})},
        "retry": {"min_seconds": 0.1, "max_seconds": 0.3},
        "info_wait_seconds": extra.pop("info_wait_seconds", 0.5),
        "status_seconds": 1,
        **extra,
    }


def influx_sink(vm: VictoriaMetrics, **kw: Any) -> dict[str, Any]:
    return {"type": "influxdb", "url": vm.url, "token": "test", "org": "campus", "bucket": "campus",
            "timeout_seconds": 2, **kw}


class RunningBridge:
    """A Bridge on its own thread, as `campus-edge bridge` runs it."""

    def __init__(self, raw: dict[str, Any], sink: Any = None) -> None:
        from edge.bridge.app import Bridge
        from edge.bridge.config import BRIDGE
        from edge.config.schema import validate

        self.cfg = validate(BRIDGE, raw)
        self.bridge = Bridge(self.cfg, sink)
        self.thread = threading.Thread(target=self.bridge.run, name="bridge", daemon=True)
        self.thread.start()
        assert self.bridge.ready.wait(10), "bridge did not start"

    @property
    def counters(self) -> dict[str, int]:
        return dict(self.bridge.counters)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.bridge.stop()
            self.thread.join(20)
            assert not self.thread.is_alive(), "bridge did not stop"


@pytest.fixture
def run_bridge(broker: Mosquitto, tmp_path: Path) -> Iterator[Callable[..., RunningBridge]]:
    running: list[RunningBridge] = []

    def start(sink: dict[str, Any] | None = None, sink_object: Any = None, **extra: Any) -> RunningBridge:
        rb = RunningBridge(bridge_raw_config(broker, tmp_path, sink, **extra), sink_object)
        running.append(rb)
        # a retained info of a node of its own shows when the bridge has subscribed: the test may publish
        publish.single(SENTINEL_INFO, json.dumps(info()), qos=1, retain=True, hostname=broker.host,
                       port=broker.port)
        deadline = time.monotonic() + 10
        while "zz-test/zz-sentinel" not in rb.bridge.kinds:
            assert time.monotonic() < deadline, "bridge did not subscribe"
            time.sleep(0.01)
        return rb

    yield start
    for rb in running:
        rb.stop()


class BridgeProcess:
    """`python -m edge.cli bridge -c FILE` as a child process, killable with SIGKILL."""

    def __init__(self, raw: dict[str, Any], workdir: Path) -> None:
        self.config = workdir / f"bridge-{uuid.uuid4().hex[:6]}.yaml"
        self.config.write_text(yaml.safe_dump(raw))
        self.log = workdir / f"{self.config.stem}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> BridgeProcess:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "edge.cli", "bridge", "-c", str(self.config)],
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
            self.proc.wait(20)
        return self.proc.returncode

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture
def bridge_process(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], BridgeProcess]]:
    procs: list[BridgeProcess] = []

    def make(raw: dict[str, Any]) -> BridgeProcess:
        p = BridgeProcess(raw, tmp_path)
        procs.append(p)
        return p

    yield make
    for p in procs:
        p.kill()


def vm_export(vm: VictoriaMetrics, match: str) -> list[dict[str, Any]]:
    """Raw samples of the matching series: [{"metric": {...}, "values": [...], "timestamps": [...]}]."""
    vm.flush()
    url = f"{vm.url}/api/v1/export?" + urllib.parse.urlencode({"match[]": match})
    with urllib.request.urlopen(url, timeout=10) as r:
        return [json.loads(line) for line in r.read().decode().splitlines() if line.strip()]


def vm_timestamps(vm: VictoriaMetrics, match: str) -> list[int]:
    return sorted(ts for s in vm_export(vm, match) for ts in s["timestamps"])


def telemetry(i: int, **values: float) -> dict[str, Any]:
    return {"ts": T0 + i, "seq": i, "values": values or {"energy_kwh": float(i)}}


def info(*devices: tuple[str, str]) -> dict[str, Any]:
    return {"version": "test", "session": 1, "started": T0,
            "devices": [{"id": d, "kind": k, "driver": "sim"} for d, k in devices]}


def until(deadline_s: float) -> float:
    return time.monotonic() + deadline_s


def publish_until(publish: Callable[[], None], seen: Callable[[], Any], timeout: float = 20.0,
                  what: str = "the bridge to take a message") -> Any:
    """Publish (idempotently) until it shows up: a bridge started a moment ago may not be subscribed yet."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        publish()
        step = time.monotonic() + 0.5
        while time.monotonic() < step:
            value = seen()
            if value:
                return value
            time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
