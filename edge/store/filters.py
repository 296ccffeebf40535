"""Building the WHERE of a listing query from optional filters (pure): the journal's alerts, the repair
requests. Values always go as parameters, never into the SQL text."""

from __future__ import annotations

from typing import Any


class Where:
    """Clauses joined by AND, with their parameters in order."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.args: list[Any] = []

    def add(self, clause: str, *args: Any) -> None:
        self.clauses.append(clause)
        self.args += args

    def time_range(self, column: str, since_ms: int | None, until_ms: int | None) -> None:
        """``since_ms`` inclusive, ``until_ms`` exclusive; a missing bound is no bound."""
        if since_ms is not None:
            self.add(f"{column} >= ?", since_ms)
        if until_ms is not None:
            self.add(f"{column} < ?", until_ms)

    def sql(self) -> str:
        """`` WHERE a AND b``, or nothing without clauses."""
        return " WHERE " + " AND ".join(self.clauses) if self.clauses else ""
