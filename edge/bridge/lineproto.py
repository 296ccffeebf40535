r"""Points and the InfluxDB line protocol: pure functions, tested with byte vectors.

A line is ``measurement,tag=v,... field=v,... timestamp`` with the timestamp in
milliseconds (the bridge always writes with ``precision=ms``). Escaping follows
the InfluxDB reference ("Special characters"): in measurements ``,`` and space;
in tag keys, tag values and field keys ``,``, ``=`` and space; in string field
values ``"`` and backslash.

Names that no reader takes back unchanged are refused (LineProtocolError), never
written changed:
- control characters (a newline cannot be escaped);
- a backslash at the end, or before another backslash, ``,``, ``=`` or space: the
  reference reads ``\\`` as one backslash, InfluxDB's own parser keeps both, and
  ``trail\=1`` escapes the ``=`` for InfluxDB, so no spelling survives both. A
  backslash before any other character is literal everywhere and passes as is;
- ``"``: VictoriaMetrics reads a quote in a key as the start of a string and loses
  that field and every one after it (``\"`` keeps its backslash);
- names starting with ``_`` (reserved by InfluxDB 2) and the key ``time``.

Numbers: ``bool`` -> ``true``/``false``, ``int`` -> ``12i``, ``float`` -> its
shortest round-trip text (``21.5``, ``1e+20``). NaN and infinities are refused.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache
from typing import NamedTuple

FieldValue = bool | int | float | str

# what cannot be written so that every reader takes it back unchanged (module docstring)
_UNWRITABLE = re.compile(r'[\x00-\x1f\x7f"]|\\([\\,= ]|$)')


class LineProtocolError(ValueError):
    """A name or value that cannot be written as line protocol."""


class Point(NamedTuple):  # a named tuple: built once per message, several times cheaper than a dataclass
    measurement: str
    tags: tuple[tuple[str, str], ...]
    fields: tuple[tuple[str, FieldValue], ...]
    ts_ms: int


def check_name(name: str, what: str = "name") -> str:
    if not isinstance(name, str) or not name:
        raise LineProtocolError(f"{what} must be a non-empty string")
    if _UNWRITABLE.search(name):
        raise LineProtocolError(f"{what} {name!r} cannot be written unchanged (control character, quote, "
                                "or a backslash at the end or before a backslash, ',', '=' or space)")
    if name.startswith("_") or name == "time":
        raise LineProtocolError(f"{what} {name!r} is reserved by InfluxDB")
    return name


def _escape(text: str, specials: str) -> str:
    out = text  # a backslash left in a checked name is literal (never before a special character)
    for ch in specials:
        out = out.replace(ch, "\\" + ch)
    return out


@lru_cache(maxsize=4096)  # a few kinds; caching the pure escapes halves the cost of a batch
def escape_measurement(name: str) -> str:
    return _escape(check_name(name, "measurement"), ", ")


@lru_cache(maxsize=65536)
def escape_key(name: str) -> str:
    """Tag keys, tag values and field keys."""
    return _escape(check_name(name, "key"), ",= ")


@lru_cache(maxsize=65536)
def escape_tag_value(value: str) -> str:
    if not isinstance(value, str) or not value or _UNWRITABLE.search(value):
        raise LineProtocolError(f"tag value {value!r} must be non-empty text that can be written unchanged "
                                "(no control character, quote, or backslash at the end or before "
                                "a backslash, ',', '=' or space)")
    return _escape(value, ",= ")


def format_value(value: FieldValue) -> str:
    if type(value) is float:  # the common case first
        if not math.isfinite(value):
            raise LineProtocolError(f"{value} is not a finite number")
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise LineProtocolError(f"integer {value} does not fit in 64 bits")
        return f"{value}i"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise LineProtocolError(f"{value} is not a finite number")
        return repr(value)
    if isinstance(value, str):
        if "\n" in value or "\r" in value:
            raise LineProtocolError("string field values cannot contain line breaks")
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise LineProtocolError(f"cannot write a {type(value).__name__} as a field value")


def encode(point: Point) -> str:
    """One line, without the trailing newline. Tags are sorted by key (InfluxDB's recommendation)."""
    if not point.fields:
        raise LineProtocolError("a point needs at least one field")
    if isinstance(point.ts_ms, bool) or not isinstance(point.ts_ms, int):
        raise LineProtocolError(f"timestamp must be an integer, got {point.ts_ms!r}")
    fields = ",".join([f"{escape_key(k)}={format_value(v)}" for k, v in point.fields])
    return f"{_head(point.measurement, point.tags)} {fields} {point.ts_ms}"


@lru_cache(maxsize=65536)  # one entry per series: a campus has thousands, not millions
def _head(measurement: str, tags: tuple[tuple[str, str], ...]) -> str:
    head = escape_measurement(measurement)
    for k, v in sorted(tags):
        head += f",{escape_key(k)}={escape_tag_value(v)}"
    return head


def encode_batch(points: list[Point]) -> bytes:
    return "\n".join([encode(p) for p in points]).encode("utf-8")


# -- compact JSON form, for the disk buffer --------------------------------------
def to_json(points: list[Point]) -> bytes:
    rows = [[p.measurement, [list(t) for t in p.tags], [list(f) for f in p.fields], p.ts_ms] for p in points]
    return json.dumps(rows, separators=(",", ":"), allow_nan=False).encode()


def from_json(data: bytes) -> list[Point]:
    return [Point(m, tuple((k, v) for k, v in tags), tuple((k, v) for k, v in fields), ts)
            for m, tags, fields, ts in json.loads(data)]
