"""Meter history for the console: one small query layer over the bridge's sink, two backends.

Meters publish cumulative counters (``energy_kwh``, ``volume_m3``), so everything the console draws is
built from one question, "what did the counter read at this instant?" (``values_at``), asked at local
hour or day boundaries: usage in a bucket is the difference between its two edges. That keeps a month
of one-minute data for twenty meters cheap: a few hundred index seeks, never a scan of every row.

- SqliteReadings: the bridge's embedded sink (edge/bridge/sinks.py, table ``points``), read-only.
- FluxReadings: InfluxDB 2.x through influxdb-client's query API. The Flux text is built by pure
  functions tested with vectors; it has NOT been run against a live InfluxDB here (docs/console.md).

Pure helpers (local edges, usage from counter values, after-hours split) are tested with vectors.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class Series:
    """One device's telemetry: the bridge writes it as measurement = the device's kind."""

    site: str
    node: str
    device: str
    kind: str


class Readings(Protocol):
    def values_at(self, series: Series, field: str, edges_ms: Sequence[int]) -> list[float | None]:
        """The counter's last reading at or before each edge (None: nothing recorded yet)."""

    def total(self, series: Series, field: str, start_ms: int, stop_ms: int) -> float:
        """The sum of a per-interval field (e.g. a camera's ``screened``) over [start, stop)."""

    def minimum(self, series: Series, field: str, start_ms: int, stop_ms: int) -> float | None: ...

    def close(self) -> None: ...


# -- pure: local time buckets and usage ----------------------------------------------------------------


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def local_midnight(day: date, tz: tzinfo | None) -> int:
    """Local midnight of ``day`` as epoch ms (days start at local midnight, DST included)."""
    dt = datetime.combine(day, time(0), tz)
    return _ms(dt if dt.tzinfo else dt.astimezone())


def local_day(ts_ms: int, tz: tzinfo | None) -> date:
    return datetime.fromtimestamp(ts_ms / 1000, tz).date()


def day_edges(first: date, days: int, tz: tzinfo | None) -> list[int]:
    """Edges of ``days`` local days from ``first``: days + 1 instants."""
    return [local_midnight(first + timedelta(days=i), tz) for i in range(days + 1)]


def hour_edges(day: date, tz: tzinfo | None) -> list[int]:
    """Edges of the local hours of ``day`` (23, 24 or 25 of them on DST days)."""
    start, stop = local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz)
    return list(range(start, stop, 3_600_000)) + [stop]


def periods(now_ms: int, tz: tzinfo | None) -> dict[str, tuple[date, int]]:
    """Today, this week (from Monday) and this month, as (first local day, number of days so far)."""
    today = local_day(now_ms, tz)
    monday = today - timedelta(days=today.weekday())
    first = today.replace(day=1)
    return {"today": (today, 1), "week": (monday, (today - monday).days + 1),
            "month": (first, (today - first).days + 1)}


def usage(values: Sequence[float | None]) -> list[float | None]:
    """Per-bucket usage from a counter's values at the bucket edges (len(values) - 1 buckets).

    A bucket with no reading on either side is None; a counter that went backwards (meter replaced or
    reset) counts as 0 for that bucket rather than a negative use."""
    out: list[float | None] = []
    for a, b in zip(values, values[1:], strict=False):
        if b is None:
            out.append(None)
        elif a is None:
            out.append(0.0)
        else:
            out.append(max(0.0, b - a))
    return out


def after_hours_edges(first: date, days: int, school_hours: tuple[time, time], tz: tzinfo | None,
                      school_days: frozenset[int] = frozenset(range(5))) -> list[tuple[int, int, bool]]:
    """Consecutive (start, stop, after_hours) intervals covering ``days`` local days from ``first``.

    On a school day (0 = Monday) the hours outside ``school_hours`` are after hours; any other day is."""
    out: list[tuple[int, int, bool]] = []
    for i in range(days):
        d = first + timedelta(days=i)
        start, stop = local_midnight(d, tz), local_midnight(d + timedelta(days=1), tz)
        if d.weekday() not in school_days:
            out.append((start, stop, True))
            continue
        opens = _ms(_aware(datetime.combine(d, school_hours[0], tz)))
        closes = _ms(_aware(datetime.combine(d, school_hours[1], tz)))
        out += [(start, opens, True), (opens, closes, False), (closes, stop, True)]
    return out


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.astimezone()


