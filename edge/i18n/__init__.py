"""Texts for people: one message table (edge/i18n/table.py), zh-CN by default and en, in local time.

Everything a person reads (notifications, reports, pages, alert log lines) is rendered here from a key
and named fields, so a translation is one place and a missing one is a test failure, not a blank.

    >>> text("alert.title.fever", "en")
    'Fever'
    >>> text("alert.title.fever", "zh-CN")
    '发热预警'
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from edge.i18n.table import MESSAGES

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"


class _Missing(dict):
    """Leaves an unknown {field} visible instead of raising: a text with a gap beats no alert."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def text(key: str, language: str = DEFAULT_LANGUAGE, /, **fields: Any) -> str:
    """The text for ``key`` in ``language`` (falling back to zh-CN), with ``fields`` filled in."""
    entry = MESSAGES.get(key)
    if entry is None:
        raise KeyError(f"no message {key!r} in edge/i18n/table.py")
    template = entry.get(language) or entry[DEFAULT_LANGUAGE]
    return template.format_map(_Missing(fields))


def has(key: str) -> bool:
    return key in MESSAGES


def zone(name: str | None) -> tzinfo | None:
    """The configured time zone, or None for the machine's own."""
    return ZoneInfo(name) if name else None


def local(ts_ms: int, tz: tzinfo | None) -> datetime:
    """A timestamp (ms since the epoch) as an aware datetime in ``tz`` (None: the machine's zone)."""
    dt = datetime.fromtimestamp(ts_ms / 1000, tz)
    return dt if dt.tzinfo else dt.astimezone()


def clock(ts_ms: int, tz: tzinfo | None) -> str:
    """HH:MM in local time, as alerts show it."""
    return local(ts_ms, tz).strftime("%H:%M")


def stamp(ts_ms: int, tz: tzinfo | None) -> str:
    """YYYY-MM-DD HH:MM:SS in local time, as reports and journals show it."""
    return local(ts_ms, tz).strftime("%Y-%m-%d %H:%M:%S")
