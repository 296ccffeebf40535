"""Spec pieces shared by the agent's and the bridge's config files."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

import yaml

from edge.config.schema import MISSING, Bool, ConfigError, Field, Float, Int, Obj, Spec, Str, validate

ID_PATTERN = r"[a-z0-9_-]{1,64}"
ID = Str(pattern=ID_PATTERN, hint="use 1 to 64 lower-case letters, digits, '_' and '-'")
TOPIC_ROOT = Str(pattern=r"[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*", hint="a topic prefix without wildcards")

# The example files ship these; a process started with one is not configured yet (issue #9).
PLACEHOLDER_SECRETS = re.compile(r"(change[-_ ]?me|placeholder|secret|password|x+|\.\.\.)([-_].*)?",
                                 re.IGNORECASE)


class Secret(Str):
    """A password or token: present means set, so empty and the example files' `change-me` are refused."""

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        value = super().check(value, path, errors)
        if value is MISSING:
            return value
        if not value.strip() or PLACEHOLDER_SECRETS.fullmatch(value.strip()):
            return self.fail(path, errors, f"{_show_secret(value)} is a placeholder, not a secret: set the "
                             "real one (or leave the key out if none is needed)")
        return value


def _show_secret(value: str) -> str:
    return "an empty value" if not value.strip() else repr(value)


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
        "password": Field(Secret(), "password, if the broker asks for one (`change-me` and empty are "
                          "refused)"),
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


def file_problem(path: str) -> str | None:
    """Why a process could not create or write the SQLite file at path, or None.

    Checked when the config loads (check-config and start-up alike), so a storage path that is a
    directory, lies under a file or in a read-only directory is a config error with its place, not
    a traceback from SQLite later. Missing directories are fine: the store creates them."""
    p = Path(path)
    if p.is_dir():
        return f"is a directory; give a file name in it (e.g. {p / 'agent.db'})"
    if p.exists():
        return None if os.access(p, os.R_OK | os.W_OK) else "is not readable and writable by us"
    parent = p.parent
    while not parent.exists():
        if parent == parent.parent:
            break
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is a file, so nothing can be created under it"
    try:  # a real probe: os.access says yes to root even on a directory it cannot write
        with tempfile.TemporaryFile(dir=parent):
            pass
    except OSError as exc:
        return f"cannot create files in {parent}: {exc.strerror or exc}"
    return None


def load_yaml(path: str | Path) -> Any:
    """Read a YAML file, turning I/O and syntax problems into ConfigError with a place."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"cannot read the file: {exc.strerror or exc}"], str(p)) from None
    except UnicodeDecodeError as exc:  # a binary file given by mistake
        raise ConfigError([f"byte {exc.start}: not UTF-8 text (is this the config file?)"], str(p)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(somewhere)"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{where}: not valid YAML: {problem}"], str(p)) from None
    except (ValueError, RecursionError) as exc:
        line = _number_line(text)
        if isinstance(exc, ValueError) and line is None:  # PyYAML builds an unquoted 2026-13-01 as a date
            msg = (f"{_bad_date_place(text)}not valid YAML: {exc}: an unquoted date that does not exist; "
                   "fix it and write dates in quotes (\"2026-12-31\")")
            raise ConfigError([msg], str(p)) from None
        # a 5,000-digit number PyYAML cannot convert; absurd nesting
        reason = str(exc).split(";")[0][:120]
        raise ConfigError([f"{line or '(somewhere)'}: cannot read this value: {reason}"], str(p)) from None


def _number_line(text: str) -> str | None:
    """Where the first over-long number is (PyYAML's conversion error has no position)."""
    for i, row in enumerate(text.splitlines()):
        if re.search(r"\d{1000}", row):
            return f"line {i + 1}"
    return None


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


__all__ = ["ID", "MQTT", "TLS", "Float", "Secret", "load", "load_yaml"]
