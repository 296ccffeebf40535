"""Bridge test helpers: configs against the test broker, contract-shaped messages, VictoriaMetrics reads.

The fixtures that start bridges (`run_bridge`, `bridge_process`) are in tests/conftest.py.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge.broker import Mosquitto
from tests.support.victoria import VictoriaMetrics

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
