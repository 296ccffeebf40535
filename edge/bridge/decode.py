"""From MQTT messages of the contract (edge/mqtt/topics.py, payloads.py) to points: pure functions.

- telemetry ``{"ts", "seq", "values": {name: number}}`` -> measurement = the device's kind, tags site,
  node, device, one float field per value (always float, so a reading that happens to be whole does not
  change the field's type in InfluxDB, which would refuse the write);
- event ``{"ts", "seq", "type", ...}`` -> measurement ``event``, tags site, node, device, type; fields: the
  numeric and boolean ones (as floats) plus ``seq`` (integer); text fields named in ``tag_fields``
  (config ``event_tags``, e.g. a leak's ``reason``) become tags, other text is not written;
- relay state ``{"on", "ts", "cause"}`` -> measurement ``state``, tags site, node, device, cause; field
  ``on`` (1.0 / 0.0). Other devices' retained state (no ``on``: meters' latest values) is not written.

A message that breaks the contract raises BadMessage. A single bad value (NaN, a string, a number beyond
float range such as 10**400, a name line protocol cannot carry unchanged: lineproto.check_name) is dropped
from the point, counted and named in ``refused`` for the log; a telemetry message with no good value left
is a BadMessage.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NamedTuple

from edge.bridge.lineproto import LineProtocolError, Point, check_name, escape_tag_value
from edge.mqtt.topics import SEGMENT, DataTopic

_fast_loads: Callable[[bytes], Any] | None
try:  # the bridge extra pins it: about 5x faster than json on a reading; json decides what it refuses
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover (a bridge installed without its extra)
    _fast_loads = None

MIN_TS = 946_684_800_000  # 2000-01-01: an earlier clock is a node without NTP, not a reading
MAX_TS = 4_102_444_800_000  # 2100-01-01
UNKNOWN_KIND = "unknown"
AGENT_DEVICE, AGENT_KIND = "agent", "agent"  # the agent's own health readings (not listed in info)
MAX_NAME = 128
_TYPE = re.compile(r"[^\x00-\x1f\x7f]{1,64}")


class BadMessage(ValueError):
    """A message that breaks the contract; the text says how."""


class Telemetry(NamedTuple):  # named tuples: one per message, cheaper to build than dataclasses
    ts_ms: int
    values: tuple[tuple[str, float], ...]
    bad_values: int
    refused: tuple[str, ...] = ()  # names of the dropped values, for the log


class Decoded(NamedTuple):
    point: Point
    bad_values: int
    refused: tuple[str, ...] = ()


def parse_object(payload: bytes, max_bytes: int) -> dict[str, Any]:
    if len(payload) > max_bytes:
        raise BadMessage(f"payload is {len(payload)} bytes; the limit is {max_bytes}")
    if _fast_loads is not None:
        try:
            obj = _fast_loads(payload)
        except ValueError:  # NaN, Infinity, integers beyond 64 bits, not UTF-8...: json's answer below
            pass
        else:
            if not isinstance(obj, dict):
                raise BadMessage("payload is not a JSON object")
            return obj
    try:
        obj = json.loads(payload.decode("utf-8"))  # bytes would make json sniff the encoding each time
    except UnicodeDecodeError:
        raise BadMessage("payload is not UTF-8") from None
    except ValueError as exc:
        raise BadMessage(f"payload is not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise BadMessage("payload is not a JSON object")
    return obj


def _ts(obj: dict[str, Any]) -> int:
    ts = obj.get("ts")
    if isinstance(ts, float) and math.isfinite(ts) and ts.is_integer():
        ts = int(ts)
    if isinstance(ts, bool) or not isinstance(ts, int):
        raise BadMessage(f"'ts' must be an integer time in epoch milliseconds, got {ts!r}"[:200])
    if not MIN_TS <= ts < MAX_TS:
        raise BadMessage(f"'ts' {ts} is outside 2000..2100 (epoch milliseconds?)")
    return ts


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, int | float):
        try:
            f = float(v)
        except OverflowError:  # a JSON integer beyond float range (10**400)
            return None
        return f if math.isfinite(f) else None
    return None


@lru_cache(maxsize=65536)  # value names repeat on every message
def _good_name(name: str) -> bool:
    if len(name) > MAX_NAME:
        return False
    try:
        check_name(name)
    except LineProtocolError:
        return False
    return True


def parse_telemetry(payload: bytes, max_bytes: int) -> Telemetry:
    obj = parse_object(payload, max_bytes)
    ts = _ts(obj)
    values = obj.get("values")
    if not isinstance(values, dict):
        raise BadMessage("'values' must be an object of name: number")
    good: list[tuple[str, float]] = []
    refused: list[str] = []
    for name, v in values.items():
        if type(v) is float:  # the common case first (JSON gives exact floats, ints and bools)
            f: float | None = v if math.isfinite(v) else None
        else:
            f = None if isinstance(v, bool) else _number(v)  # the contract has no booleans in values
        if f is None or not _good_name(name):
            refused.append(name)
        else:
            good.append((name, f))
    if not good:
        raise BadMessage(f"no usable value in 'values' ({len(refused)} refused: {names_for_log(refused)})")
    return Telemetry(ts, tuple(good), len(refused), tuple(refused))


def names_for_log(names: list[str]) -> str:
    return ", ".join(ascii(n)[:40] for n in names[:5]) + (" ..." if len(names) > 5 else "")


def _good_tag(value: str) -> bool:
    try:
        escape_tag_value(value)
    except LineProtocolError:
        return False
    return True


def telemetry_point(topic: DataTopic, tel: Telemetry, kind: str) -> Point:
    return Point(kind, _tags(topic), tel.values, tel.ts_ms)


def decode_event(topic: DataTopic, payload: bytes, max_bytes: int,
                 tag_fields: tuple[str, ...] = ()) -> Decoded:
    obj = parse_object(payload, max_bytes)
    ts = _ts(obj)
    etype = obj.get("type")
    if not isinstance(etype, str) or not _TYPE.fullmatch(etype):
        raise BadMessage(f"'type' must be text of 1..64 characters, got {etype!r}"[:200])
    if not _good_tag(etype):
        raise BadMessage(f"'type' {etype!r} cannot be written unchanged as a tag"[:200])
    seq = obj.get("seq")
    fields: list[tuple[str, float | int]] = []
    tags = [*_tags(topic), ("type", etype)]
    refused: list[str] = []
    if seq is not None:
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**63:
            raise BadMessage(f"'seq' must be a non-negative 64-bit integer, got {seq!r}"[:200])
        fields.append(("seq", seq))
    for name, v in obj.items():
        if name in tag_fields and isinstance(v, str) and name not in dict(tags):
            if _TYPE.fullmatch(v) and _good_tag(v):
                tags.append((name, v))
            else:
                refused.append(name)  # a tag that would be stored changed is not written at all
            continue
        if name in ("ts", "seq", "type") or isinstance(v, str | dict | list) or v is None:
            continue  # text and structures are not written (a TSDB field keeps one type)
        f = _number(v)
        if f is None or not _good_name(name):
            refused.append(name)
        else:
            fields.append((name, f))
    if not fields:
        fields.append(("count", 1.0))  # an event with nothing numeric still needs one field
    return Decoded(Point("event", tuple(tags), tuple(fields), ts), len(refused), tuple(refused))


def decode_state(topic: DataTopic, payload: bytes, max_bytes: int) -> Decoded | None:
    """A relay's state as a point; None for the retained state of other devices (a meter's latest values,
    a camera's online flag), which is not a state change and repeats what telemetry and events carry."""
    if not payload:
        return None  # a retained state being cleared
    obj = parse_object(payload, max_bytes)
    if "on" not in obj:
        return None
    ts = _ts(obj)
    on = obj.get("on")
    if not isinstance(on, bool):
        raise BadMessage(f"'on' must be true or false, got {on!r}"[:200])
    cause = obj.get("cause")
    tags = _tags(topic)
    if isinstance(cause, str) and SEGMENT.fullmatch(cause):
        tags = (*tags, ("cause", cause))
    return Decoded(Point("state", tags, (("on", 1.0 if on else 0.0),), ts), 0)


