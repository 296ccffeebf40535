"""The rule log: each action a local rule owes, keyed by the event that triggered it.

A row is written in the same transaction as its triggering event's outbox row, so an event on disk
always has its actions on disk too (a kill -9 right after the event cannot skip them). The row stays
pending (``outcome`` NULL) until the action is carried out and its ``rule_action`` event is in the
outbox, again in one transaction, so a restart neither skips nor repeats it. Done rows are kept for
``keep_seconds`` as a local record.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from edge.store.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS rule_actions (
    trigger_device TEXT NOT NULL,
    trigger_seq INTEGER NOT NULL,
    rule INTEGER NOT NULL,
    device TEXT NOT NULL,        -- the relay to switch
    action TEXT NOT NULL,        -- JSON: what to do and what triggered it
    outcome TEXT,                -- JSON: NULL while pending
    at REAL NOT NULL,
    PRIMARY KEY (trigger_device, trigger_seq, rule, device)
)
"""


@dataclass(frozen=True)
class RuleKey:
    trigger_device: str
    trigger_seq: int
    rule: int
    device: str


@dataclass(frozen=True)
class PendingAction:
    key: RuleKey
    action: dict[str, Any]


class RuleLog:
    def __init__(self, db: Database, keep_seconds: float = 7 * 86400) -> None:
        self.db = db
        self.keep_seconds = keep_seconds
        db.execute(SCHEMA)

    def add(self, conn: sqlite3.Connection, key: RuleKey, action: dict[str, Any]) -> None:
        """Within the transaction that stores the triggering event."""
        conn.execute(
            "INSERT OR IGNORE INTO rule_actions(trigger_device, trigger_seq, rule, device, action, at) "
            "VALUES(?,?,?,?,?,?)",
            (key.trigger_device, key.trigger_seq, key.rule, key.device, json.dumps(action), time.time()),
        )

    def pending(self, limit: int = 100) -> list[PendingAction]:
        rows = self.db.query(
            "SELECT trigger_device, trigger_seq, rule, device, action FROM rule_actions "
            "WHERE outcome IS NULL ORDER BY rowid LIMIT ?",
            (limit,),
        )
        return [PendingAction(RuleKey(r[0], r[1], r[2], r[3]), json.loads(r[4])) for r in rows]

    def done(self, conn: sqlite3.Connection, key: RuleKey, outcome: dict[str, Any]) -> None:
        """Within the transaction that stores the action's ``rule_action`` event."""
        conn.execute(
            "UPDATE rule_actions SET outcome=?, at=? "
            "WHERE trigger_device=? AND trigger_seq=? AND rule=? AND device=?",
            (json.dumps(outcome), time.time(), key.trigger_device, key.trigger_seq, key.rule, key.device),
        )

    def outcome(self, key: RuleKey) -> dict[str, Any] | None:
        rows = self.db.query(
            "SELECT outcome FROM rule_actions "
            "WHERE trigger_device=? AND trigger_seq=? AND rule=? AND device=?",
            (key.trigger_device, key.trigger_seq, key.rule, key.device),
        )
        return json.loads(rows[0][0]) if rows and rows[0][0] is not None else None

    def prune(self, now: float | None = None) -> None:
        cutoff = (now or time.time()) - self.keep_seconds
        self.db.execute("DELETE FROM rule_actions WHERE outcome IS NOT NULL AND at<?", (cutoff,))
