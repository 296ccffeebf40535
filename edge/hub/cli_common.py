"""What the hub's command modules share (edge/hub/cli.py, edge/hub/upkeep/cli.py): the usage error, the
hub config and journal named on the command line, local days, terminal widths. Its own module so that
the hub CLI can register upkeep's commands without the two importing each other."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any


class UsageError(Exception):
    """A bad argument: printed without a traceback, exit 2."""


def hub_config(args: argparse.Namespace) -> dict[str, Any]:
    from edge.hub.config import load_hub_config

    path = getattr(args, "config", None) or getattr(args, "hub_config", None)
    if not path:
        raise UsageError("give the hub config with -c FILE")
    return load_hub_config(path)


def open_journal(cfg: dict[str, Any]) -> Any:
    from edge.hub.config import timezone_of
    from edge.hub.journal import Journal

    path = Path(cfg["storage"]["path"])
    if not path.exists():
        raise FileNotFoundError(f"no journal at {path} (has the hub run with this config?)")
    return Journal(path, timezone_of(cfg))


def parse_day(text: str | None, tz: Any) -> date:
    if text is None:
        from edge.i18n import local

        return local(int(time.time() * 1000), tz).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"not a date: {text!r} (use YYYY-MM-DD, e.g. 2026-12-01)") from None


def width(s: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def write_report(report: Any, rep: Any, fmt: str, output: str | None) -> bool:
    """A report in ``fmt`` (md, csv, xlsx) to the file ``output``, or to stdout (md, csv) when it is
    missing or "-". True when it went to a file (the caller then says so on stderr)."""
    if fmt == "xlsx":
        Path(str(output)).write_bytes(report.to_xlsx(rep))
        return True
    out = report.to_markdown(rep) if fmt == "md" else report.to_csv(rep)
    if not output or output == "-":
        sys.stdout.write(out.lstrip("\ufeff"))  # the BOM is for spreadsheets opening a file
        return False
    Path(output).write_text(out, encoding="utf-8")
    return True
