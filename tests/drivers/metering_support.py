"""Helpers for meter driver tests: a DeviceContext that records (the agent's side, not the driver's)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from drivers.base import Resources
from edge import processors, simulated
from edge.config.schema import validate
from edge.loaders.agent import device_schema


class RecordingContext:
    """What the agent hands a device, recording what the device does with it."""

    def __init__(self, device_id: str, resources: Resources | None = None, store: dict | None = None,
                 timezone: str | None = None) -> None:
        self.device_id = device_id
        self.timezone = timezone
        self.log = logging.getLogger(f"test.{device_id}")
        self.resources = simulated.register(resources or Resources())
        self.store: dict[str, Any] = store if store is not None else {}
        self.telemetries: list[dict[str, float]] = []
        self.events: list[tuple[str, dict]] = []
        self.states: list[dict] = []
        self._lock = threading.Lock()

    def telemetry(self, values: dict[str, float], ts_ms: int | None = None) -> None:
        with self._lock:
            self.telemetries.append(dict(values))

    def event(self, type_: str, fields: dict[str, Any], ts_ms: int | None = None) -> None:
        with self._lock:
            self.events.append((type_, dict(fields)))

    def state(self, state: dict[str, Any]) -> None:
        with self._lock:
            self.states.append(state)

    def load(self, key: str, default: Any = None) -> Any:
        return self.store.get(key, default)

    def save(self, key: str, value: Any) -> None:
        self.store[key] = value

    save_soon = save

    def event_types(self) -> list[str]:
        with self._lock:
            return [t for t, _ in self.events]


def device_config(entry: dict[str, Any]) -> dict[str, Any]:
    """One device entry validated exactly as the agent's config loader does."""
    return validate(device_schema(entry["kind"], entry["driver"]), entry)


def build(entry: dict[str, Any], ctx: RecordingContext) -> Any:
    """The device as the agent builds it: the driver with its kind's processing (edge.processors)."""
    return processors.build(device_config(entry), ctx)
