"""Values kept with put_soon: read back at once, on disk only when flushed (one transaction) or at close."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from edge.store.db import Database


def _on_disk(path: Path, scope: str, key: str):
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT value FROM kv WHERE scope=? AND key=?", (scope, key)).fetchone()
        return None if row is None else row[0]
    finally:
        conn.close()


def test_put_soon_is_read_back_at_once_and_written_when_flushed(tmp_path: Path) -> None:
    db = Database(tmp_path / "a.db")
    for v in range(100):
        db.put_soon("m1", "counter", v)
    db.put_soon("m2", "counter", 7)
    assert db.get("m1", "counter") == 99
    assert _on_disk(tmp_path / "a.db", "m1", "counter") is None, "not written per value"
    db.flush_soon()
    assert _on_disk(tmp_path / "a.db", "m1", "counter") == "99"
    assert _on_disk(tmp_path / "a.db", "m2", "counter") == "7"
    db.put_soon("m1", "counter", 100)
    db.close()  # a clean stop writes what is kept
    assert Database(tmp_path / "a.db").get("m1", "counter") == 100
