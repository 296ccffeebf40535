"""The bridge's config file: MQTT (shared with the agent), the sink, the disk buffer, batching."""

from __future__ import annotations

import re
import socket
from pathlib import Path
from typing import Any

from edge import extras
from edge.config.common import ID, MQTT, Secret, load
from edge.config.schema import MISSING, Bool, Enum, Field, Float, Int, ListOf, Obj, Str, _show

SINK_TYPES = ("influxdb", "sqlite")

INFLUX_FIELDS: dict[str, Field] = {
    "url": Field(Str(pattern=r"https?://\S+", hint="expected an http:// or https:// URL"),
                 "database URL (InfluxDB 2.x/3.x, or anything speaking its /api/v2/write)", required=True),
    "token": Field(Secret(), "API token with write access to the bucket (`change-me` and empty are refused)"),
    "org": Field(Str(min_len=1), "organisation name or id", default="campus"),
    "bucket": Field(Str(min_len=1), "bucket (database) to write to", default="campus"),
    "timeout_seconds": Field(Float(min=0.1, max=300), "one write's timeout; a write that takes longer counts "
                             "as the database being down", default=10.0),
    "gzip": Field(Bool(), "compress write requests", default=False),
}

SQLITE_FIELDS: dict[str, Field] = {
    "path": Field(Str(min_len=1), "SQLite file holding the points (read by `campus-edge history`)",
                  default="/var/lib/campus-edge/history.db"),
}


SINK_TYPE = Field(Enum(choices=SINK_TYPES), "where points go", default="sqlite")


class Sink(Obj):
    """`type` picks which other keys are allowed, so a misplaced key is named as such.

    As an Obj it holds every key of every type, which is what the generated reference lists."""

    def __init__(self) -> None:
        super().__init__({"type": SINK_TYPE,
                          **{k: Field(f.spec, f"(influxdb) {f.doc}", f.required, f.default)
                             for k, f in INFLUX_FIELDS.items()},
                          **{k: Field(f.spec, f"(sqlite) {f.doc}", f.required, f.default)
                             for k, f in SQLITE_FIELDS.items()}})

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if value is None:
            value = {"type": "sqlite"}
        if not isinstance(value, dict):
            return self.fail(path, errors, f"expected a mapping, got {_show(value)}")
        kind = value.get("type", "sqlite")
        if kind not in SINK_TYPES:
            return self.fail(f"{path}.type", errors,
                             f"expected one of {', '.join(SINK_TYPES)}, got {_show(kind)}")
        problem = extras.missing("bridge") if kind == "influxdb" else None
        if problem:
            return self.fail(f"{path}.type", errors, f"influxdb {problem}")
        fields = INFLUX_FIELDS if kind == "influxdb" else SQLITE_FIELDS
        return Obj({"type": SINK_TYPE, **fields}).check(value, path, errors)


STORAGE = Obj(
    {
        "path": Field(Str(min_len=1), "SQLite file of the bridge's own disk buffer (and node kinds)",
                      default="/var/lib/campus-edge/bridge.db"),
        "max_points": Field(Int(min=1000), "points kept on disk while the database is away; when full the "
                            "oldest buffered batch is dropped (counted, logged)", default=20_000_000),
    }
)

BATCH = Obj(
    {
        "size": Field(Int(min=1, max=100_000), "points per write at most", default=5000),
        "interval_seconds": Field(Float(min=0.01, max=60), "a message waits at most this long before its "
                                  "batch is written", default=1.0),
        "idle_ms": Field(Int(min=0, max=10_000), "write early when no message arrived for this long",
                         default=20),
    }
)

RETRY = Obj(
    {
        "min_seconds": Field(Float(min=0.01, max=3600), "first retry after the database failed", default=1.0),
        "max_seconds": Field(Float(min=0.01, max=3600), "longest wait between retries", default=60.0),
    }
)


def _check_bridge(cfg: dict, path: str, errors: list[str]) -> None:
    def ok(*values: Any) -> bool:  # a value that already failed its own check is MISSING
        return all(v is not MISSING and v is not None for v in values)

    if ok(cfg.get("timezone")):
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(cfg["timezone"])
        except (ValueError, OSError, KeyError):
            errors.append(f"timezone: unknown time zone {cfg['timezone']!r}")
    retry, storage, batch, sink = cfg["retry"], cfg["storage"], cfg["batch"], cfg["sink"]
    if ok(retry, storage, batch, sink):
        if ok(retry["min_seconds"], retry["max_seconds"]) and retry["min_seconds"] > retry["max_seconds"]:
            errors.append("retry.min_seconds: must not exceed retry.max_seconds")
        if ok(storage["max_points"], batch["size"]) and storage["max_points"] < batch["size"]:
            errors.append("storage.max_points: must hold at least one batch (batch.size)")
        if sink.get("type") == "sqlite" and sink.get("path") == storage["path"]:
            errors.append("sink.path: use a different file than storage.path")


def _default(spec: Obj) -> Any:
    return lambda: spec.check({}, "", [])


BRIDGE = Obj(
    {
        "mqtt": Field(MQTT, "how to reach the broker (as in the agent's config); client_id defaults to "
                      "ce-bridge-<host name>; give every bridge its own, and a long session_expiry",
                      default=_default(MQTT)),
        "share_group": Field(ID, "MQTT v5 shared subscription group: bridges with the same group split the "
                             "stream between them; leave out for a single bridge"),
        "sink": Field(Sink(), "where points go: `{type: influxdb, url, token, org, bucket}` or "
                      "`{type: sqlite, path}` (the default)", default=lambda: Sink().check(None, "", [])),
        "storage": Field(STORAGE, "the bridge's own disk buffer", default=_default(STORAGE)),
        "batch": Field(BATCH, "batching of writes", default=_default(BATCH)),
        "retry": Field(RETRY, "retry pacing while the database is away", default=_default(RETRY)),
        "info_wait_seconds": Field(Float(min=0, max=3600), "telemetry of a device whose kind is not known "
                                   "yet waits this long for its node's info, then is written as kind "
                                   "`unknown`",
                                   default=10.0),
        "max_payload_bytes": Field(Int(min=256, max=16 * 1024 * 1024), "larger messages are refused "
                                   "(a fever event carries a small PNG snapshot)", default=262_144),
        "event_tags": Field(ListOf(ID), "text fields of events written as tags (short, few values)",
                            default=lambda: ["reason"]),
        "status_seconds": Field(Float(min=1, max=86400), "how often counters are logged", default=60.0),
        "timezone": Field(Str(min_len=1), "IANA time zone `campus-edge history` prints in and reads dates "
                          "in; default: the machine's"),
    },
    check_whole=_check_bridge,
)


def load_bridge_config(path: str | Path) -> dict[str, Any]:
    return load(BRIDGE, path)


def client_id_for(cfg: dict[str, Any]) -> str:
    """A fixed client id, so the broker keeps our session (and queues messages) across restarts."""
    if cfg["mqtt"]["client_id"]:
        return cfg["mqtt"]["client_id"]
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"ce-bridge-{socket.gethostname()}")[:64]
