"""The hub's config file: sites, MQTT, the journal, language and time zone, channels, rules, the console.

Secrets never sit in the file if the school does not want them to: any string may be written as
``${NAME}`` (taken from the environment when the file loads), and ``mqtt.password_file`` names a file
holding the broker password. The notification channels (edge/hub/notify/config.py) read their own
``secret_file`` / ``password_file``. Loaded secrets are never printed or logged.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edge.config.common import ID, MQTT, load_yaml
from edge.config.schema import (
    MISSING,
    Bool,
    ConfigError,
    Enum,
    Field,
    Float,
    Int,
    ListOf,
    Obj,
    Spec,
    Str,
    _show,
    validate,
)
from edge.hub.notify.config import CHANNELS  # the channels' own schema (ids unique, keys per type)
from edge.hub.upkeep.config import MAINTENANCE, UPKEEP, check_upkeep  # issue #14 (docs/upkeep.md)
from edge.i18n import LANGUAGES

ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
QUIET = r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d"


def _site_list(value: Any, path: str, errors: list[str]) -> Any:
    if isinstance(value, str):
        value = [value]
    return ListOf(ID, min_len=1).check(value, path, errors)


class Sites(Spec):
    doc_type = "string or list of strings"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        return _site_list(value, path, errors)


class TimeZone(Spec):
    doc_type = "string"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if not isinstance(value, str) or not value:
            return self.fail(path, errors,
                             f"expected an IANA time zone such as Asia/Shanghai, got {_show(value)}")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            return self.fail(path, errors, f"unknown time zone {_show(value)} (e.g. Asia/Shanghai)")
        return value


HUB_MQTT = Obj(
    {
        **MQTT.fields,
        "password_file": Field(Str(min_len=1), "file holding the broker password (instead of `password`)"),
    },
    check_whole=lambda v, p, e: (
        e.append(f"{p}.password_file: give password or password_file, not both")
        if v["password"] and v["password_file"] else None
    ),
)

ESCALATE = Obj(
    {
        "after_minutes": Field(Float(positive=True, max=7 * 24 * 60), "minutes without an acknowledgement",
                               required=True),
        "channels": Field(ListOf(ID, min_len=1), "channels told when nobody acknowledged in time",
                          required=True),
    }
)

RULE = Obj(
    {
        "events": Field(ListOf(ID, min_len=1), "event types (fever, recheck, unscreened, leak, "
                        "after_hours_load, meter_offline, camera_offline, node_offline, broker_offline, "
                        "maintenance_due, repair_request, camera_fault, ...), or `any`",
                        required=True),
        "sites": Field(ListOf(ID), "only alerts of these sites"),
        "nodes": Field(ListOf(ID), "only alerts of these nodes"),
        "devices": Field(ListOf(ID), "only alerts of these devices"),
        "min_temp_c": Field(Float(min=30, max=45), "only alerts whose `temp_c` is at least this"),
        "channels": Field(ListOf(ID, min_len=1), "channel ids told at once", required=True),
        "quiet_hours": Field(Str(pattern=QUIET, hint="expected HH:MM-HH:MM, e.g. 21:00-07:00"),
                             "local hours when this rule's notices are held, then sent when they end "
                             "(never dropped); leave out to always send at once"),
        "escalate": Field(ESCALATE, "`{after_minutes, channels}`: tell these channels too if the alert is "
                          "still new (not acknowledged) after that long"),
    }
)

WEB = Obj(
    {
        "host": Field(Str(min_len=1), "address the console listens on", default="127.0.0.1"),
        "port": Field(Int(min=1, max=65535), "console port", default=8080),
        # -- console (edge/hub/web) --
        "enabled": Field(Bool(), "serve the console with the hub", default=True),
        "secure_cookies": Field(Bool(), "mark the session cookie Secure: set it when the console is reached "
                                "over HTTPS through a reverse proxy (docs/console.md)", default=False),
        "session_hours": Field(Float(min=0.1, max=24 * 30), "a log-in lasts this long", default=12.0),
        "command_timeout_seconds": Field(Float(min=1, max=60), "how long a switch waits for the device's "
                                         "reply before the page says it timed out", default=10.0),
    },
    doc="the web console (edge/hub/web)",
)

# -- console: where the meters' history is read (the bridge's sink) --
READINGS = Obj(
    {
        "type": Field(Enum(choices=("sqlite", "influxdb")), "the bridge's sink type", default="sqlite"),
        "path": Field(Str(min_len=1), "(sqlite) the bridge's SQLite file (`sink.path` of its config)"),
        "url": Field(Str(pattern=r"https?://\S+", hint="expected an http:// or https:// URL"),
                     "(influxdb) database URL"),
        "org": Field(Str(min_len=1), "(influxdb) organisation", default="campus"),
        "bucket": Field(Str(min_len=1), "(influxdb) bucket", default="campus"),
        "token_file": Field(Str(min_len=1), "(influxdb) file holding a read token"),
        "school_hours": Field(Str(pattern=r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d",
                                  hint="expected HH:MM-HH:MM, e.g. 07:00-18:00"),
                              "school-day hours; energy outside them (and at weekends) ranks classrooms",
                              default="07:00-18:00"),
    },
    check_whole=lambda v, p, e: (
        e.append(f"{p}.path: required when type is sqlite") if v["type"] == "sqlite" and not v["path"] else
        e.append(f"{p}.url: required when type is influxdb") if v["type"] == "influxdb" and not v["url"]
        else None
    ),
    doc="meter history for the console's water and electricity page",
)

STORAGE = Obj(
    {
        "path": Field(Str(min_len=1), "SQLite journal (WAL); snapshots go to `snapshots/` beside it",
                      default="/var/lib/campus-edge/hub.db"),
    }
)

DELIVERY = Obj(
    {
        "min_retry_seconds": Field(Float(min=0.05, max=3600), "first retry after a channel failed",
                                   default=5.0),
        "max_retry_seconds": Field(Float(min=0.05, max=3600), "longest pause between retries (back-off "
                                   "doubles up to this, with jitter); retries go on until accepted",
                                   default=300.0),
        "warn_after_failures": Field(Int(min=1), "a channel failing this many times in a row is logged as "
                                     "an error a person should act on", default=5),
    }
)


def _default(spec: Obj) -> Any:
    return lambda: spec.check({}, "", [])


def _check_hub(cfg: dict, path: str, errors: list[str]) -> None:
    channels, rules = cfg.get("channels"), cfg.get("rules")
    if channels is MISSING or rules is MISSING or channels is None or rules is None:
        return
    seen = {c.get("id") for c in channels if isinstance(c, dict)}  # duplicates: CHANNELS says so
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict):
            continue
        for key, names in (("channels", rule.get("channels")),
                           ("escalate.channels", (rule.get("escalate") or {}).get("channels"))):
            for j, name in enumerate(names or []):
                if name is not MISSING and name not in seen:
                    errors.append(f"rules[{i}].{key}[{j}]: no channel {name!r} (channels: "
                                  f"{', '.join(sorted(map(str, seen))) or 'none'})")
    d = cfg.get("delivery")
    if isinstance(d, dict) and d.get("min_retry_seconds") is not MISSING and \
            d.get("max_retry_seconds") is not MISSING and d["min_retry_seconds"] > d["max_retry_seconds"]:
        errors.append("delivery.min_retry_seconds: must not exceed delivery.max_retry_seconds")
    check_upkeep(cfg, errors)


HUB = Obj(
    {
        "site": Field(Sites(), "site id, or a list of site ids, whose nodes this hub journals",
                      required=True),
        "mqtt": Field(HUB_MQTT, "how to reach the broker (as in the agent's config, plus `password_file`); "
                      "client_id defaults to ce-hub-<host name>", default=_default(HUB_MQTT)),
        "storage": Field(STORAGE, "the alert journal", default=_default(STORAGE)),
        "language": Field(Enum(choices=LANGUAGES), "language of notifications and reports", default="zh-CN"),
        "timezone": Field(TimeZone(), "local time of notifications, quiet hours and reports (default: the "
                          "machine's)"),
        "channels": Field(CHANNELS, "where notices go: wecom, dingtalk, feishu, email, webhook (each with an "
                          "`id`; see Channels below)", default=list),
        "rules": Field(ListOf(RULE), "which alerts go to which channels", default=list),
        "delivery": Field(DELIVERY, "retry pacing of notifications", default=_default(DELIVERY)),
        "web": Field(WEB, "the web console", default=_default(WEB)),
        "readings": Field(READINGS, "the meters' history for the console (the bridge's sink); leave out "
                          "when there is none"),
        "maintenance": Field(MAINTENANCE, "maintenance plans: items, what they are tied to, their tasks "
                             "(docs/upkeep.md)", default=list),
        "upkeep": Field(UPKEEP, "maintenance reminders, repair requests, calendar (docs/upkeep.md)",
                        default=_default(UPKEEP)),
        "status_seconds": Field(Float(min=1, max=86400), "how often counters are logged", default=60.0),
        "broker_alert_seconds": Field(Float(min=1, max=86400), "the hub unable to reach its broker this long "
                                      "makes a `broker_offline` entry (and `broker_online` once back): "
                                      "every alert of the campus passes through the broker",
                                      default=120.0),
        "max_payload_bytes": Field(Int(min=256, max=16 * 1024 * 1024), "larger messages are refused "
                                   "(a fever event carries a small PNG snapshot)", default=2_000_000),
    },
    check_whole=_check_hub,
    check_partial=True,
)


def expand_env(data: Any, path: str, errors: list[str], env: dict[str, str] | None = None) -> Any:
    """Replace ``${NAME}`` in every string with the environment's value; a missing one is an error."""
    env = dict(os.environ) if env is None else env
    if isinstance(data, dict):
        return {k: expand_env(v, f"{path}.{k}" if path else str(k), errors, env) for k, v in data.items()}
    if isinstance(data, list):
        return [expand_env(v, f"{path}[{i}]", errors, env) for i, v in enumerate(data)]
    if isinstance(data, str) and "${" in data:
        def sub(m: re.Match) -> str:
            name = m.group(1)
            if name not in env:
                errors.append(f"{path or '(top level)'}: environment variable {name} is not set")
                return ""
            return env[name]
        return ENV_REF.sub(sub, data)
    return data


