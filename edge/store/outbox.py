"""The outbox: telemetry and events wait here until the broker has them.

Two ways in (docs/mqtt.md "Delivery guarantees", ``storage.flush_ms``):

- **Events and replies are durable when accepted**: ``append`` of an event returns only after the
  row is committed (fsync), so an event the producer was told is accepted survives ``kill -9`` and
  power loss, and so do the rule actions committed with it (``also``). ``add_replies`` likewise.
- **Telemetry is staged in memory first** (``flush_ms`` > 0): a reading the broker acknowledges within
  ``flush_ms`` never touches the SD card; one still unacknowledged after ``flush_ms`` is written then, in
  one transaction with every other reading due (``flush``, called by the owner's main loop). So a reading
  accepted more than ``flush_ms`` (+ one loop turn) before a power loss survives; a younger one may be
  lost. ``flush_ms: 0`` writes each reading at once, as events are (one fsync per reading).

A row leaves only when the broker's PUBACK for it arrived (``ack``): from memory if it is still
staged, else from disk (all the acknowledged rows of a loop turn in one transaction).

Ids are handed out here, in one order for both places, so the pump sends what is staged and what is
on disk as one stream (``pending``), in order per device.

Each device's ``seq`` keeps growing across restarts. A durable message stores its seq with it; staged
readings take theirs from a block reserved on disk ahead (``SEQ_BLOCK``), so a reading costs no write
for its seq. A clean stop stores the exact seqs; after a crash or power loss seq jumps ahead (to past
the reserved block), which consumers see as the gap it is.

Full outbox policy: when ``max_messages`` rows wait (staged and on disk), the oldest *telemetry*
row is dropped to make room (readings are periodic, the next one carries the news); events are
dropped only when no telemetry is left to drop. Every drop is counted (``dropped``) and reported in
the agent's health readings.

Command replies go through here too (``add_replies``, kind ``reply``, no seq): a
command is acknowledged to the broker only once its reply is on disk, so an agent
killed in between sends the reply after its restart (dropped like events, last).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from edge.store.db import Database, is_full

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
SEQ_BLOCK = 1000  # seqs a staged device reserves on disk at once (one small write per this many readings)
FLUSH_RETRY_SECONDS = 1.0  # a flush the disk refused (full) is tried again this often
STAGE_MAX = 5000  # staged readings at most: beyond, the due ones and the oldest are written at once


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
    def __init__(self, db: Database, max_messages: int = 200_000, flush_ms: int = 0) -> None:
        self.db = db
        self.max_messages = max_messages
        self.flush_s = max(0, flush_ms) / 1000
        self._lock = threading.RLock()  # producers' threads and the main loop
        for stmt in SCHEMA.strip().split(";"):
            if stmt.strip():
                db.execute(stmt)
        have = {r[1] for r in db.query("PRAGMA table_info(outbox)")}
        for name, kind in COLUMNS.items():
            if name not in have:
                db.execute(f"ALTER TABLE outbox ADD COLUMN {name} {kind}")
        self._stage: dict[int, tuple[OutboxRow, float]] = {}  # id -> (row, accepted at): in id order
        self._seq = {d: s for d, s in db.query("SELECT device, seq FROM seqs")}  # last seq handed out
        self._reserved = dict(self._seq)  # what the seqs table says: no seq above it was handed out
        self._resync()
        last = db.query("SELECT seq FROM sqlite_sequence WHERE name='outbox'")
        self._next_id = max(last[0][0] if last else 0, db.query("SELECT MAX(id) FROM outbox")[0][0] or 0) + 1
        self._retry_at = 0.0  # a flush the disk refused is tried again from then
        self.written = 0  # readings that had to be written to disk (stats: the rest never touched it)

    # -- in ----------------------------------------------------------------------
    def append(
        self,
        device: str,
        kind: str,
        topic: str,
        make_payload: Callable[[int], bytes],
        qos: int = 1,
        also: Callable[[sqlite3.Connection, int], None] | None = None,
    ) -> int:
        """Accept one message; ``make_payload(seq)`` builds it with the device's next seq.

        Telemetry is staged (see the module's text) unless ``flush_ms`` is 0; events are committed
        before this returns, with ``also(conn, seq)``: rows that must commit together with the event
        (the actions a local rule owes for it, edge/store/rule_log.py)."""
        with self._lock:
            if kind == "telemetry" and also is None and self.flush_s > 0:
                return self._stage_one(device, topic, make_payload, qos)
            seq = self._seq.get(device, 0) + 1
            try:
                with self.db.transaction() as c:
                    payload = make_payload(seq)  # may raise: nothing is stored then
                    reserved = max(seq, self._reserved.get(device, 0))
                    self._put_seq(c, device, reserved)
                    if self._count >= self.max_messages:
                        self._drop_one(c)
                    row_id = self._next_id
                    c.execute(
                        "INSERT INTO outbox(id, kind, topic, payload, qos) VALUES(?,?,?,?,?)",
                        (row_id, kind, topic, payload, qos),
                    )
                    if also is not None:
                        also(c, seq)
            except BaseException:
                self._resync()  # the counts moved inside a transaction that did not commit
                raise
            self._next_id += 1
            self._count += 1
            self._seq[device], self._reserved[device] = seq, reserved
            return seq

    def _stage_one(self, device: str, topic: str, make_payload: Callable[[int], bytes], qos: int) -> int:
        seq = self._seq.get(device, 0) + 1
        payload = make_payload(seq)  # may raise: nothing is staged then
        if seq > self._reserved.get(device, 0):  # the seq survives a crash: reserve a block ahead on disk
            with self.db.transaction() as c:
                self._put_seq(c, device, seq + SEQ_BLOCK - 1)
            self._reserved[device] = seq + SEQ_BLOCK - 1
        if self._count >= self.max_messages:
            self._drop_for_stage()
        if len(self._stage) >= STAGE_MAX:  # memory stays bounded: a disk that refuses refuses the reading
            self.flush(everything=True)
        row = OutboxRow(self._next_id, topic, payload, qos, None, "telemetry")
        self._stage[row.id] = (row, time.monotonic())
        self._next_id += 1
        self._count += 1
        self._seq[device] = seq
        return seq

    def add_replies(self, replies: list[Reply]) -> None:
        """Store command replies durably, all in one transaction (one fsync for a batch)."""
        if not replies:
            return
        with self._lock:
            try:
                with self.db.transaction() as c:
                    next_id = self._next_id
                    for r in replies:
                        if self._count >= self.max_messages:
                            self._drop_one(c)
                        c.execute(
                            "INSERT INTO outbox(id, kind, topic, payload, qos, correlation) "
                            "VALUES(?,'reply',?,?,1,?)",
                            (next_id, r.topic, r.payload, r.correlation),
                        )
                        next_id += 1
                        self._count += 1
            except BaseException:
                self._resync()
                raise
            self._next_id = next_id

    def flush(self, everything: bool = False) -> int:
        """Write the staged readings due (accepted ``flush_ms`` ago or more; all with ``everything``)
        in one transaction; returns how many. The owner's main loop calls this every turn."""
        with self._lock:
            if not self._stage:
                return 0
            due_before = time.monotonic() - self.flush_s
            if not everything and time.monotonic() < self._retry_at:
                return 0
            rows = []
            for row, at in self._stage.values():  # in id order, which is the order they were accepted
                if not everything and at > due_before:
                    break
                rows.append(row)
            if not rows:
                return 0
            try:
                with self.db.transaction() as c:
                    c.executemany(
                        "INSERT INTO outbox(id, kind, topic, payload, qos) VALUES(?,'telemetry',?,?,?)",
                        [(r.id, r.topic, r.payload, r.qos) for r in rows],
                    )
                    self.db.put("outbox", "dropped", self.dropped, conn=c)
            except Exception as exc:
                if everything or not is_full(exc):
                    raise
                # the disk is full (the owner reports it: Database.full): they stay staged, tried again
                # in a second; a full stage refuses new readings (STAGE_MAX), as a full disk did before
                self._retry_at = time.monotonic() + FLUSH_RETRY_SECONDS
                return 0
            self._retry_at = 0.0
            for r in rows:
                del self._stage[r.id]
            self.written += len(rows)
            return len(rows)

    def next_flush_in(self) -> float | None:
        """Seconds until the oldest staged reading is due to be written (None: nothing staged)."""
        with self._lock:
            if not self._stage:
                return None
            oldest = next(iter(self._stage.values()))[1]
            return max(0.0, oldest + self.flush_s - time.monotonic(), self._retry_at - time.monotonic())

    def close(self) -> None:
        """A clean stop: what is still staged goes to disk, and the exact seqs (no gap after a restart)."""
        with self._lock:
            self.flush(everything=True)
            with self.db.transaction() as c:
                for device, seq in self._seq.items():
                    self._put_seq(c, device, seq)
            self._reserved = dict(self._seq)

    # -- out -------------------------------------------------------------------
    def pending(self, after_id: int, limit: int, replies: bool | None = None) -> list[OutboxRow]:
        """Waiting rows after ``after_id`` in order; only replies (True), only the others (False), or all."""
        where = {None: "", True: " AND kind='reply'", False: " AND kind<>'reply'"}[replies]
        with self._lock:
            rows = [
                _row(r)
                for r in self.db.query(
                    f"SELECT {COLS} FROM outbox WHERE id>?{where} ORDER BY id LIMIT ?", (after_id, limit)
                )
            ]
            if replies is not True and self._stage:
                staged: list[OutboxRow] = []
                for i, (row, _) in self._stage.items():  # in id order; the first few are in flight
                    if i > after_id:
                        staged.append(row)
                        if len(staged) >= limit:
                            break
                if staged:
                    rows = sorted(rows + staged, key=lambda r: r.id)[:limit]
            return rows

    def rows(self, row_ids: list[int]) -> list[OutboxRow]:
        """The rows with these ids that are still waiting (dropped ones are gone)."""
        out: list[OutboxRow] = []
        with self._lock:
            out += [self._stage[i][0] for i in row_ids if i in self._stage]
            on_disk = [i for i in row_ids if i not in self._stage]
            for i in range(0, len(on_disk), 500):
                chunk = on_disk[i : i + 500]
                marks = ",".join("?" * len(chunk))
                q = f"SELECT {COLS} FROM outbox WHERE id IN ({marks}) ORDER BY id"
                out += [_row(r) for r in self.db.query(q, tuple(chunk))]
        return sorted(out, key=lambda r: r.id)

    def ack(self, row_ids: list[int]) -> None:
        """The broker has these rows: staged ones are forgotten, the others deleted in one transaction."""
        if not row_ids:
            return
        with self._lock:
            on_disk = []
            for i in row_ids:
                if self._stage.pop(i, None) is not None:
                    self._count -= 1
                else:
                    on_disk.append(i)
            if not on_disk:
                return
            try:
                with self.db.transaction() as c:
                    for i in range(0, len(on_disk), 500):
                        chunk = on_disk[i : i + 500]
                        marks = ",".join("?" * len(chunk))
                        cur = c.execute(f"DELETE FROM outbox WHERE id IN ({marks})", chunk)
                        self._count -= cur.rowcount
            except BaseException:
                self._resync()
                raise

    def __len__(self) -> int:
        return self._count

    @property
    def staged(self) -> int:
        """Readings held in memory only (not yet written: flush_ms)."""
        return len(self._stage)

    # -- internals ---------------------------------------------------------------
    def _put_seq(self, c: sqlite3.Connection, device: str, seq: int) -> None:
        c.execute(
            "INSERT INTO seqs(device, seq) VALUES(?,?) ON CONFLICT(device) DO UPDATE SET seq=excluded.seq",
            (device, seq),
        )

    def _resync(self) -> None:
        self._count = self.db.query("SELECT COUNT(*) FROM outbox")[0][0] + len(self._stage)
        self.dropped = int(self.db.get("outbox", "dropped", 0))

    def _disk_victim(self, query: Callable[[str], list]) -> int | None:
        victim = query("SELECT id FROM outbox WHERE kind='telemetry' ORDER BY id LIMIT 1")
        return victim[0][0] if victim else None

    def _drop_one(self, c) -> None:
        """Make room for one row, inside the caller's transaction: the oldest telemetry, staged or
        on disk, else the oldest row."""
        victim = self._disk_victim(lambda q: c.execute(q).fetchall())
        first_staged = next(iter(self._stage), None)
        if first_staged is not None and (victim is None or first_staged < victim):
            del self._stage[first_staged]
        else:
            if victim is None:
                row = c.execute("SELECT id FROM outbox ORDER BY id LIMIT 1").fetchone()
                victim = None if row is None else row[0]
            if victim is None:
                return
            c.execute("DELETE FROM outbox WHERE id=?", (victim,))
        self._count -= 1
        self.dropped += 1
        self.db.put("outbox", "dropped", self.dropped, conn=c)

    def _drop_for_stage(self) -> None:
        """Make room for a staged reading: the oldest telemetry (a staged one costs no write)."""
        first_staged = next(iter(self._stage), None)
        victim = self._disk_victim(self.db.query)
        if first_staged is not None and (victim is None or first_staged < victim):
            del self._stage[first_staged]
            self._count -= 1
            self.dropped += 1  # stored with the next flush
            return
        with self.db.transaction() as c:
            self._drop_one(c)


def _row(r: tuple) -> OutboxRow:
    return OutboxRow(r[0], r[1], bytes(r[2]), r[3], None if r[4] is None else bytes(r[4]), r[5])
