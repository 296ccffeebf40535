"""The command log: each (command id, device) is executed once, its reply kept.

A QoS 1 redelivery, a replay by a user, or the broker re-sending after an
agent restart is answered from here with ``"duplicate": true``.

The log is bounded by time (``keep_seconds``, 7 days) and by rows (``max_rows``), so a
flood cannot fill the disk. Which entries go when it is over the row bound:

1. entries of commands whose ``expires`` has passed: a replay of those is refused as
   expired anyway, so forgetting them cannot run anything twice;
2. then the oldest entries of commands without ``expires``.

Entries of commands whose ``expires`` is still ahead are never removed by the row bound.
When they alone fill it, ``full()`` is true and the agent refuses new commands with an
id (``"command log full"``) rather than forget one that could still be replayed. So a
command with ``expires`` is executed at most once, always; one without is
de-duplicated while its entry is kept (7 days, or the newest ``max_rows`` commands).
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from edge.store.db import Database

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS commands (id TEXT NOT NULL, device TEXT NOT NULL, reply TEXT NOT NULL, "
    "at REAL NOT NULL, PRIMARY KEY (id, device))"
)
MAX_ROWS = 100_000  # ~17 MB; at normal campus rates the 7 days bind first
PRUNE_EVERY = 1000  # records between row-bound checks


class CommandLog:
    def __init__(self, db: Database, keep_seconds: float = 7 * 86400, max_rows: int = MAX_ROWS) -> None:
        self.db = db
        self.keep_seconds = keep_seconds
        self.max_rows = max_rows
        db.execute(SCHEMA)
        if "expires" not in {r[1] for r in db.query("PRAGMA table_info(commands)")}:
            db.execute("ALTER TABLE commands ADD COLUMN expires REAL")  # epoch s; NULL: no expiry
        db.execute("CREATE INDEX IF NOT EXISTS commands_at ON commands(at)")
        self._rows = db.query("SELECT COUNT(*) FROM commands")[0][0]
        self._since_prune = 0

    def lookup(self, cid: str, device: str) -> dict[str, Any] | None:
        rows = self.db.query("SELECT reply FROM commands WHERE id=? AND device=?", (cid, device))
        return json.loads(rows[0][0]) if rows else None

    def record(
        self,
        cid: str,
        device: str,
        reply: dict[str, Any],
        conn: sqlite3.Connection,
        expires_ms: int | None = None,
    ) -> None:
        cur = conn.execute(
            "INSERT OR REPLACE INTO commands(id, device, reply, at, expires) VALUES(?,?,?,?,?)",
            (cid, device, json.dumps(reply), time.time(), None if expires_ms is None else expires_ms / 1000),
        )
        self._rows += cur.rowcount  # an estimate between prunes (a replace counts as one more)
        self._since_prune += 1

    def forget(self, cid: str, device: str) -> None:
        """Remove an entry written ahead of an action that then could not be carried out."""
        self.db.execute("DELETE FROM commands WHERE id=? AND device=?", (cid, device))

    def full(self, now: float | None = None) -> bool:
        """True when unexpired commands alone fill the row bound (see the module docs)."""
        if self._since_prune >= PRUNE_EVERY or self._rows >= self.max_rows:
            self.prune(now)
        return self._rows >= self.max_rows

    def prune(self, now: float | None = None) -> None:
        now = now or time.time()
        self.db.execute("DELETE FROM commands WHERE at<?", (now - self.keep_seconds,))
        self._rows = self.db.query("SELECT COUNT(*) FROM commands")[0][0]
        over = self._rows - self.max_rows + self.max_rows // 10  # make room for a while, not for one
        if self._rows > self.max_rows - self.max_rows // 10 and over > 0:
            self.db.execute(
                "DELETE FROM commands WHERE rowid IN (SELECT rowid FROM commands "
                "WHERE expires IS NULL OR expires<? ORDER BY (expires IS NULL), at LIMIT ?)",
                (now, over),
            )
            self._rows = self.db.query("SELECT COUNT(*) FROM commands")[0][0]
        self._since_prune = 0
