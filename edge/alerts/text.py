"""One readable log line per alert (pure), from the message table (edge/i18n/table.py).

``alert.log.<type>.<reason>`` or ``alert.log.<type>`` when the table has it; otherwise the alert's
title and its fields as ``name value`` pairs, so a new alert type is still one line, never a dict.
"""

from __future__ import annotations

from typing import Any

from edge.i18n import DEFAULT_LANGUAGE, has, text


def _plain(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return str(v)


def alert_line(type_: str, fields: dict[str, Any], language: str = DEFAULT_LANGUAGE) -> str:
    shown = {k: _plain(v) for k, v in fields.items()}
    for key in (f"alert.log.{type_}.{fields.get('reason')}", f"alert.log.{type_}"):
        if has(key):
            return text(key, language, **shown)
    title = text(f"alert.title.{type_}", language) if has(f"alert.title.{type_}") else type_
    details = ", ".join(f"{k} {v}" for k, v in shown.items() if v not in ("None", ""))
    return text("alert.log.other", language, title=title, details=details)
