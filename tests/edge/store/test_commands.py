"""The command log's bounds: 7 days and a row count, never forgetting a command that can still run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from edge.store.commands import CommandLog
from edge.store.db import Database

pytestmark = pytest.mark.adversarial


def record(log: CommandLog, cid: str, expires_ms: int | None = None) -> None:
    with log.db.transaction() as c:
        log.record(cid, "r1", {"id": cid, "ok": True}, c, expires_ms)


def test_row_bound_removes_expired_then_oldest_and_never_an_unexpired_command(tmp_path: Path) -> None:
    log = CommandLog(Database(tmp_path / "c.db"), max_rows=100)
    now_ms = int(time.time() * 1000)
    for i in range(30):
        record(log, f"live-{i}", now_ms + 3_600_000)
    for i in range(40):
        record(log, f"gone-{i}", now_ms - 1000)  # expired: a replay is refused as expired anyway
    for i in range(80):
        record(log, f"plain-{i}")
    log.prune()
    kept = {r[0] for r in log.db.query("SELECT id FROM commands")}
    assert len(kept) <= 90
    assert {f"live-{i}" for i in range(30)} <= kept
    assert not any(k.startswith("gone-") for k in kept)
    assert {f"plain-{i}" for i in range(20, 80)} <= kept  # the oldest without expiry went first
    assert not any(f"plain-{i}" in kept for i in range(20))


def test_log_full_of_unexpired_commands_says_so(tmp_path: Path) -> None:
    log = CommandLog(Database(tmp_path / "c.db"), max_rows=20)
    later = int(time.time() * 1000) + 3_600_000
    for i in range(20):
        record(log, f"live-{i}", later)
    assert log.full()
    assert all(log.lookup(f"live-{i}", "r1") for i in range(20))


def test_older_files_get_the_expires_column(tmp_path: Path) -> None:
    db = Database(tmp_path / "c.db")
    db.execute("CREATE TABLE commands (id TEXT NOT NULL, device TEXT NOT NULL, reply TEXT NOT NULL, "
               "at REAL NOT NULL, PRIMARY KEY (id, device))")
    db.execute("INSERT INTO commands VALUES ('old', 'r1', '{}', 1.0)")
    log = CommandLog(db)
    assert log.lookup("old", "r1") == {}
    record(log, "new", 5)
