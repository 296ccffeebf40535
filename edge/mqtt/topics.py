"""Topic names of the MQTT contract (docs/mqtt.md), built and parsed in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass

SEGMENT = re.compile(r"[a-z0-9_-]+")


@dataclass(frozen=True)
class Topics:
    root: str
    site: str
    node: str

    @property
    def base(self) -> str:
        return f"{self.root}/{self.site}/{self.node}"

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def info(self) -> str:
        return f"{self.base}/info"

    @property
    def cmd(self) -> str:
        return f"{self.base}/cmd"

    def device(self, device: str, leaf: str) -> str:
        """leaf: state, telemetry, event, set or reply."""
        return f"{self.base}/{device}/{leaf}"

    def group_set(self, group: str) -> str:
        return f"{self.root}/{self.site}/group/{group}/set"

    def subscriptions(self) -> list[str]:
        return [f"{self.base}/+/set", f"{self.root}/{self.site}/group/+/set", self.cmd]


@dataclass(frozen=True)
class Inbound:
    """What an incoming topic addresses: a device, a group, or the node itself."""

    target: str  # "device" | "group" | "node"
    name: str


def parse_inbound(topics: Topics, topic: str) -> Inbound | None:
    if topic == topics.cmd:
        return Inbound("node", topics.node)
    prefix = f"{topics.base}/"
    if topic.startswith(prefix) and topic.endswith("/set"):
        device = topic[len(prefix) : -4]
        return Inbound("device", device) if SEGMENT.fullmatch(device) else None
    gprefix = f"{topics.root}/{topics.site}/group/"
    if topic.startswith(gprefix) and topic.endswith("/set"):
        group = topic[len(gprefix) : -4]
        return Inbound("group", group) if SEGMENT.fullmatch(group) else None
    return None


@dataclass(frozen=True)
class DataTopic:
    """A parsed `{root}/{site}/{node}/{device}/{leaf}` topic (the bridge reads these)."""

    site: str
    node: str
    device: str
    leaf: str


def parse_data_topic(topic: str) -> DataTopic | None:
    parts = topic.split("/")
    if len(parts) < 5:
        return None
    site, node, device, leaf = parts[-4:]
    if not all(SEGMENT.fullmatch(p) for p in (site, node, device)):
        return None
    return DataTopic(site, node, device, leaf)
