"""Who did what from the console, when, and what came of it: an append-only table in the hub's database.

Every switch (device or group) is written before the command is sent and completed with the agent's
reply, so a hub that dies mid-command still shows who asked for it. Log-ins, failed log-ins and user
changes are kept the same way.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.store.db import Database

SCHEMA = """
CREATE TABLE IF NOT EXISTS console_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, user TEXT NOT NULL, ip TEXT NOT NULL,
    action TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL, result TEXT
)
"""


@dataclass(frozen=True)
class Entry:
    id: int
    ts_ms: int
    user: str
    ip: str
    action: str  # switch | switch_group | login | login_failed | login_locked | user_added | ...
    target: str  # site/node/device, site/group/NAME, or a user name
    detail: dict[str, Any]
    result: str | None  # ok | refused: <error> | timeout | None while pending


class Audit:
    def __init__(self, path: str | Path | Database) -> None:
        self.db = path if isinstance(path, Database) else Database(path)
        self.db.execute(SCHEMA)

    def record(self, user: str, ip: str, action: str, target: str, detail: dict[str, Any] | None = None,
               result: str | None = None, ts_ms: int | None = None) -> int:
        ts = int(time.time() * 1000) if ts_ms is None else ts_ms
        with self.db.transaction() as c:
            cur = c.execute("INSERT INTO console_audit(ts_ms, user, ip, action, target, detail, result) "
                            "VALUES (?,?,?,?,?,?,?)",
                            (ts, user, ip, action, target, json.dumps(detail or {}, ensure_ascii=False),
                             result))
            return int(cur.lastrowid or 0)

    def complete(self, entry_id: int, result: str) -> None:
        with self.db.transaction() as c:
            c.execute("UPDATE console_audit SET result=? WHERE id=?", (result, entry_id))

    def entries(self, actions: tuple[str, ...] | None = None, limit: int = 100,
                offset: int = 0) -> list[Entry]:
        sql = "SELECT id, ts_ms, user, ip, action, target, detail, result FROM console_audit"
        args: list[Any] = []
        if actions:
            sql += f" WHERE action IN ({','.join('?' * len(actions))})"
            args.extend(actions)
        sql += " ORDER BY id DESC LIMIT ? OFFSET ?"
        args += [limit, offset]
        return [Entry(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[7])
                for r in self.db.query(sql, tuple(args))]
