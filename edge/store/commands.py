"""The command log: each (command id, device) is executed once, its reply kept.

A QoS 1 redelivery, a replay by a user, or the broker re-sending after an
agent restart is answered from here with ``"duplicate": true``. Entries older
than ``keep_seconds`` are pruned.
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


class CommandLog:
    def __init__(self, db: Database, keep_seconds: float = 7 * 86400) -> None:
        self.db = db
        self.keep_seconds = keep_seconds
        db.execute(SCHEMA)

    def lookup(self, cid: str, device: str) -> dict[str, Any] | None:
        rows = self.db.query("SELECT reply FROM commands WHERE id=? AND device=?", (cid, device))
        return json.loads(rows[0][0]) if rows else None

    def record(self, cid: str, device: str, reply: dict[str, Any], conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO commands(id, device, reply, at) VALUES(?,?,?,?)",
            (cid, device, json.dumps(reply), time.time()),
        )

    def prune(self, now: float | None = None) -> None:
        cutoff = (now or time.time()) - self.keep_seconds
        self.db.execute("DELETE FROM commands WHERE at<?", (cutoff,))
