"""Durable local storage (SQLite in WAL mode) shared by the agent's parts."""
