"""Where points go: InfluxDB's write API (production) or a local SQLite file (embedded default).

A sink's ``write(points)`` returns only when the points are durable in the
database, or raises:
- SinkUnavailable: try again later (network, timeout, 5xx, 429, auth/bucket problems an operator fixes);
- SinkRejected: the database refuses this data itself (HTTP 400/413/422); retrying it cannot help.

Writes are idempotent: a point with the same series and timestamp overwrites
(InfluxDB's rule; the SQLite sink's primary key does the same), so a message
the broker delivers twice does not become two points.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from edge.bridge.lineproto import LineProtocolError, Point, encode_batch
from edge.store.db import Database

log = logging.getLogger(__name__)


class SinkUnavailable(Exception):
    pass


class SinkRejected(Exception):
    pass


class Sink(Protocol):
    def write(self, points: list[Point]) -> None: ...

    def close(self) -> None: ...


class InfluxSink:
    """influxdb-client's synchronous write API, no client-side retries: the bridge's buffer retries."""

    REJECTED = (400, 413, 422)

    def __init__(self, cfg: dict[str, Any]) -> None:
        from influxdb_client import InfluxDBClient, WritePrecision
        from influxdb_client.client.write_api import SYNCHRONOUS

        self.bucket, self.org = cfg["bucket"], cfg["org"]
        self._precision: Any = WritePrecision.MS
        self.client = InfluxDBClient(url=cfg["url"], token=cfg.get("token") or "", org=cfg["org"],
                                     timeout=int(cfg["timeout_seconds"] * 1000),
                                     enable_gzip=bool(cfg.get("gzip")), retries=False)
        self.api = self.client.write_api(write_options=SYNCHRONOUS)

    def write(self, points: list[Point]) -> None:
        from influxdb_client.rest import ApiException

        if not points:
            return
        try:
            body = encode_batch(points)
        except LineProtocolError as exc:  # the decoder should have refused it; never retry it forever
            raise SinkRejected(f"cannot encode: {exc}") from None
        try:
            self.api.write(bucket=self.bucket, org=self.org, record=body, write_precision=self._precision)
        except ApiException as exc:
            detail = f"HTTP {exc.status}: {(exc.body or exc.reason or '')!s}"[:500]
            if exc.status in self.REJECTED:
                raise SinkRejected(detail) from None
            raise SinkUnavailable(detail) from None
        except Exception as exc:  # urllib3 connection errors, timeouts, resets
            raise SinkUnavailable(f"{type(exc).__name__}: {exc}"[:500]) from None

    def close(self) -> None:
        self.client.close()


SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    site TEXT NOT NULL, node TEXT NOT NULL, device TEXT NOT NULL, ts INTEGER NOT NULL,
    measurement TEXT NOT NULL, tags TEXT NOT NULL, field TEXT NOT NULL, value REAL NOT NULL,
    PRIMARY KEY (site, node, device, ts, measurement, tags, field)
) WITHOUT ROWID
"""


def split_tags(point: Point) -> tuple[str, str, str, str]:
    """(site, node, device, the other tags as sorted JSON) of a point."""
    tags = dict(point.tags)
    site, node, device = tags.pop("site", ""), tags.pop("node", ""), tags.pop("device", "")
    return site, node, device, json.dumps(tags, sort_keys=True, separators=(",", ":"))


class SqliteSink:
    """Points as rows of one table; the key (series, field, ts) makes a re-delivered point overwrite."""

    def __init__(self, path: str) -> None:
        self.db = Database(path)
        self.db.execute(SQLITE_SCHEMA)

    def write(self, points: list[Point]) -> None:
        rows = []
        for p in points:
            site, node, device, tags = split_tags(p)
            for name, value in p.fields:
                if isinstance(value, str):
                    continue
                rows.append((site, node, device, p.ts_ms, p.measurement, tags, name, float(value)))
        try:
            with self.db.transaction() as c:
                c.executemany("INSERT OR REPLACE INTO points VALUES (?,?,?,?,?,?,?,?)", rows)
        except Exception as exc:  # disk full, locked for too long: keep in the buffer and retry
            raise SinkUnavailable(f"{type(exc).__name__}: {exc}") from None

    def close(self) -> None:
        self.db.close()


def make_sink(cfg: dict[str, Any]) -> Sink:
    if cfg["type"] == "influxdb":
        return InfluxSink(cfg)
    return SqliteSink(cfg["path"])
