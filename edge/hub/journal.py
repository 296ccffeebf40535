"""The alert journal: one SQLite file (WAL, fsync per commit) and a folder of PNG snapshots beside it.

What it keeps, and why each is a table:
- ``alerts``: every event once (unique on site, node, device, seq, ts: a redelivery changes nothing),
  its fields as JSON, the place (the device's human name when it arrived), its lifecycle state;
  node availability changes as ``node_offline`` / ``node_online`` entries;
- ``actions``: who acknowledged or closed an alert, when, with the outcome and the handheld reading;
- ``deliveries``: every planned notice (alert, channel, stage), written in the SAME transaction as the
  alert, so an alert acknowledged to the broker always has its notices planned (edge/hub/dispatch.py);
- ``nodes``: each node's latest info (device names, kinds, groups) and availability, so names and the
  offline/online debounce survive a hub restart;
- ``screening``: thermal cameras' telemetry windows (screened, fevers, rechecks, covered), unique
  per (device, seq, ts), summed per local day by the daily report.

Snapshots are written and fsynced to ``snapshots/YYYY-MM-DD/<id>.png`` before the row commits; a crash
in between leaves a file a later alert with the same id overwrites. Every method is a short
transaction, so `campus-edge hub ack` and the console can use the file while the hub runs.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any

from edge.hub.ingest import EventIn
from edge.hub.model import ACKNOWLEDGED, CLOSED, NEW, STATES, Action, Alert, initial_state, outcomes_for
from edge.i18n import local
from edge.store.db import Database
from edge.store.filters import Where

# A planner turns a new alert into (channel, stage, due_ms) rows; edge/hub/rules.py plan() does it.
Planner = Callable[[Alert], list[Any]]
TEMPERATURE_TYPES = ("fever", "recheck", "unscreened")
PENDING, SENT, FAILED, CANCELLED = "pending", "sent", "failed", "cancelled"

SCHEMA = """
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site TEXT NOT NULL, node TEXT NOT NULL, device TEXT NOT NULL,
    seq INTEGER, ts_ms INTEGER NOT NULL, type TEXT NOT NULL,
    fields TEXT NOT NULL, place TEXT NOT NULL, snapshot TEXT,
    state TEXT NOT NULL DEFAULT 'new', received_ms INTEGER NOT NULL,
    UNIQUE (site, node, device, seq, ts_ms));
CREATE INDEX IF NOT EXISTS alerts_ts ON alerts(ts_ms);
CREATE INDEX IF NOT EXISTS alerts_type ON alerts(type, ts_ms);
CREATE TABLE IF NOT EXISTS actions (
    alert_id INTEGER NOT NULL, ts_ms INTEGER NOT NULL, by TEXT NOT NULL, action TEXT NOT NULL,
    outcome TEXT, reading_c REAL, note TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS actions_alert ON actions(alert_id);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id INTEGER NOT NULL, channel TEXT NOT NULL, stage TEXT NOT NULL,
    due_ms INTEGER NOT NULL, next_ms INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0, sent_ms INTEGER, summary INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '',
    UNIQUE (alert_id, channel, stage));
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_ms);
CREATE TABLE IF NOT EXISTS nodes (
    site TEXT NOT NULL, node TEXT NOT NULL, info TEXT, online INTEGER, status_ms INTEGER,
    PRIMARY KEY (site, node));
CREATE TABLE IF NOT EXISTS screening (
    site TEXT NOT NULL, node TEXT NOT NULL, device TEXT NOT NULL, seq INTEGER NOT NULL,
    ts_ms INTEGER NOT NULL, screened INTEGER NOT NULL, fevers INTEGER NOT NULL, rechecks INTEGER NOT NULL,
    covered INTEGER NOT NULL, unscreened INTEGER NOT NULL,
    PRIMARY KEY (site, node, device, seq, ts_ms));
