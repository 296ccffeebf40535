"""The bridge's disk buffer: batches wait here, in order, while the database is away.

A batch is one row (compressed JSON points), committed with fsync before the
broker gets its acknowledgements, so a point the broker forgot is on disk.
Rows leave oldest first, and only after the database took them.

Full policy: the buffer holds at most ``max_points``; when a new batch does not
fit, the oldest batches are dropped to make room, counted (``dropped``,
persisted) and logged. Newest data wins because an outage longer than the
buffer is a failure to report, and the recent past is what operators look at.

Batches the database refuses as malformed (HTTP 400/422) are kept in a
separate ``rejected`` table (the last million) for inspection instead of being retried forever.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass

from edge.bridge.lineproto import Point, from_json, to_json
from edge.store.db import Database

log = logging.getLogger(__name__)

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS buffer (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, "
    "points BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS rejected (id INTEGER PRIMARY KEY AUTOINCREMENT, reason TEXT NOT NULL, "
    "points BLOB NOT NULL)",
)
MAX_REJECTED_ROWS = 1_000_000  # one point each after bisection: ~100 MB at most


@dataclass(frozen=True)
class BufferedBatch:
    id: int
    points: list[Point]


class DiskBuffer:
    def __init__(self, db: Database, max_points: int) -> None:
        self.db = db
        self.max_points = max_points
        for stmt in SCHEMA:
            db.execute(stmt)
        self._resync()

    def append(self, points: list[Point]) -> None:
        if not points:
            return
        blob = zlib.compress(to_json(points), 1)
        try:
            with self.db.transaction() as c:
                while self._points and self._points + len(points) > self.max_points:
                    row = c.execute("SELECT id, n FROM buffer ORDER BY id LIMIT 1").fetchone()
                    c.execute("DELETE FROM buffer WHERE id=?", (row[0],))
                    self._points -= row[1]
                    self.dropped += row[1]
                    log.warning("disk buffer full (%d points): dropped the oldest batch of %d points",
                                self.max_points, row[1])
                    self.db.put("buffer", "dropped", self.dropped, conn=c)
                c.execute("INSERT INTO buffer(n, points) VALUES(?, ?)", (len(points), blob))
                self._points += len(points)
        except BaseException:
            self._resync()  # the counts moved inside a transaction that did not commit
            raise

    def _resync(self) -> None:
        self._points = int(self.db.query("SELECT COALESCE(SUM(n), 0) FROM buffer")[0][0])
        self.dropped = int(self.db.get("buffer", "dropped", 0))

    def oldest(self, max_points: int) -> list[BufferedBatch]:
        """The oldest batches, at least one, together no more than max_points when possible."""
        out: list[BufferedBatch] = []
        total = 0
        after = 0
        while True:
            rows = self.db.query("SELECT id, n, points FROM buffer WHERE id>? ORDER BY id LIMIT 16", (after,))
            if not rows:
                return out
            for rid, n, blob in rows:
                if out and total + n > max_points:
                    return out
                out.append(BufferedBatch(rid, from_json(zlib.decompress(blob))))
                total += n
                after = rid

    def remove(self, batches: list[BufferedBatch]) -> None:
        if not batches:
            return
        ids = [b.id for b in batches]
        with self.db.transaction() as c:
            c.execute(f"DELETE FROM buffer WHERE id IN ({','.join('?' * len(ids))})", ids)
        self._points -= sum(len(b.points) for b in batches)

    def reject(self, points: list[Point], reason: str) -> None:
        with self.db.transaction() as c:
            cur = c.execute("INSERT INTO rejected(reason, points) VALUES(?, ?)",
                            (reason[:1000], zlib.compress(to_json(points), 1)))
            c.execute("DELETE FROM rejected WHERE id <= ?", ((cur.lastrowid or 0) - MAX_REJECTED_ROWS,))

    def rejected(self) -> list[tuple[str, list[Point]]]:
        rows = self.db.query("SELECT reason, points FROM rejected ORDER BY id")
        return [(r, from_json(zlib.decompress(b))) for r, b in rows]

    def __len__(self) -> int:
        """Points waiting."""
        return self._points
