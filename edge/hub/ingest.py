"""Pure decoding of what the hub hears: MQTT topic + payload -> a record the journal or memory keeps.

No I/O here: the hub's main loop (edge/hub/app.py) hands every message to ``decode`` and acts on the
result; anything malformed raises ``BadPayload`` with words a person can read, and the loop counts,
logs, acknowledges and drops it.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass, field
from typing import Any

from edge.mqtt.topics import SEGMENT

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Event keys that are the envelope, not the event's own fields.
ENVELOPE = ("ts", "seq", "type", "snapshot_png")
SCREENING_COUNTERS = ("screened", "fevers", "rechecks", "covered", "unscreened")


class BadPayload(ValueError):
    """A message the hub refuses: wrong topic shape, not JSON, missing or wrong fields."""


@dataclass(frozen=True)
class EventIn:
    site: str
    node: str
    device: str
    seq: int
    ts_ms: int
    type: str
    fields: dict[str, Any]
    snapshot: bytes | None = None  # decoded PNG


@dataclass(frozen=True)
class StatusIn:
    site: str
    node: str
    online: bool


@dataclass(frozen=True)
class InfoIn:
    site: str
    node: str
    info: dict[str, Any]  # version, session, started, devices: [{id, kind, name?, groups?}]; pages if paged
    page: int = 1  # a large node's info comes in pages (docs/mqtt.md): `{base}/info/{page}`


@dataclass(frozen=True)
class StateIn:
    site: str
    node: str
    device: str
    state: dict[str, Any]


@dataclass(frozen=True)
class ReplyIn:
    site: str
    node: str
    device: str
    reply: dict[str, Any]


@dataclass(frozen=True)
class TelemetryIn:
    site: str
    node: str
    device: str
    seq: int
    ts_ms: int
    values: dict[str, float] = field(default_factory=dict)


Record = EventIn | StatusIn | InfoIn | StateIn | ReplyIn | TelemetryIn


def subscriptions(root: str, sites: list[str]) -> list[str]:
    """Every topic the hub listens to, per configured site."""
    out: list[str] = []
    for s in sites:
        base = f"{root}/{s}/+"
        out += [f"{base}/status", f"{base}/info", f"{base}/info/+", f"{base}/+/event", f"{base}/+/state",
                f"{base}/+/reply", f"{base}/+/telemetry"]
    return out


def decode(root: str, topic: str, payload: bytes, max_bytes: int) -> Record | None:
    """The record a message carries; None for an empty retained payload (a retained topic being cleared)."""
    prefix = root + "/"
    if not topic.startswith(prefix):
        raise BadPayload("topic outside the configured root")
    parts = topic[len(prefix):].split("/")
    if len(parts) not in (3, 4) or not all(SEGMENT.fullmatch(p) for p in parts[:-1]):
        raise BadPayload("topic is not {root}/{site}/{node}/{status|info} or "
                         "{root}/{site}/{node}/{device}/{leaf} with ids of [a-z0-9_-]")
    if len(payload) > max_bytes:
        raise BadPayload(f"payload of {len(payload)} bytes exceeds max_payload_bytes ({max_bytes})")
    site, node, leaf = parts[0], parts[1], parts[-1]
    if len(parts) == 3:
        if leaf == "status":
            return None if not payload else parse_status(site, node, payload)
        if leaf == "info":
            return None if not payload else InfoIn(site, node, parse_info(payload))
        raise BadPayload(f"unexpected node topic leaf {leaf!r}")
    device = parts[2]
    if device == "info" and leaf.isdigit() and int(leaf) >= 2:  # page n of a large node's info
        return InfoIn(site, node, parse_info(payload) if payload else {}, int(leaf))
    if leaf == "state":
        return None if not payload else StateIn(site, node, device, _object(payload))
    if leaf == "event":
        return parse_event(site, node, device, payload)
    if leaf == "reply":
        return ReplyIn(site, node, device, _object(payload))
    if leaf == "telemetry":
        return parse_telemetry(site, node, device, payload)
    raise BadPayload(f"unexpected device topic leaf {leaf!r}")


def _object(payload: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadPayload(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise BadPayload("expected a JSON object")
    return obj


def _int(obj: dict[str, Any], key: str) -> int:
    v = obj.get(key)
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise BadPayload(f"`{key}` must be a non-negative integer, got {v!r}"[:200])
    return v


def parse_status(site: str, node: str, payload: bytes) -> StatusIn:
    text = payload.decode("utf-8", "replace").strip().lower()
    if text not in ("online", "offline"):
        raise BadPayload("status must be `online` or `offline`")
    return StatusIn(site, node, text == "online")


def parse_info(payload: bytes) -> dict[str, Any]:
    info = _object(payload)
    devices = info.get("devices", [])
    if not isinstance(devices, list):
        raise BadPayload("info `devices` must be a list")
    clean = []
    for d in devices:
        if not isinstance(d, dict) or not isinstance(d.get("id"), str):
            raise BadPayload("every info device needs a string `id`")
        groups = d.get("groups") or []
        clean.append({"id": d["id"], "kind": str(d.get("kind", "")), "driver": str(d.get("driver", "")),
                      "name": str(d["name"]) if d.get("name") else "",
                      "groups": [str(g) for g in groups] if isinstance(groups, list) else []})
    out = {"version": str(info.get("version", "")), "session": info.get("session"),
           "started": info.get("started"), "devices": clean}
    if isinstance(info.get("pages"), int):
        out["pages"] = info["pages"]
    return out


def decode_snapshot(value: Any) -> bytes | None:
    """The PNG bytes of a base64 ``snapshot_png`` (None when absent or null)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadPayload("`snapshot_png` must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadPayload("`snapshot_png` is not valid base64") from None
    if not raw.startswith(PNG_MAGIC):
        raise BadPayload("`snapshot_png` is not a PNG image")
    return raw


def parse_event(site: str, node: str, device: str, payload: bytes) -> EventIn:
    obj = _object(payload)
    etype = obj.get("type")
    if not isinstance(etype, str) or not SEGMENT.fullmatch(etype):
        raise BadPayload("event `type` must be an id of [a-z0-9_-]")
    seq, ts = _int(obj, "seq"), _int(obj, "ts")
    snapshot = decode_snapshot(obj.get("snapshot_png"))
    fields = {k: v for k, v in obj.items() if k not in ENVELOPE}
    return EventIn(site, node, device, seq, ts, etype, fields, snapshot)


def parse_telemetry(site: str, node: str, device: str, payload: bytes) -> TelemetryIn:
    obj = _object(payload)
    values = obj.get("values")
    if not isinstance(values, dict):
        raise BadPayload("telemetry `values` must be an object")
    clean = {str(k): float(v) for k, v in values.items()
             if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)}
    return TelemetryIn(site, node, device, _int(obj, "seq"), _int(obj, "ts"), clean)


def screening_counts(values: dict[str, float]) -> dict[str, int] | None:
    """The screening counters of a telemetry window (a thermal camera's), or None for other devices."""
    if "screened" not in values:
        return None
    return {k: int(values.get(k, 0)) for k in SCREENING_COUNTERS}


def place_of(info: dict[str, Any] | None, device: str) -> str:
    """The device's human name from its node's info, or its id."""
    for d in (info or {}).get("devices", []):
        if d.get("id") == device:
            return d.get("name") or device
    return device


def escape(payload: bytes, limit: int = 200) -> str:
    """A payload fit for a log line: escaped, truncated."""
    text = repr(payload[:limit])
    return text + ("..." if len(payload) > limit else "")