CREATE INDEX IF NOT EXISTS screening_ts ON screening(ts_ms);
"""

ALERT_COLUMNS = "id, site, node, device, type, ts_ms, seq, fields, place, snapshot, state, received_ms"


class LifecycleError(ValueError):
    """An acknowledgement or closing the alert's state does not allow (or an unknown alert or outcome)."""


class Journal:
    def __init__(self, path: str | Path, tz: tzinfo | None = None) -> None:
        self.path = Path(path)
        self.db = Database(self.path)
        self.dir = self.path.parent
        self.tz = tz
        # Called after an acknowledgement or a closing commits (the hub forwards it to its listeners).
        self.on_change: Callable[[Alert], None] | None = None
        for stmt in SCHEMA.split(";"):
            if stmt.strip():
                self.db.execute(stmt)

    def shutdown(self) -> None:
        """Close the database (``close`` is the lifecycle step)."""
        self.db.close()

    # -- writing what the hub hears ------------------------------------------------------------
    def record_event(self, ev: EventIn, place: str, received_ms: int,
                     planner: Planner | None = None) -> Alert | None:
        """Journal an event (and plan its notices) in one transaction; None if it was already there."""
        with self.db.transaction() as c:
            cur = c.execute(
                "INSERT OR IGNORE INTO alerts(site, node, device, seq, ts_ms, type, fields, place, "
                "received_ms, state) VALUES(?,?,?,?,?,?,?,?,?,?)",
                (ev.site, ev.node, ev.device, ev.seq, ev.ts_ms, ev.type, json.dumps(ev.fields), place,
                 received_ms, initial_state(ev.type)))
            if cur.rowcount == 0:
                return None
            alert_id = int(cur.lastrowid or 0)
            snap = None
            if ev.snapshot is not None:
                snap = self._write_snapshot(alert_id, ev.ts_ms, ev.snapshot)
                c.execute("UPDATE alerts SET snapshot=? WHERE id=?", (snap, alert_id))
            alert = Alert(alert_id, ev.site, ev.node, ev.device, ev.type, ev.ts_ms, ev.seq, dict(ev.fields),
                          place, str(self.dir / snap) if snap else None, initial_state(ev.type), received_ms)
            self._plan(c, alert, planner)
        return alert

    def record_status(self, site: str, node: str, online: bool, ts_ms: int,
                      planner: Planner | None = None) -> Alert | None:
        """Remember a node's availability; a change becomes a node_offline / node_online entry.

        A repeat (the retained status again after a reconnect) changes nothing. A node first heard
        online is not news; first heard offline is."""
        with self.db.transaction() as c:
            row = c.execute("SELECT online FROM nodes WHERE site=? AND node=?", (site, node)).fetchone()
            before = None if row is None or row[0] is None else bool(row[0])
            if before == online:
                return None
            c.execute("INSERT INTO nodes(site, node, online, status_ms) VALUES(?,?,?,?) "
                      "ON CONFLICT(site, node) DO UPDATE SET online=excluded.online, "
                      "status_ms=excluded.status_ms",
                      (site, node, int(online), ts_ms))
            if before is None and online:
                return None
            etype = "node_online" if online else "node_offline"
            return self.insert_made(c, site, node, "", etype, {}, node, ts_ms, planner)

    def record_made(self, site: str, node: str, device: str, etype: str, fields: dict[str, Any], place: str,
                    ts_ms: int, planner: Planner | None = None) -> Alert:
        """An entry the hub makes itself (broker availability), with its planned notices."""
        with self.db.transaction() as c:
            return self.insert_made(c, site, node, device, etype, fields, place, ts_ms, planner)

    @classmethod
    def insert_made(cls, c: sqlite3.Connection, site: str, node: str, device: str, etype: str,
                    fields: dict[str, Any], place: str, ts_ms: int, planner: Planner | None) -> Alert:
        """A hub-made entry (no seq) and its planned notices, inside the caller's transaction."""
        state = initial_state(etype)  # news such as `repair_update` is journalled closed (edge/hub/model.py)
        cur = c.execute("INSERT INTO alerts(site, node, device, seq, ts_ms, type, fields, place, "
                        "received_ms, state) VALUES(?,?,?,NULL,?,?,?,?,?,?)",
                        (site, node, device, ts_ms, etype, json.dumps(fields, ensure_ascii=False), place,
                         ts_ms, state))
        alert = Alert(int(cur.lastrowid or 0), site, node, device, etype, ts_ms, None, dict(fields), place,
                      None, state, ts_ms)
        cls._plan(c, alert, planner)
        return alert

    def save_info(self, site: str, node: str, info: dict[str, Any]) -> None:
        with self.db.transaction() as c:
            c.execute("INSERT INTO nodes(site, node, info) VALUES(?,?,?) ON CONFLICT(site, node) "
                      "DO UPDATE SET info=excluded.info", (site, node, json.dumps(info)))

    def nodes(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(site, node) -> {"info": dict | None, "online": bool | None, "status_ms": int | None}."""
        out = {}
        for site, node, info, online, status_ms in self.db.query(
                "SELECT site, node, info, online, status_ms FROM nodes"):
            out[(site, node)] = {"info": json.loads(info) if info else None,
                                 "online": None if online is None else bool(online), "status_ms": status_ms}
        return out

    def record_screening(self, site: str, node: str, device: str, seq: int, ts_ms: int,
                         counts: dict[str, int]) -> bool:
        with self.db.transaction() as c:
            cur = c.execute(
                "INSERT OR IGNORE INTO screening VALUES(?,?,?,?,?,?,?,?,?,?)",
                (site, node, device, seq, ts_ms, counts.get("screened", 0), counts.get("fevers", 0),
                 counts.get("rechecks", 0), counts.get("covered", 0), counts.get("unscreened", 0)))
            return cur.rowcount > 0

    def screening_totals(self, since_ms: int, until_ms: int) -> list[tuple[str, str, str, dict[str, int]]]:
        rows = self.db.query(
            "SELECT site, node, device, SUM(screened), SUM(fevers), SUM(rechecks), SUM(covered), "
            "SUM(unscreened) FROM screening WHERE ts_ms >= ? AND ts_ms < ? GROUP BY site, node, device "
            "ORDER BY site, node, device", (since_ms, until_ms))
        keys = ("screened", "fevers", "rechecks", "covered", "unscreened")
        return [(s, n, d, dict(zip(keys, (int(x or 0) for x in vals), strict=True)))
                for s, n, d, *vals in rows]

    def _write_snapshot(self, alert_id: int, ts_ms: int, png: bytes) -> str:
        day = local(ts_ms, self.tz).strftime("%Y-%m-%d")
        rel = Path("snapshots") / day / f"{alert_id}.png"
        folder = self.dir / rel.parent
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{alert_id}.png.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, png)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.dir / rel)
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)  # the rename itself is durable before the row that names it commits
        finally:
            os.close(dfd)
        return str(rel)

    @staticmethod
    def _plan(c: sqlite3.Connection, alert: Alert, planner: Planner | None) -> None:
        if planner is None:
            return
        for p in planner(alert):
            c.execute("INSERT OR IGNORE INTO deliveries(alert_id, channel, stage, due_ms, next_ms) "
                      "VALUES(?,?,?,?,?)", (alert.id, p.channel, p.stage, p.due_ms, p.due_ms))

    # -- reading ---------------------------------------------------------------------------------
    def _alert(self, row: tuple) -> Alert:
        aid, site, node, device, etype, ts, seq, fields, place, snap, state, received = row
        return Alert(aid, site, node, device, etype, ts, seq, json.loads(fields), place,
                     str(self.dir / snap) if snap else None, state, received)

    def alerts(self, types: list[str] | tuple[str, ...] | str | None = None, site: str | None = None,
               node: str | None = None, device: str | None = None,
               state: list[str] | tuple[str, ...] | str | None = None, since_ms: int | None = None,
               until_ms: int | None = None, limit: int | None = 100, offset: int = 0) -> list[Alert]:
        """Alerts, newest first, filtered; ``since_ms`` inclusive, ``until_ms`` exclusive (event time)."""
        where = Where()
        for col, value in (("type", types), ("state", state)):
            if value:
                values = [value] if isinstance(value, str) else list(value)
                where.add(f"{col} IN ({','.join('?' * len(values))})", *values)
        for col, value in (("site", site), ("node", node), ("device", device)):
            if value is not None:
                where.add(f"{col} = ?", value)
        where.time_range("ts_ms", since_ms, until_ms)
        sql = f"SELECT {ALERT_COLUMNS} FROM alerts{where.sql()} ORDER BY ts_ms DESC, id DESC"
        args = list(where.args)
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            args += [int(limit), int(offset)]
        return [self._alert(r) for r in self.db.query(sql, tuple(args))]

    def count(self) -> int:
        return int(self.db.query("SELECT COUNT(*) FROM alerts")[0][0])

    def get(self, alert_id: int) -> Alert | None:
        rows = self.db.query(f"SELECT {ALERT_COLUMNS} FROM alerts WHERE id=?", (int(alert_id),))
        return self._alert(rows[0]) if rows else None

    def actions(self, alert_id: int) -> list[Action]:
        rows = self.db.query("SELECT alert_id, ts_ms, by, action, outcome, reading_c, note FROM actions "
                             "WHERE alert_id=? ORDER BY ts_ms, rowid", (int(alert_id),))
        return [Action(*r) for r in rows]

    def snapshot(self, alert_id: int) -> bytes | None:
        alert = self.get(alert_id)
        if alert is None or not alert.snapshot_path:
            return None
        try:
            return Path(alert.snapshot_path).read_bytes()
        except OSError:
            return None

    # -- lifecycle --------------------------------------------------------------------------------
    def acknowledge(self, alert_id: int, by: str, ts_ms: int) -> Alert:
        """new -> acknowledged, recording who and when."""
        by = _who(by)
        with self.db.transaction() as c:
            state = self._state(c, alert_id)
            if state != NEW:
                raise LifecycleError(f"alert {alert_id} is {state}; only a new alert can be acknowledged")
            c.execute("UPDATE alerts SET state=? WHERE id=?", (ACKNOWLEDGED, alert_id))
            c.execute("INSERT INTO actions(alert_id, ts_ms, by, action) VALUES(?,?,?,?)",
                      (alert_id, ts_ms, by, ACKNOWLEDGED))
        return self._changed(alert_id)

    def close(self, alert_id: int, by: str, ts_ms: int, outcome: str, reading_c: float | None = None,
              note: str = "") -> Alert:
        """new or acknowledged -> closed with an outcome (closing a new alert acknowledges it too)."""
        by = _who(by)
        with self.db.transaction() as c:
            state = self._state(c, alert_id)
            etype = c.execute("SELECT type FROM alerts WHERE id=?", (alert_id,)).fetchone()[0]
            if state == CLOSED:
                raise LifecycleError(f"alert {alert_id} is already closed")
            allowed = outcomes_for(etype)
            if outcome not in allowed:
                raise LifecycleError(f"outcome {outcome!r} does not fit a {etype} alert "
                                     f"(choose one of: {', '.join(allowed)})")
            if reading_c is not None:
                if etype not in TEMPERATURE_TYPES:
                    raise LifecycleError(f"a reading belongs to a temperature alert, not to a {etype} alert")
                if not 30.0 <= float(reading_c) <= 45.0:
                    raise LifecycleError(f"reading {reading_c} degC is not a body temperature (30 to 45)")
            if state == NEW:
                c.execute("INSERT INTO actions(alert_id, ts_ms, by, action) VALUES(?,?,?,?)",
                          (alert_id, ts_ms, by, ACKNOWLEDGED))
            c.execute("UPDATE alerts SET state=? WHERE id=?", (CLOSED, alert_id))
            c.execute("INSERT INTO actions(alert_id, ts_ms, by, action, outcome, reading_c, note) "
                      "VALUES(?,?,?,?,?,?,?)", (alert_id, ts_ms, by, CLOSED, outcome,
                                                None if reading_c is None else float(reading_c), note or ""))
        return self._changed(alert_id)

    @staticmethod
    def _state(c: sqlite3.Connection, alert_id: int) -> str:
        row = c.execute("SELECT state FROM alerts WHERE id=?", (int(alert_id),)).fetchone()
        if row is None:
            raise LifecycleError(f"no alert {alert_id}")
        assert row[0] in STATES
        return row[0]

    def _changed(self, alert_id: int) -> Alert:
        alert = self.get(alert_id)
        assert alert is not None
        if self.on_change is not None:
            self.on_change(alert)
        return alert

    # -- deliveries (edge/hub/dispatch.py) -----------------------------------------------------------
    def due_deliveries(self, now_ms: int, limit: int = 1000) -> list[tuple[int, int, str, str, int]]:
        """(delivery id, alert id, channel, stage, attempts) of pending rows due by now, oldest first."""
        return self.db.query("SELECT id, alert_id, channel, stage, attempts FROM deliveries "
                             "WHERE state='pending' AND next_ms <= ? ORDER BY next_ms, id LIMIT ?",
                             (now_ms, limit))

    def next_due_ms(self, after_ms: int = -1) -> int | None:
        """When the next pending row (due after ``after_ms``) is due."""
        row = self.db.query("SELECT MIN(next_ms) FROM deliveries WHERE state='pending' AND next_ms > ?",
                            (after_ms,))
        return row[0][0] if row and row[0][0] is not None else None

    def mark_sent(self, ids: list[int], ts_ms: int, summary: bool = False, detail: str = "") -> None:
        with self.db.transaction() as c:
            c.executemany("UPDATE deliveries SET state='sent', sent_ms=?, summary=?, attempts=attempts+1, "
                          "detail=? WHERE id=? AND state='pending'",
                          [(ts_ms, int(summary), detail[:500], i) for i in ids])

    def mark_retry(self, ids: list[int], next_ms: int, detail: str) -> None:
        with self.db.transaction() as c:
            c.executemany("UPDATE deliveries SET next_ms=?, attempts=attempts+1, detail=? WHERE id=?",
                          [(next_ms, detail[:500], i) for i in ids])

    def mark_failed(self, ids: list[int], detail: str) -> None:
        with self.db.transaction() as c:
            c.executemany("UPDATE deliveries SET state='failed', attempts=attempts+1, detail=? WHERE id=?",
                          [(detail[:500], i) for i in ids])

    def mark_cancelled(self, ids: list[int], detail: str) -> None:
        with self.db.transaction() as c:
            c.executemany("UPDATE deliveries SET state='cancelled', detail=? WHERE id=?",
                          [(detail[:500], i) for i in ids])

    def deliveries(self, alert_id: int | None = None) -> list[dict[str, Any]]:
        sql = ("SELECT id, alert_id, channel, stage, due_ms, next_ms, state, attempts, sent_ms, summary, "
               "detail FROM deliveries")
        args: tuple = ()
        if alert_id is not None:
            sql += " WHERE alert_id=?"
            args = (int(alert_id),)
        keys = ("id", "alert_id", "channel", "stage", "due_ms", "next_ms", "state", "attempts", "sent_ms",
                "summary", "detail")
        return [dict(zip(keys, r, strict=True)) for r in self.db.query(sql + " ORDER BY id", args)]

    def delivery_counts(self) -> dict[str, int]:
        return {s: int(n) for s, n in self.db.query("SELECT state, COUNT(*) FROM deliveries GROUP BY state")}


def _who(by: str) -> str:
    by = (by or "").strip()
    if not by:
        raise LifecycleError("say who did it (by)")
    return by[:100]