def after_hours_usage(values: dict[int, float | None], intervals: list[tuple[int, int, bool]]) -> float:
    """The counter's increase over the after-hours intervals (values: the counter at each edge)."""
    total = 0.0
    for start, stop, after in intervals:
        if after:
            a, b = values.get(start), values.get(stop)
            if a is not None and b is not None:
                total += max(0.0, b - a)
    return total


def parse_hours(text: str) -> tuple[time, time]:
    """``"07:00-18:00"`` -> (07:00, 18:00)."""
    a, b = text.split("-")
    return time.fromisoformat(a.strip()), time.fromisoformat(b.strip())


# -- SQLite: the bridge's embedded sink --------------------------------------------------------------


class SqliteReadings:
    """Reads the bridge's ``points`` table read-only; one connection, shared behind a lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            if not Path(self.path).exists():
                raise FileNotFoundError(f"no readings database at {self.path} (is the bridge's sqlite sink "
                                        "writing there?)")
            self._conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False,
                                         timeout=10)
        return self._conn

    def values_at(self, series: Series, field: str, edges_ms: Sequence[int]) -> list[float | None]:
        # one index seek per edge on the primary key (site, node, device, ts, ...)
        sql = ("SELECT value FROM points WHERE site=? AND node=? AND device=? AND ts<=? AND measurement=? "
               "AND field=? ORDER BY ts DESC LIMIT 1")
        out: list[float | None] = []
        with self._lock:
            db = self._db()
            for edge in edges_ms:
                row = db.execute(sql, (series.site, series.node, series.device, edge, series.kind,
                                       field)).fetchone()
                out.append(row[0] if row else None)
        return out

    def total(self, series: Series, field: str, start_ms: int, stop_ms: int) -> float:
        with self._lock:
            row = self._db().execute(
                "SELECT SUM(value) FROM points WHERE site=? AND node=? AND device=? AND ts>=? AND ts<? "
                "AND measurement=? AND field=?",
                (series.site, series.node, series.device, start_ms, stop_ms, series.kind, field)).fetchone()
        return float(row[0] or 0.0)

    def minimum(self, series: Series, field: str, start_ms: int, stop_ms: int) -> float | None:
        with self._lock:
            row = self._db().execute(
                "SELECT MIN(value) FROM points WHERE site=? AND node=? AND device=? AND ts>=? AND ts<? "
                "AND measurement=? AND field=?",
                (series.site, series.node, series.device, start_ms, stop_ms, series.kind, field)).fetchone()
        return row[0]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


# -- InfluxDB: Flux through influxdb-client (query text pure; untested against a live server) ---------


def flux_string(value: str) -> str:
    """A Flux string literal (backslash, double quote and ${ escaped)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${") + '"'


def flux_time(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{ts_ms % 1000:03d}Z"


def _flux_filter(bucket: str, series: Series, field: str, start_ms: int, stop_ms: int) -> str:
    return (f"from(bucket: {flux_string(bucket)})\n"
            f"  |> range(start: {flux_time(start_ms)}, stop: {flux_time(stop_ms)})\n"
            f"  |> filter(fn: (r) => r._measurement == {flux_string(series.kind)} and "
            f"r.site == {flux_string(series.site)} and r.node == {flux_string(series.node)} and "
            f"r.device == {flux_string(series.device)} and r._field == {flux_string(field)})\n")


def flux_hourly_last(bucket: str, series: Series, field: str, start_ms: int, stop_ms: int,
                     tz_name: str | None) -> str:
    """The counter's last reading in each hour of [start, stop), windows aligned to local hours."""
    head = ""
    if tz_name:
        head = ('import "timezone"\n\n'
                f"option location = timezone.location(name: {flux_string(tz_name)})\n\n")
    return (head + _flux_filter(bucket, series, field, start_ms, stop_ms)
            + '  |> aggregateWindow(every: 1h, fn: last, timeSrc: "_stop", createEmpty: false)\n'
              '  |> keep(columns: ["_time", "_value"])\n')


def flux_aggregate(bucket: str, series: Series, field: str, start_ms: int, stop_ms: int, fn: str) -> str:
    if fn not in ("sum", "min"):
        raise ValueError(f"unsupported aggregate {fn!r}")
    return (_flux_filter(bucket, series, field, start_ms, stop_ms)
            + f"  |> {fn}()\n"
              '  |> keep(columns: ["_value"])\n')


def pick_at(edges_ms: Sequence[int], points: Sequence[tuple[int, float]]) -> list[float | None]:
    """For each edge, the value of the latest (time, value) point at or before it (points sorted by time)."""
    out: list[float | None] = []
    i, last = 0, None
    for edge in edges_ms:  # edges ascending
        while i < len(points) and points[i][0] <= edge:
            last = points[i][1]
            i += 1
        out.append(last)
    return out


class FluxReadings:
    """InfluxDB 2.x via Flux. Hourly last values picked at the edges: edges must fall on local hours
    (midnights, school hours such as 07:00), which is all the console asks for."""

    LOOKBACK_MS = 2 * 86_400_000  # how far before the first edge a counter's reading is looked for

    def __init__(self, url: str, org: str, bucket: str, token: str, tz_name: str | None = None,
                 timeout_s: float = 10.0) -> None:
        from influxdb_client import InfluxDBClient

        self.bucket, self.org, self.tz_name = bucket, org, tz_name
        self.client = InfluxDBClient(url=url, token=token, org=org, timeout=int(timeout_s * 1000))
        self.api = self.client.query_api()

    def _rows(self, flux: str) -> list[tuple[Any, float]]:
        tables = self.api.query(flux, org=self.org)
        return [(rec.get_time(), rec.get_value()) for table in tables for rec in table.records]

    def values_at(self, series: Series, field: str, edges_ms: Sequence[int]) -> list[float | None]:
        if not edges_ms:
            return []
        flux = flux_hourly_last(self.bucket, series, field, min(edges_ms) - self.LOOKBACK_MS,
                                max(edges_ms) + 1, self.tz_name)
        points = sorted((_ms(t), float(v)) for t, v in self._rows(flux) if v is not None)
        return pick_at(edges_ms, points)

    def total(self, series: Series, field: str, start_ms: int, stop_ms: int) -> float:
        rows = self._rows(flux_aggregate(self.bucket, series, field, start_ms, stop_ms, "sum"))
        return float(sum(v for _, v in rows if v is not None))

    def minimum(self, series: Series, field: str, start_ms: int, stop_ms: int) -> float | None:
        rows = self._rows(flux_aggregate(self.bucket, series, field, start_ms, stop_ms, "min"))
        vals = [v for _, v in rows if v is not None]
        return min(vals) if vals else None

    def close(self) -> None:
        self.client.close()


def open_readings(cfg: dict[str, Any] | None, tz_name: str | None = None) -> Readings | None:
    """The backend the hub config's ``readings:`` names (None when it names none)."""
    if not cfg:
        return None
    if cfg.get("type", "sqlite") == "influxdb":
        token = cfg.get("token") or ""
        if cfg.get("token_file"):
            token = Path(cfg["token_file"]).read_text().strip()
        return FluxReadings(cfg["url"], cfg.get("org", "campus"), cfg.get("bucket", "campus"), token, tz_name)
    return SqliteReadings(cfg["path"])
