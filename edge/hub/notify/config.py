"""The hub's ``channels:`` list: one entry per robot, mailbox or webhook, validated as it loads.

Each entry is ``{id, type, ...}`` plus the keys of its type (the same dispatch on a discriminating
key as the agent's device entries). Secrets (robot URLs carry their key, signing secrets, SMTP
passwords, webhook headers) may be written inline, as ``${ENV_NAME}``, or read from a file
(``secret_file`` / ``password_file``); they are resolved here, at load, and kept in a ``Secret``
that never shows its value in an error, a log line or a repr.
"""

from __future__ import annotations

import os
import re
from typing import Any
from urllib.parse import urlsplit

from edge.config.common import ID
from edge.config.schema import (
    MISSING,
    Enum,
    Field,
    Float,
    Int,
    ListOf,
    Obj,
    Spec,
    Str,
    _show,
)


class Secret:
    """A resolved secret: ``.value`` is the text; str/repr show only ``***``."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


def reveal(value: Secret | str | None) -> str | None:
    return value.value if isinstance(value, Secret) else value


ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def resolve_env(text: str, path: str, errors: list[str], environ: Any = None) -> str | None:
    """Replace each ``${NAME}`` with the environment's value; a missing one is an error naming it."""
    env = os.environ if environ is None else environ
    missing = [m.group(1) for m in ENV_REF.finditer(text) if m.group(1) not in env]
    if missing:
        errors.append(f"{path}: environment variable {', '.join(missing)} is not set")
        return None
    return ENV_REF.sub(lambda m: env[m.group(1)], text)


class SecretStr(Spec):
    """A string that is a secret: ``${ENV}`` resolved, never echoed back in an error."""

    doc_type = "string, secret"

    def __init__(self, min_len: int = 1) -> None:
        self.min_len = min_len

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if isinstance(value, Secret):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            kind = "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else "that"
            return self.fail(path, errors, f"expected a string, got {kind}")
        resolved = resolve_env(value, path, errors)
        if resolved is None:
            return MISSING
        if len(resolved) < self.min_len:
            return self.fail(path, errors, "must not be empty")
        return Secret(resolved)


class SecretURL(SecretStr):
    """An http(s) URL that carries a key; errors name what is wrong without printing it."""

    doc_type = "URL, secret"

    def __init__(self, need_query: str | None = None) -> None:
        super().__init__()
        self.need_query = need_query

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        out = super().check(value, path, errors)
        if out is MISSING:
            return out
        parts = urlsplit(out.value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return self.fail(path, errors, "expected an http:// or https:// URL (not shown: it is secret)")
        if self.need_query and f"{self.need_query}=" not in parts.query:
            return self.fail(
                path, errors, f"the URL has no {self.need_query}= parameter: paste the whole webhook address"
            )
        return out


class SecretFile(Spec):
    """A file holding a secret (one line; surrounding white space dropped), read at load."""

    doc_type = "file path"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if not isinstance(value, str) or not value:
            return self.fail(path, errors, f"expected a file path, got {_show(value)}")
        try:
            with open(value, encoding="utf-8") as f:
                text = f.read().strip()
        except OSError as exc:
            return self.fail(path, errors, f"cannot read {value}: {exc.strerror or exc}")
        if not text:
            return self.fail(path, errors, f"{value} is empty")
        return Secret(text)


class Headers(Spec):
    """Extra HTTP headers for the generic webhook: name -> value (values are secrets)."""

    doc_type = "mapping of header name to value"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict):
            return self.fail(path, errors, f"expected a mapping, got {_show(value)}")
        out = {}
        for name, v in value.items():
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9-]+", name):
                self.fail(f"{path}.{name}", errors, "a header name is letters, digits and '-'")
                continue
            s = SecretStr(min_len=0).check(v, f"{path}.{name}", errors)
            if s is not MISSING:
                out[name] = s
        return out


RATE_LIMIT = Obj(
    {
        "messages": Field(Int(min=1), "messages allowed in each window", required=True),
        "per_seconds": Field(Float(positive=True), "the window, in seconds", required=True),
    },
    doc="at most `messages` per `per_seconds`",
)

# Each service's published limit for one robot. Feishu documents 100 per minute and 5 per second;
# 5 per 3 s keeps both (no second above 5, no minute above 100) with the one window we track.
DEFAULT_RATE_LIMITS: dict[str, dict[str, float] | None] = {
    "wecom": {"messages": 20, "per_seconds": 60.0},
    "dingtalk": {"messages": 20, "per_seconds": 60.0},
    "feishu": {"messages": 5, "per_seconds": 3.0},
    "email": None,
    "webhook": None,
}

TYPES = tuple(DEFAULT_RATE_LIMITS)

COMMON: dict[str, Field] = {
    "id": Field(ID, "channel id, unique; rules name channels by it", required=True),
    "type": Field(Enum(choices=TYPES), "which service", required=True),
    "timeout_seconds": Field(Float(min=1, max=120), "give up one request after this long", default=10.0),
    "rate_limit": Field(
        RATE_LIMIT,
        "override the service's limit (defaults: wecom and dingtalk 20 per 60 s, feishu 5 per 3 s "
        "(= its 100/min and 5/s), email and webhook none)",
    ),
}

MOBILES = ListOf(Str(pattern=r"\+?[0-9-]{5,20}|@all", hint="expected a mobile number or @all"))


def _one_secret(key: str, file_key: str):
    def check(entry: dict, path: str, errors: list[str]) -> None:
        if entry.get(key) is not None and entry.get(file_key) is not None:
            errors.append(f"{path}: give {key} or {file_key}, not both")
        elif entry.get(file_key) is not None:
            entry[key] = entry[file_key]
        entry.pop(file_key, None)

    return check


