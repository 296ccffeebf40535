"""The agent's Home Assistant side: what it announced, device availability, the last fever snapshot.

Device threads call ``on_event`` (through the device context); it only remembers and enqueues
``RetainedPublish`` records, which the main loop publishes (it owns the MQTT client). ``birth``
returns every retained message of a (re)connect: empty payloads for discovery configs announced
earlier that are gone (the list lives in the agent's key/value store, so a device removed from
the config while the agent was stopped disappears from Home Assistant too), the current configs,
each meter's and camera's availability and the last fever snapshot.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from edge.mqtt import payloads
from edge.mqtt.discovery import (
    AVAILABILITY_KINDS,
    availability_for_event,
    availability_topic,
    discovery_configs,
    removed,
    snapshot_topic,
)

SCOPE = "homeassistant"


@dataclass(frozen=True)
class RetainedPublish:
    topic: str
    payload: bytes


class HomeAssistantLink:
    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self._lock = threading.Lock()
        self.availability: dict[str, str] = {}  # device -> online/offline, from its events
        self.snapshots: dict[str, bytes] = {}  # camera -> base64 PNG of its last fever

    def on_event(self, device: str, type_: str, fields: dict[str, Any]) -> None:
        """Called on the device's thread: remember, and hand the retained messages to the main loop."""
        out: list[RetainedPublish] = []
        with self._lock:
            avail = availability_for_event(type_)
            if avail is not None:
                self.availability[device] = avail
                out.append(RetainedPublish(availability_topic(self.agent.topics, device), avail.encode()))
            png = fields.get("snapshot_png")
            if type_ == "fever" and isinstance(png, str) and png:
                self.snapshots[device] = png.encode("ascii")
                out.append(RetainedPublish(snapshot_topic(self.agent.topics, device), self.snapshots[device]))
        for item in out:
            self.agent.inbox.put(item)

    def _device_availability(self, device: str) -> str:
        with self._lock:
            known = self.availability.get(device)
        if known is not None:
            return known
        state = self.agent.retained.get(device) or {}
        return "offline" if state.get("online") is False else "online"

    def birth(self, devices: list[dict[str, Any]], version: str) -> list[RetainedPublish]:
        ha = self.agent.cfg["homeassistant"]
        topics = self.agent.topics
        configs = discovery_configs(ha["prefix"], topics, version, devices) if ha["discovery"] else []
        announced = self.agent.db.get(SCOPE, "announced", [])
        out = [RetainedPublish(t, b"") for t in removed(announced, configs)]
        out += [RetainedPublish(c.topic, payloads.dumps(c.payload)) for c in configs]
        current = sorted(c.topic for c in configs)
        if current != sorted(announced):
            self.agent.db.put(SCOPE, "announced", current)
        for dev in devices:
            if dev["kind"] in AVAILABILITY_KINDS:
                out.append(RetainedPublish(availability_topic(topics, dev["id"]),
                                           self._device_availability(dev["id"]).encode()))
        with self._lock:
            out += [RetainedPublish(snapshot_topic(topics, d), png) for d, png in self.snapshots.items()]
        return out