def parse_info(payload: bytes, max_bytes: int) -> dict[str, str]:
    """device id -> kind from a node's retained info; kinds that are not plain ids become `unknown`."""
    return info_kinds(parse_object(payload, max_bytes))


def info_kinds(obj: dict) -> dict[str, str]:
    """device id -> kind from an info object (a whole one, or a large node's pages merged)."""
    devices = obj.get("devices")
    if not isinstance(devices, list):
        raise BadMessage("info needs 'devices', a list")
    kinds: dict[str, str] = {}
    for d in devices:
        if isinstance(d, dict) and isinstance(d.get("id"), str) and SEGMENT.fullmatch(d["id"]):
            kind = d.get("kind")
            kinds[d["id"]] = kind if isinstance(kind, str) and SEGMENT.fullmatch(kind) else UNKNOWN_KIND
    return kinds


def parse_info_topic(topic: str) -> tuple[str, str] | None:
    """(site, node) of `{root}/{site}/{node}/info`."""
    parts = topic.split("/")
    if len(parts) < 4 or parts[-1] != "info":
        return None
    site, node = parts[-3], parts[-2]
    return (site, node) if SEGMENT.fullmatch(site) and SEGMENT.fullmatch(node) else None


@lru_cache(maxsize=65536)
def _tags(topic: DataTopic) -> tuple[tuple[str, str], ...]:
    return (("site", topic.site), ("node", topic.node), ("device", topic.device))