def _email_whole(entry: dict, path: str, errors: list[str]) -> None:
    _one_secret("password", "password_file")(entry, path, errors)
    if entry.get("username") and not entry.get("password"):
        errors.append(f"{path}: username needs a password or password_file")
    if entry.get("username") and entry.get("security") == "none":
        errors.append(f"{path}.security: a login over `none` would send the password in the clear; "
                      "use ssl or starttls (or no username, for a relay that trusts this machine)")
    if entry.get("port") is None:
        entry["port"] = {"ssl": 465, "starttls": 587, "none": 25}.get(str(entry.get("security")), 25)


EMAIL_ADDRESS = Str(pattern=r"[^@\s<>]+@[^@\s<>]+", hint="expected an e-mail address")

TYPE_FIELDS: dict[str, tuple[dict[str, Field], Any]] = {
    "wecom": (
        {
            "url": Field(SecretURL("key"), "the robot's webhook URL (…/cgi-bin/webhook/send?key=…)",
                         required=True),
            "mentioned_mobile_list": Field(
                MOBILES, "mobiles to @mention (or @all); the message is then sent as text, since "
                "WeCom's markdown cannot mention by mobile", default=list,
            ),
        },
        None,
    ),
    "dingtalk": (
        {
            "url": Field(SecretURL("access_token"), "the robot's webhook URL (…/robot/send?access_token=…)",
                         required=True),
            "secret": Field(SecretStr(), "the signing secret (SEC…) when the robot uses 加签"),
            "secret_file": Field(SecretFile(), "file holding the signing secret"),
            "at_mobiles": Field(MOBILES, "mobiles to @mention", default=list),
            "image_url": Field(
                Str(min_len=1),
                "public URL of a snapshot, with {alert_id}; DingTalk robots cannot upload an image, so "
                "without this the message says the snapshot is in the console",
            ),
        },
        _one_secret("secret", "secret_file"),
    ),
    "feishu": (
        {
            "url": Field(SecretURL(), "the bot's webhook URL (…/open-apis/bot/v2/hook/…)", required=True),
            "secret": Field(SecretStr(), "the signing secret when the bot uses 签名校验"),
            "secret_file": Field(SecretFile(), "file holding the signing secret"),
        },
        _one_secret("secret", "secret_file"),
    ),
    "email": (
        {
            "host": Field(Str(min_len=1), "SMTP server", required=True),
            "port": Field(Int(min=1, max=65535), "SMTP port (default 465 for ssl, 587 for starttls, 25)"),
            "security": Field(Enum(choices=("ssl", "starttls", "none")), "how to protect the connection",
                              default="starttls"),
            "ca_file": Field(Str(min_len=1), "CA certificate (PEM) for a server with a private certificate"),
            "username": Field(SecretStr(), "login name (leave out for no login)"),
            "password": Field(SecretStr(), "login password"),
            "password_file": Field(SecretFile(), "file holding the login password"),
            "from": Field(EMAIL_ADDRESS, "sender address", required=True),
            "to": Field(ListOf(EMAIL_ADDRESS, min_len=1), "recipients", required=True),
            "timeout": Field(Float(min=1, max=300), "seconds for the SMTP conversation", default=30.0),
        },
        _email_whole,
    ),
    "webhook": (
        {
            "url": Field(SecretURL(), "where to POST the alert as JSON", required=True),
            "headers": Field(Headers(), "extra headers, e.g. Authorization (values are secrets)",
                             default=dict),
        },
        None,
    ),
}


class ChannelEntry(Spec):
    """A channel: the common keys plus the keys its type adds."""

    doc_type = "mapping"

    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if not isinstance(value, dict):
            return self.fail(path, errors, f"expected a mapping, got {_show(value)}")
        kind = value.get("type")
        if kind not in TYPE_FIELDS:
            # Report unknown keys and the bad type together, without the type's own keys.
            return Obj(COMMON).check({k: v for k, v in value.items() if k in COMMON}, path, errors)
        fields, whole = TYPE_FIELDS[kind]
        out = Obj({**COMMON, **fields}, check_whole=whole).check(value, path, errors)
        if isinstance(out, dict) and out.get("rate_limit") is None:
            out["rate_limit"] = DEFAULT_RATE_LIMITS[kind]
        return out


class Channels(ListOf):
    def check(self, value: Any, path: str, errors: list[str]) -> Any:
        if value is None:
            return []
        out = super().check(value, path, errors)
        if out is MISSING:
            return out
        seen: dict[str, int] = {}
        for i, entry in enumerate(out):
            cid = entry.get("id") if isinstance(entry, dict) else None
            if not isinstance(cid, str):
                continue
            if cid in seen:
                errors.append(f"{path}[{i}].id: {cid!r} is already used by {path}[{seen[cid]}]")
            else:
                seen[cid] = i
        return out


CHANNELS: Spec = Channels(item=ChannelEntry())


def describe_types() -> list[str]:
    """Markdown lines documenting each type's keys (for docs/config.md)."""
    from edge.config.schema import describe

    lines = ["Every channel:", "", *describe(Obj(COMMON))]
    for kind, (fields, _) in TYPE_FIELDS.items():
        lines += ["", f"`type: {kind}`:", ""]
        lines.extend(describe(Obj(fields)))
    return lines


if __name__ == "__main__":  # python -m edge.hub.notify.config: the key reference in docs/notifications.md
    print("\n".join(describe_types()))
