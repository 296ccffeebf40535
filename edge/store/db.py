"""One SQLite file per process, WAL mode, fsync on every commit.

``synchronous=FULL`` in WAL mode makes a commit durable across power loss,
which is the promise the outbox makes to producers. A single connection is
shared behind a lock: writes are small and SQLite serialises them anyway.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


class Database:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS kv (scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
                "PRIMARY KEY (scope, key))"
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def execute(self, sql: str, args: tuple = ()) -> None:
        with self._lock:
            self._conn.execute(sql, args)

    def get(self, scope: str, key: str, default: Any = None) -> Any:
        rows = self.query("SELECT value FROM kv WHERE scope=? AND key=?", (scope, key))
        return json.loads(rows[0][0]) if rows else default

    def put(self, scope: str, key: str, value: Any, conn: sqlite3.Connection | None = None) -> None:
        sql = (
            "INSERT INTO kv(scope, key, value) VALUES(?,?,?) "
            "ON CONFLICT(scope, key) DO UPDATE SET value=excluded.value"
        )
        args = (scope, key, json.dumps(value))
        if conn is not None:
            conn.execute(sql, args)
        else:
            with self.transaction() as c:
                c.execute(sql, args)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