def read_secret(path: str) -> str:
    """A secret file's content without the trailing newline editors add."""
    return Path(path).read_text(encoding="utf-8").rstrip("\r\n")


def parse_hub_config(data: Any, source: str = "") -> dict[str, Any]:
    if data is None:
        raise ConfigError(["the file is empty"], source)
    errors: list[str] = []
    data = expand_env(data, "", errors)
    if errors:
        raise ConfigError(errors, source)
    cfg = validate(HUB, data, source)
    m = cfg["mqtt"]
    if m["password_file"]:
        try:
            m["password"] = read_secret(m["password_file"])
        except OSError as exc:
            raise ConfigError([f"mqtt.password_file: cannot read it: {exc.strerror or exc}"],
                              source) from None
    return cfg


def load_hub_config(path: str | Path) -> dict[str, Any]:
    return parse_hub_config(load_yaml(path), str(path))


def client_id_for(cfg: dict[str, Any]) -> str:
    """A fixed client id, so the broker keeps our session (and queues alerts) across restarts."""
    if cfg["mqtt"]["client_id"]:
        return cfg["mqtt"]["client_id"]
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"ce-hub-{socket.gethostname()}")[:64]


def timezone_of(cfg: dict[str, Any]) -> Any:
    from edge.i18n import zone

    return zone(cfg.get("timezone"))
