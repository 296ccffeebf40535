"""One SQLite file per process, WAL mode, fsync on every commit.

``synchronous=FULL`` in WAL mode makes a commit durable across power loss,
which is the promise the outbox makes to producers. A single connection is
shared behind a lock: writes are small and SQLite serialises them anyway.

Two faults are part of the contract, not crashes:

- A damaged file (garbage header, truncation, damaged pages) found when opening is
  *quarantined*: renamed with a timestamp and kept for inspection, and a fresh file is
  started; ``reset`` then says what happened, so the owner can raise it loudly.
- A write refused for lack of space (disk full, quota) sets ``full`` to the error; the
  next write that commits clears it. Failed transactions always roll back, so the
  connection is usable as soon as space returns.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# SQLite result codes (primary) that mean "no room to write", and "this is not a sound database"
_FULL = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR}
_DAMAGED = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


def is_full(exc: BaseException) -> bool:
    """Whether a failed write means the storage has no room (SQLITE_FULL, an I/O error, ENOSPC)."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        if code is not None:
            return (code & 0xFF) in _FULL
        return "full" in str(exc) or "disk I/O" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (28, 122)  # ENOSPC, EDQUOT


def _is_damaged(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _DAMAGED
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


class DamagedDatabase(sqlite3.DatabaseError):
    """PRAGMA quick_check found a problem."""


class Database:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.reset: str | None = None  # why the file found at start was quarantined, if it was
        self.full: str | None = None  # the error of the last write refused for lack of space
        self.full_at = 0.0  # time.monotonic() of that refusal
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._soon: dict[tuple[str, str], Any] = {}  # put_soon values not yet written
        try:
            self._conn = self._open()
        except sqlite3.DatabaseError as exc:
            if self.path == ":memory:" or not (isinstance(exc, DamagedDatabase) or _is_damaged(exc)):
                raise
            kept = self._quarantine()
            self.reset = f"{self.path} was damaged ({exc}); kept as {kept}, started a fresh one"
            log.error("storage reset: %s", self.reset)
            self._conn = self._open()

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            # Cheap enough at start (it reads every page once) and it finds what a query would trip on later.
            problems = [r[0] for r in conn.execute("PRAGMA quick_check(5)").fetchall()]
            if problems != ["ok"]:
                raise DamagedDatabase("; ".join(problems))
            conn.execute(
                "CREATE TABLE IF NOT EXISTS kv (scope TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
                "PRIMARY KEY (scope, key))"
            )
        except BaseException:
            conn.close()
            raise
        return conn

    def _quarantine(self) -> str:
        """Rename the damaged file (and its WAL and shared-memory files) out of the way; keep them."""
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        kept = f"{self.path}.corrupt-{stamp}"
        n = 1
        while os.path.exists(kept):
            n += 1
            kept = f"{self.path}.corrupt-{stamp}-{n}"
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.path + suffix):
                os.replace(self.path + suffix, kept + suffix)
        return kept

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as exc:
                self._rollback()
                self._note(exc)
                raise
            self.full = None

    def _rollback(self) -> None:
        # SQLite may have rolled back already (SQLITE_FULL does); a COMMIT that failed leaves it open.
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error:
                log.exception("rollback failed")

    def _note(self, exc: BaseException) -> None:
        if is_full(exc):
            self.full = str(exc) or type(exc).__name__
            self.full_at = time.monotonic()

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    def execute(self, sql: str, args: tuple = ()) -> None:
        with self._lock:
            try:
                self._conn.execute(sql, args)
            except BaseException as exc:
                self._rollback()
                self._note(exc)
                raise

    def get(self, scope: str, key: str, default: Any = None) -> Any:
        with self._lock:
            if (scope, key) in self._soon:
                return self._soon[(scope, key)]
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

    def put_soon(self, scope: str, key: str, value: Any) -> None:
        """Like put, but kept in memory until ``flush_soon`` writes every such value in one
        transaction (the owner calls it now and then, and ``close`` does): for values that change
        often and may be a little stale after a crash (a meter's last counter)."""
        with self._lock:
            self._soon[(scope, key)] = value

    def flush_soon(self) -> None:
        with self._lock:
            if not self._soon:
                return
            with self.transaction() as c:
                for (scope, key), value in self._soon.items():
                    self.put(scope, key, value, conn=c)
            self._soon.clear()

    def close(self) -> None:
        with self._lock:
            try:
                self.flush_soon()
            except Exception as exc:
                log.error("could not write %d value(s) kept for later (%s)", len(self._soon), exc)
            self._conn.close()
