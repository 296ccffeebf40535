"""Payloads of the MQTT contract: pure functions between bytes and values."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

ACTIONS = ("on", "off", "toggle", "pulse")
CAUSES = ("boot", "command", "schedule", "failsafe", "rule")
MAX_COMMAND_BYTES = 4096
MAX_ID_LEN = 128
MAX_JSON_DEPTH = 32  # a command is flat; deeper nesting is refused before the JSON parser recurses
INFO_PAGE_BYTES = 64 * 1024  # birth info beyond this is split into pages (docs/mqtt.md)
RETAINED_COMMAND = "retained command ignored"
# How a reply's error starts when the relay itself failed (the hub counts these: edge/hub/upkeep/relays.py)
RELAY_NOT_SWITCHED = "relay could not be switched"
RELAY_NOT_READ = "relay could not be read"


class PayloadError(ValueError):
    """A payload that breaks the contract; the message says how, in words."""


@dataclass(frozen=True)
class Command:
    action: str
    id: str | None = None  # None only for plain ON/OFF/TOGGLE payloads
    seconds: float | None = None
    expires_ms: int | None = None


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()


def parse_command(payload: bytes) -> Command:
    """Decode a `set` payload: JSON, or plain ON / OFF / TOGGLE in any case."""
    text = _command_text(payload)
    if text.lower() in ("on", "off", "toggle"):
        return Command(action=text.lower())
    obj = _command_json(text)
    cid = obj.get("id")
    if not isinstance(cid, str) or not cid or len(cid) > MAX_ID_LEN:
        raise PayloadError(f"'id' must be a non-empty string of at most {MAX_ID_LEN} characters")
    if not _encodable(cid):
        raise PayloadError("'id' must be valid Unicode text (it contains a lone surrogate)")
    action = obj.get("action")
    if not isinstance(action, str) or action.lower() not in ACTIONS:
        raise PayloadError(f"'action' must be one of {', '.join(ACTIONS)}, got {action!r}")
    action = action.lower()
    expires = obj.get("expires")
    if expires is not None and (not _is_number(expires) or expires < 0):
        raise PayloadError("'expires' must be a time in epoch milliseconds")
    return Command(action=action, id=cid, seconds=_seconds(action, obj.get("seconds")),
                   expires_ms=None if expires is None else int(expires))


def _command_text(payload: bytes) -> str:
    if len(payload) > MAX_COMMAND_BYTES:
        raise PayloadError(f"command is {len(payload)} bytes; the limit is {MAX_COMMAND_BYTES}")
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise PayloadError("command is not UTF-8 text") from None


def _command_json(text: str) -> dict[str, Any]:
    if not text:
        raise PayloadError("command is empty")
    if _depth(text) > MAX_JSON_DEPTH:
        raise PayloadError(f"command JSON is nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PayloadError(
            f"command is neither ON/OFF/TOGGLE nor JSON ({exc.msg} at char {exc.pos})"
        ) from None
    if not isinstance(obj, dict):
        raise PayloadError("command JSON must be an object")
    unknown = sorted(set(obj) - {"id", "action", "seconds", "expires"})
    if unknown:
        raise PayloadError(f"unknown field(s) in command: {', '.join(unknown)}")
    return obj


def _seconds(action: str, seconds: Any) -> float | None:
    if action == "pulse":
        if not _is_number(seconds) or seconds <= 0:
            raise PayloadError("'pulse' needs 'seconds', a number greater than 0")
        return float(seconds)
    if seconds is not None:
        raise PayloadError(f"'seconds' only goes with 'pulse', not {action!r}")
    return None


def _depth(text: str) -> int:
    """Deepest bracket nesting outside strings (JSON), without recursing."""
    depth = deepest = 0
    in_str = escaped = False
    for ch in text:
        if in_str:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def peek_id(payload: bytes) -> str | None:
    """Best-effort id of a malformed command, so its error reply can name it."""
    if len(payload) > MAX_COMMAND_BYTES:
        return None
    try:
        text = payload.decode("utf-8")
        if _depth(text) > MAX_JSON_DEPTH:
            return None
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    cid = obj.get("id") if isinstance(obj, dict) else None
    return cid if isinstance(cid, str) and len(cid) <= MAX_ID_LEN and _encodable(cid) else None


def printable(value: Any, limit: int = 200) -> str:
    """Untrusted text (topics, ids, payloads, error messages quoting them) made safe for one log line.

    Control characters (newline, ESC of ANSI sequences, ...) and lone surrogates are escaped, so a
    command id cannot forge a log line or repaint a terminal; long text is cut, saying how long it was.
    """
    if isinstance(value, bytes | bytearray | memoryview):
        text = bytes(value).decode("utf-8", "replace")
    else:
        text = str(value)
    out = []
    for ch in text[:limit]:
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif code < 0x20 or 0x7F <= code < 0xA0 or 0xD800 <= code < 0xE000 or code in (0x2028, 0x2029):
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    if len(text) > limit:
        out.append(f"... ({len(text)} chars)")
    return "".join(out)


def relay_state(on: bool, ts_ms: int, cause: str) -> dict[str, Any]:
    return {"on": on, "ts": ts_ms, "cause": cause}


def reply_ok(cid: str | None, state: dict[str, Any], ts_ms: int) -> dict[str, Any]:
    return {"id": cid, "ok": True, "state": state, "ts": ts_ms}


def reply_error(cid: str | None, error: str, ts_ms: int) -> dict[str, Any]:
    return {"id": cid, "ok": False, "error": error, "ts": ts_ms}


def telemetry(ts_ms: int, seq: int, values: dict[str, float]) -> dict[str, Any]:
    clean = {}
    for k, v in values.items():
        if not _is_number(v):
            raise PayloadError(f"telemetry value {k!r} is not a finite number: {v!r}")
        clean[k] = v
    return {"ts": ts_ms, "seq": seq, "values": clean}


def event(ts_ms: int, seq: int, type_: str, fields: dict[str, Any]) -> dict[str, Any]:
    reserved = {"ts", "seq", "type"} & set(fields)
    if reserved:
        raise PayloadError(f"event fields may not be named {', '.join(sorted(reserved))}")
    return {"ts": ts_ms, "seq": seq, "type": type_, **fields}


def info(version: str, session: int, started_ms: int, devices: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": version, "session": session, "started": started_ms, "devices": devices}


def info_pages(
    version: str,
    session: int,
    started_ms: int,
    devices: list[dict[str, Any]],
    page_bytes: int = INFO_PAGE_BYTES,
) -> list[dict[str, Any]]:
    """The birth info, split so that no page is much above ``page_bytes``.

    A node whose info fits gets exactly ``info(...)`` (one page, as before). A larger one gets the
    first devices in ``info`` with ``"pages": n`` and ``"device_count"``, and the others in pages
    2..n, each ``{"session", "page", "pages", "devices"}``, published on ``{base}/info/{page}``.
    """
    whole = info(version, session, started_ms, devices)
    if len(dumps(whole)) <= page_bytes:
        return [whole]
    chunks: list[list[dict[str, Any]]] = [[]]
    size = 0
    for d in devices:
        n = len(dumps(d)) + 1
        if chunks[-1] and size + n > page_bytes - 200:  # 200: room for the page's own fields
            chunks.append([])
            size = 0
        chunks[-1].append(d)
        size += n
    pages = len(chunks)
    first = {**info(version, session, started_ms, chunks[0]), "pages": pages, "device_count": len(devices)}
    rest = [
        {"session": session, "page": i, "pages": pages, "devices": chunk}
        for i, chunk in enumerate(chunks[1:], 2)
    ]
    return [first, *rest]
