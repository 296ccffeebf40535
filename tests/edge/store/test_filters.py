"""The WHERE builder of listing queries, against a real SQLite table."""

from __future__ import annotations

import sqlite3

from edge.store.filters import Where


def test_filters_and_time_range_select_what_they_say() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (kind TEXT, ts_ms INTEGER)")
    db.executemany("INSERT INTO t VALUES (?, ?)", [("a", 10), ("a", 20), ("b", 20), ("a", 30)])
    where = Where()
    assert where.sql() == ""  # no filter: every row
    where.add("kind = ?", "a")
    where.time_range("ts_ms", 20, 30)  # since inclusive, until exclusive
    rows = db.execute(f"SELECT kind, ts_ms FROM t{where.sql()}", where.args).fetchall()
    assert rows == [("a", 20)]
    open_ended = Where()
    open_ended.time_range("ts_ms", None, 20)
    assert db.execute(f"SELECT ts_ms FROM t{open_ended.sql()}", open_ended.args).fetchall() == [(10,)]
