"""The console's accounts: names, roles, argon2 password hashes, in the hub's SQLite file.

Roles (issue #10): ``admin`` may do everything, including managing users; ``logistics`` runs appliances,
meters and alerts; ``duty`` works the gate (acknowledge, record the handheld reading) and may not switch
appliances. Any staff may report a repair (``repairs``); ``upkeep`` (record a service, accept, fix or
defer a repair) is logistics' and admin's. What each role may do is the table ROLE_RIGHTS, checked by the
server on every request.

    >>> users = Users("/var/lib/campus-edge/hub.db")
    >>> users.add("wang", "duty", "a long passphrase")
    >>> users.verify("wang", "a long passphrase").role
    'duty'
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from edge.store.db import Database

ROLES = ("admin", "logistics", "duty")

# What a role may do. Pages and API routes name the right they need; nothing else decides.
ROLE_RIGHTS: dict[str, frozenset[str]] = {
    "admin": frozenset({"gate", "acknowledge", "alerts", "appliances", "switch", "meters", "nodes", "users",
                        "repairs", "upkeep"}),
    "logistics": frozenset({"acknowledge", "alerts", "appliances", "switch", "meters", "nodes", "repairs",
                            "upkeep"}),
    "duty": frozenset({"gate", "acknowledge", "alerts", "repairs"}),
}

NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
MIN_PASSWORD = 8

SCHEMA = """
CREATE TABLE IF NOT EXISTS console_users (
    name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, language TEXT,
    created_ms INTEGER NOT NULL
)
"""


class UserError(ValueError):
    """A bad name, role or password; the text says which."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    language: str | None = None

    def may(self, right: str) -> bool:
        return right in ROLE_RIGHTS.get(self.role, frozenset())


class Users:
    """Accounts in one table of the hub's database (its own connection; SQLite WAL serialises writers)."""

    def __init__(self, path: str | Path | Database) -> None:
        self.db = path if isinstance(path, Database) else Database(path)
        self.db.execute(SCHEMA)
        from argon2 import PasswordHasher  # the hub extra; imported here so the CLI loads without it

        self._hasher = PasswordHasher()  # argon2id, the library's current recommended parameters
        # verify() of an unknown name still costs one hash, so timing does not tell which names exist
        self._dummy = self._hasher.hash("campus-edge: no such user")

    def add(self, name: str, role: str, password: str, language: str | None = None,
            replace: bool = False) -> User:
        if not NAME.fullmatch(name):
            raise UserError(f"bad user name {name!r}: 1-64 of letters, digits, _ . @ -")
        if role not in ROLES:
            raise UserError(f"bad role {role!r}: one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            raise UserError(f"password too short: at least {MIN_PASSWORD} characters")
        if not replace and self.get(name):
            raise UserError(f"user {name!r} exists (use --replace to change its role and password)")
        digest = self._hasher.hash(password)
        with self.db.transaction() as c:
            c.execute("INSERT OR REPLACE INTO console_users VALUES (?,?,?,?,?)",
                      (name, role, digest, language, int(time.time() * 1000)))
        return User(name, role, language)

    def get(self, name: str) -> User | None:
        rows = self.db.query("SELECT name, role, language FROM console_users WHERE name=?", (name,))
        return User(*rows[0]) if rows else None

    def all(self) -> list[User]:
        rows = self.db.query("SELECT name, role, language FROM console_users ORDER BY name")
        return [User(*r) for r in rows]

    def remove(self, name: str) -> bool:
        with self.db.transaction() as c:
            return c.execute("DELETE FROM console_users WHERE name=?", (name,)).rowcount > 0

    def set_language(self, name: str, language: str | None) -> None:
        with self.db.transaction() as c:
            c.execute("UPDATE console_users SET language=? WHERE name=?", (language, name))

    def verify(self, name: str, password: str) -> User | None:
        """The user when the password is right, else None (unknown name and wrong password look alike)."""
        rows = self.db.query("SELECT hash FROM console_users WHERE name=?", (name,))
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        digest = rows[0][0] if rows else self._dummy
        try:
            self._hasher.verify(digest, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if not rows:
            return None
        if self._hasher.check_needs_rehash(digest):  # parameters raised since: upgrade on a good login
            with self.db.transaction() as c:
                c.execute("UPDATE console_users SET hash=? WHERE name=?", (self._hasher.hash(password), name))
        return self.get(name)

    def close(self) -> None:
        self.db.close()
