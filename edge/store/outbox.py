"""The durable outbox: telemetry and events wait on disk until the broker has them.

A producer's ``append`` returns only after the row is committed (fsync), so a
reading it was told is accepted survives ``kill -9`` and power loss. A row
leaves only when the broker's PUBACK for it arrived (``ack``).

Full outbox policy: when ``max_messages`` rows wait, the oldest *telemetry*
row is dropped to make room (readings are periodic, the next one carries the
news); events are dropped only when no telemetry is left to drop. Every drop
is counted (``dropped``) and reported in the agent's health readings.

Each device's ``seq`` is stored in the same transaction as its message, so it
keeps growing across restarts and consumers can spot gaps.

Command replies go through here too (``add_replies``, kind ``reply``, no seq): a
command is acknowledged to the broker only once its reply is on disk, so an agent
killed in between sends the reply after its restart (dropped like events, last).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from edge.store.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,          -- telemetry | event
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    qos INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS outbox_kind ON outbox(kind, id);
CREATE TABLE IF NOT EXISTS seqs (device TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""
# Added after the first release: files written by older agents get them on open.
COLUMNS = {"correlation": "BLOB"}
COLS = "id, topic, payload, qos, correlation, kind"  # what an OutboxRow is read from


@dataclass(frozen=True)
class OutboxRow:
    id: int
    topic: str
    payload: bytes
    qos: int
    correlation: bytes | None = None  # MQTT v5 correlation data of a reply to a response topic
    kind: str = ""  # telemetry | event | reply


@dataclass(frozen=True)
class Reply:
    """A command's reply to publish: its topic, JSON bytes, and the requester's correlation data."""

    topic: str
    payload: bytes
    correlation: bytes | None = None


class Outbox:
    def __init__(self, db: Database, max_messages: int = 200_000) -> None:
        self.db = db
        self.max_messages = max_messages
        for stmt in SCHEMA.strip().split(";"):
            if stmt.strip():
                db.execute(stmt)
        have = {r[1] for r in db.query("PRAGMA table_info(outbox)")}
        for name, kind in COLUMNS.items():
            if name not in have:
                db.execute(f"ALTER TABLE outbox ADD COLUMN {name} {kind}")
        self._count = db.query("SELECT COUNT(*) FROM outbox")[0][0]
        self.dropped = int(db.get("outbox", "dropped", 0))

    def append(
        self,
        device: str,
        kind: str,
        topic: str,
        make_payload: Callable[[int], bytes],
        qos: int = 1,
        also: Callable[[sqlite3.Connection, int], None] | None = None,
    ) -> int:
        """Store one message durably; ``make_payload(seq)`` builds it with the device's next seq.

        ``also(conn, seq)`` writes rows that must commit together with this message (the actions a
        local rule owes for an event, edge/store/rule_log.py)."""
        try:
            with self.db.transaction() as c:
                row = c.execute("SELECT seq FROM seqs WHERE device=?", (device,)).fetchone()
                seq = (row[0] if row else 0) + 1
                payload = make_payload(seq)  # may raise: nothing is stored then
                c.execute(
                    "INSERT INTO seqs(device, seq) VALUES(?,?) "
                    "ON CONFLICT(device) DO UPDATE SET seq=excluded.seq",
                    (device, seq),
                )
                if self._count >= self.max_messages:
                    self._drop_one(c)
                c.execute(
                    "INSERT INTO outbox(kind, topic, payload, qos) VALUES(?,?,?,?)",
                    (kind, topic, payload, qos),
                )
                self._count += 1
                if also is not None:
                    also(c, seq)
        except BaseException:
            self._resync()  # the counts moved inside a transaction that did not commit
            raise
        return seq

    def add_replies(self, replies: list[Reply]) -> None:
        """Store command replies durably, all in one transaction (one fsync for a batch)."""
        if not replies:
            return
        try:
            with self.db.transaction() as c:
                for r in replies:
                    if self._count >= self.max_messages:
                        self._drop_one(c)
                    c.execute(
                        "INSERT INTO outbox(kind, topic, payload, qos, correlation) VALUES('reply',?,?,1,?)",
                        (r.topic, r.payload, r.correlation),
                    )
                    self._count += 1
        except BaseException:
            self._resync()
            raise

    def _resync(self) -> None:
        self._count = self.db.query("SELECT COUNT(*) FROM outbox")[0][0]
        self.dropped = int(self.db.get("outbox", "dropped", 0))

    def _drop_one(self, c) -> None:
        victim = c.execute("SELECT id FROM outbox WHERE kind='telemetry' ORDER BY id LIMIT 1").fetchone()
        if victim is None:
            victim = c.execute("SELECT id FROM outbox ORDER BY id LIMIT 1").fetchone()
        if victim is not None:
            c.execute("DELETE FROM outbox WHERE id=?", (victim[0],))
            self._count -= 1
            self.dropped += 1
            self.db.put("outbox", "dropped", self.dropped, conn=c)

    def pending(self, after_id: int, limit: int, replies: bool | None = None) -> list[OutboxRow]:
        """Waiting rows after ``after_id`` in order; only replies (True), only the others (False), or all."""
        where = {None: "", True: " AND kind='reply'", False: " AND kind<>'reply'"}[replies]
        rows = self.db.query(
            f"SELECT {COLS} FROM outbox WHERE id>?{where} ORDER BY id LIMIT ?",
            (after_id, limit),
        )
        return [_row(r) for r in rows]

    def rows(self, row_ids: list[int]) -> list[OutboxRow]:
        """The rows with these ids that are still waiting (dropped ones are gone)."""
        out: list[OutboxRow] = []
        for i in range(0, len(row_ids), 500):
            chunk = row_ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            q = f"SELECT {COLS} FROM outbox WHERE id IN ({marks}) ORDER BY id"
            out += [_row(r) for r in self.db.query(q, tuple(chunk))]
        return out

    def ack(self, row_ids: list[int]) -> None:
        if not row_ids:
            return
        try:
            with self.db.transaction() as c:
                for i in range(0, len(row_ids), 500):
                    chunk = row_ids[i : i + 500]
                    cur = c.execute(f"DELETE FROM outbox WHERE id IN ({','.join('?' * len(chunk))})", chunk)
                    self._count -= cur.rowcount
        except BaseException:
            self._resync()
            raise

    def __len__(self) -> int:
        return self._count


def _row(r: tuple) -> OutboxRow:
    return OutboxRow(r[0], r[1], bytes(r[2]), r[3], None if r[4] is None else bytes(r[4]), r[5])
