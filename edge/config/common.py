"""Spec pieces shared by the agent's and the bridge's config files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from edge.config.schema import Bool, ConfigError, Field, Float, Int, Obj, Spec, Str, validate

ID_PATTERN = r"[a-z0-9_-]+"
ID = Str(pattern=ID_PATTERN, hint="use lower-case letters, digits, '_' and '-' only")
TOPIC_ROOT = Str(pattern=r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*", hint="a topic prefix without wildcards")

TLS = Obj(
    {
        "ca": Field(Str(min_len=1), "CA certificate file (PEM) that signed the broker's certificate"),
        "cert": Field(Str(min_len=1), "client certificate (PEM), for mutual TLS"),
        "key": Field(Str(min_len=1), "client private key (PEM), for mutual TLS"),
        "insecure": Field(Bool(), "skip the host name check (testing only)", default=False),
    },
    check_whole=lambda v, p, e: (
        e.append(f"{p}: cert and key go together") if bool(v["cert"]) != bool(v["key"]) else None
    ),
)

MQTT = Obj(
    {
        "host": Field(Str(min_len=1), "broker host name or address", default="127.0.0.1"),
        "port": Field(Int(min=1, max=65535), "broker port", default=1883),
        "username": Field(Str(), "user name, if the broker asks for one"),
        "password": Field(Str(), "password, if the broker asks for one"),
        "tls": Field(TLS, "TLS settings; leave out for a plain connection"),
        "keepalive": Field(Int(min=5, max=3600), "seconds between keep-alive pings", default=30),
        "session_expiry": Field(
            Int(min=0, max=7 * 86400),
            "seconds the broker keeps our session (and queued commands) while we are away",
            default=3600,
        ),
        "client_id": Field(
            Str(pattern=r"[A-Za-z0-9_.-]{1,64}", hint="letters, digits, '_', '.', '-'"),
            "fixed client id; defaults to one derived from site and node",
        ),
        "root": Field(TOPIC_ROOT, "root of every topic", default="campus"),
    }
)


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file, turning I/O and syntax problems into ConfigError with a place."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"cannot read the file: {exc.strerror or exc}"], str(p)) from None
    try:
        return yaml.safe_load(text)
    except ValueError as exc:  # PyYAML builds an unquoted 2026-13-01 as a date, and that fails
        raise ConfigError([f"{_bad_date_place(text)}not valid YAML: {exc}: an unquoted date that does not "
                           "exist; fix it and write dates in quotes (\"2026-12-31\")"], str(p)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(somewhere)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{where}: not valid YAML: {problem}"], str(p)) from None


def _bad_date_place(text: str) -> str:
    """'line N: ' of the first unquoted date-like value that is no real date, or ''."""
    import datetime
    import re

    for n, line in enumerate(text.splitlines(), 1):
        for m in re.finditer(r"(?<![\d\"'-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d\"'])", line.split("#")[0]):
            try:
                datetime.date(*map(int, m.groups()))
            except ValueError:
                return f"line {n}: {m.group(0)}: "
    return ""


def load(spec: Spec, path: str | Path) -> Any:
    data = load_yaml(path)
    if data is None:
        raise ConfigError(["the file is empty"], str(path))
    return validate(spec, data, str(path))


__all__ = ["ID", "MQTT", "TLS", "Float", "load", "load_yaml"]
