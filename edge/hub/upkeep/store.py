"""Upkeep's tables in the hub's journal database (same file, WAL, short transactions).

- ``upkeep_usage``: per item, its ``plans.Usage`` (litres, relay on-time, last counter, on since);
- ``upkeep_baseline``: per task, where its counters start (its last service, or tracking start);
- ``upkeep_due``: per task, since when it is due and when it was last raised (once + reminders);
- ``upkeep_service``: service records (who, when, note, parts, photo, the due time they answered);
- ``repairs``: repair requests and their lifecycle (reported, accepted, fixed, deferred);
- ``repair_pending``: device faults waiting out their delay before a request is opened;
- ``relay_checks``: per relay, switch commands that failed in a row (a relay not answering);
- ``patrol_views``: each surveillance camera's latest patrol result and thumbnail (for the sheet).

Alerts the hub raises itself (``maintenance_due``, ``repair_request``) are written to the journal's
``alerts`` table, with their planned notices, in the SAME transaction as the row that decided them,
so a crash neither loses nor doubles one.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict
from typing import Any

from edge.hub.journal import Journal
from edge.hub.upkeep.plans import Baseline, Usage

SCHEMA = """
CREATE TABLE IF NOT EXISTS upkeep_usage (
    item TEXT PRIMARY KEY, usage TEXT NOT NULL, started_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS upkeep_baseline (
    item TEXT NOT NULL, task TEXT NOT NULL, since_ms INTEGER NOT NULL, litres REAL NOT NULL,
    on_seconds REAL NOT NULL, PRIMARY KEY (item, task));
CREATE TABLE IF NOT EXISTS upkeep_due (
    item TEXT NOT NULL, task TEXT NOT NULL, due_since_ms INTEGER NOT NULL, last_alert_ms INTEGER,
    alerts INTEGER NOT NULL DEFAULT 0, reasons TEXT NOT NULL DEFAULT '', PRIMARY KEY (item, task));
CREATE TABLE IF NOT EXISTS upkeep_service (
    id INTEGER PRIMARY KEY AUTOINCREMENT, item TEXT NOT NULL, task TEXT NOT NULL, ts_ms INTEGER NOT NULL,
    by TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', parts TEXT NOT NULL DEFAULT '', photo TEXT,
    due_since_ms INTEGER, litres REAL, on_hours REAL, days REAL);
CREATE INDEX IF NOT EXISTS upkeep_service_ts ON upkeep_service(ts_ms);
CREATE TABLE IF NOT EXISTS repairs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, place TEXT NOT NULL, description TEXT NOT NULL, photo TEXT,
    by TEXT NOT NULL, state TEXT NOT NULL, reported_ms INTEGER NOT NULL,
    accepted_ms INTEGER, accepted_by TEXT, fixed_ms INTEGER, fixed_by TEXT, deferred_ms INTEGER,
    deferred_by TEXT, reason TEXT, expected_date TEXT, note TEXT NOT NULL DEFAULT '',
    site TEXT, node TEXT, device TEXT, fault TEXT, recovered_ms INTEGER);
CREATE INDEX IF NOT EXISTS repairs_device ON repairs(site, node, device, fault, state);
CREATE TABLE IF NOT EXISTS repair_pending (
    site TEXT NOT NULL, node TEXT NOT NULL, device TEXT NOT NULL, fault TEXT NOT NULL,
    since_ms INTEGER NOT NULL, place TEXT NOT NULL, detail TEXT NOT NULL,
    PRIMARY KEY (site, node, device, fault));
CREATE TABLE IF NOT EXISTS relay_checks (
    site TEXT NOT NULL, node TEXT NOT NULL, device TEXT NOT NULL, failures INTEGER NOT NULL,
    first_ms INTEGER NOT NULL, last_error TEXT NOT NULL, PRIMARY KEY (site, node, device));
CREATE TABLE IF NOT EXISTS patrol_views (
    site TEXT NOT NULL, node TEXT NOT NULL, device TEXT NOT NULL, ts_ms INTEGER NOT NULL,
    place TEXT NOT NULL, state TEXT NOT NULL, thumb BLOB, PRIMARY KEY (site, node, device));
"""

OPEN_REPAIR = ("reported", "accepted", "deferred")
# `recovered`: an automatic request closed by itself because its device came back before anyone answered
REPAIR_STATES = (*OPEN_REPAIR, "fixed", "recovered")
REPAIR_COLUMNS = ("id", "place", "description", "photo", "by", "state", "reported_ms", "accepted_ms",
                  "accepted_by", "fixed_ms", "fixed_by", "deferred_ms", "deferred_by", "reason",
                  "expected_date", "note", "site", "node", "device", "fault", "recovered_ms")
# columns added after the first release: a journal made before gets them on open
ADDED_COLUMNS = {"repairs": {"recovered_ms": "INTEGER"}}


def open_tables(journal: Journal) -> None:
    for stmt in SCHEMA.split(";"):
        if stmt.strip():
            journal.db.execute(stmt)
    for table, cols in ADDED_COLUMNS.items():
        have = {r[1] for r in journal.db.query(f"PRAGMA table_info({table})")}
        for col, decl in cols.items():
            if col not in have:
                try:
                    journal.db.execute(f"ALTER TABLE {table} ADD COLUMN {col} {decl}")
                except sqlite3.OperationalError as exc:  # another process (the CLI, the hub) was first
                    if "duplicate column" not in str(exc):
                        raise


def get_usage(c: sqlite3.Connection | Any, item: str) -> tuple[Usage, int] | None:
    row = c.execute("SELECT usage, started_ms FROM upkeep_usage WHERE item=?", (item,)).fetchone()
    return (Usage(**json.loads(row[0])), int(row[1])) if row else None


def put_usage(c: sqlite3.Connection, item: str, u: Usage, started_ms: int) -> None:
    c.execute("INSERT INTO upkeep_usage(item, usage, started_ms) VALUES(?,?,?) ON CONFLICT(item) "
              "DO UPDATE SET usage=excluded.usage", (item, json.dumps(asdict(u)), started_ms))


def get_baseline(c: Any, item: str, task: str) -> Baseline | None:
    row = c.execute("SELECT since_ms, litres, on_seconds FROM upkeep_baseline WHERE item=? AND task=?",
                    (item, task)).fetchone()
    return Baseline(int(row[0]), float(row[1]), float(row[2])) if row else None


def put_baseline(c: sqlite3.Connection, item: str, task: str, b: Baseline) -> None:
    c.execute("INSERT INTO upkeep_baseline VALUES(?,?,?,?,?) ON CONFLICT(item, task) DO UPDATE SET "
              "since_ms=excluded.since_ms, litres=excluded.litres, on_seconds=excluded.on_seconds",
              (item, task, b.since_ms, b.litres, b.on_seconds))


def get_due(c: Any, item: str, task: str) -> tuple[int, int | None, int] | None:
    row = c.execute("SELECT due_since_ms, last_alert_ms, alerts FROM upkeep_due WHERE item=? AND task=?",
                    (item, task)).fetchone()
    return (int(row[0]), row[1], int(row[2])) if row else None


def repair_row(row: tuple) -> dict[str, Any]:
    return dict(zip(REPAIR_COLUMNS, row, strict=True))
