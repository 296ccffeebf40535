"""Read a device's series back from the SQLite sink: query, time parsing and CSV/table output."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
MAX_MS = 253_402_300_800_000  # 10000-01-01: beyond it no date is written, nor does SQLite take the number


def local_zone() -> tzinfo:
    """The machine's own zone: $TZ, /etc/timezone, the /etc/localtime link, or its current offset."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    link = os.path.realpath("/etc/localtime")
    if "zoneinfo/" in link:
        candidates.append(link.split("zoneinfo/", 1)[1])
    for name in candidates:
        if name:
            try:
                return ZoneInfo(name)
            except (ValueError, OSError, KeyError):
                continue
    return datetime.now().astimezone().tzinfo or UTC


def parse_time(text: str, now_ms: int | None = None, tz: tzinfo = UTC) -> int:
    """`now`, a duration ago (`90m`, `2h`, `7d`), epoch ms, or ISO 8601 -> epoch ms in [1970, 10000);
    anything else is a ValueError that says what was given. An ISO time without an offset is in ``tz``
    (the CLI passes the local zone), so a date alone (`2026-11-25`) is that day's local midnight."""
    ms = _parse_time(text, now_ms, tz)
    if not 0 <= ms < MAX_MS:
        raise ValueError(f"time out of range: {text[:40]!r} (between 1970 and 9999, epoch milliseconds "
                         "or ISO 8601)")
    return ms


def _parse_time(text: str, now_ms: int | None, tz: tzinfo) -> int:
    now = int(time.time() * 1000) if now_ms is None else now_ms
    t = text.strip()
    if t == "now":
        return now
    m = _RELATIVE.fullmatch(t)
    if m:
        ago = float(m.group(1)) * _UNIT[m.group(2)] * 1000
        return now - int(ago) if ago < MAX_MS else -1
    if t.isascii() and t.isdigit():
        return int(t) if len(t) < 20 else MAX_MS
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise ValueError(f"not a time: {text[:40]!r} (use now, 2h, 7d, epoch ms or "
                         "2026-11-25T08:00)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz)
    return int(dt.timestamp() * 1000)


@dataclass(frozen=True)
class Row:
    ts_ms: int
    measurement: str
    tags: str  # the tags beyond site/node/device, as JSON
    values: dict[str, float]


def query(path: str | Path, site: str, node: str, device: str, start_ms: int, end_ms: int,
          measurement: str | None = None, fields: list[str] | None = None) -> list[Row]:
    """Rows of one device in [start, end), one per (time, measurement, tags), ordered by time."""
    if not Path(path).exists():
        raise FileNotFoundError(f"no history database at {path}")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        sql = ("SELECT ts, measurement, tags, field, value FROM points WHERE site=? AND node=? AND device=? "
               "AND ts>=? AND ts<?")
        args: list = [site, node, device, start_ms, end_ms]
        if measurement:
            sql += " AND measurement=?"
            args.append(measurement)
        if fields:
            sql += f" AND field IN ({','.join('?' * len(fields))})"
            args.extend(fields)
        sql += " ORDER BY ts, measurement, tags, field"
        rows: list[Row] = []
        for ts, meas, tags, name, value in conn.execute(sql, args):
            if rows and (rows[-1].ts_ms, rows[-1].measurement, rows[-1].tags) == (ts, meas, tags):
                rows[-1].values[name] = value
            else:
                rows.append(Row(ts, meas, tags, {name: value}))
        return rows
    finally:
        conn.close()


def iso(ts_ms: int, tz: tzinfo = UTC) -> str:
    """ISO 8601 in ``tz`` with its offset (``Z`` for UTC): 2026-11-25T08:00:00.000+08:00."""
    text = datetime.fromtimestamp(ts_ms / 1000, tz).isoformat(timespec="milliseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def number(v: float) -> str:
    """Full precision for reports and audits: 1000, 1000.01, 12345.678901 (never rounded like %g)."""
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def _tag_text(tags: str) -> str:
    return " ".join(f"{k}={v}" for k, v in json.loads(tags).items())


def _columns(rows: Iterable[Row]) -> list[str]:
    seen: dict[str, None] = {}
    for r in rows:
        for k in r.values:
            seen.setdefault(k, None)
    return list(seen)


def to_csv(rows: list[Row], tz: tzinfo = UTC) -> str:
    """Wide CSV: time, ts_ms, measurement, tags, then one column per field (empty where absent)."""
    cols = _columns(rows)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["time", "ts_ms", "measurement", "tags", *cols])
    for r in rows:
        w.writerow([iso(r.ts_ms, tz), r.ts_ms, r.measurement, _tag_text(r.tags),
                    *("" if c not in r.values else number(r.values[c]) for c in cols)])
    return out.getvalue()


def to_table(rows: list[Row], tz: tzinfo = UTC) -> str:
    lines = []
    for r in rows:
        tags = _tag_text(r.tags)
        vals = " ".join(f"{k}={number(v)}" for k, v in r.values.items())
        lines.append(f"{iso(r.ts_ms, tz)}  {r.measurement}{' ' + tags if tags else ''}  {vals}")
    return "\n".join(lines) + ("\n" if lines else "")
