"""`campus-edge hub ...`: run the hub, list alerts, acknowledge and close them, the daily report.

The journal commands work on the journal file directly, also while the hub runs (WAL, short
transactions). Registered by edge/cli.py through add_parsers.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from datetime import datetime
from typing import Any

from edge.hub.cli_common import UsageError, hub_config, open_journal, parse_day, width, write_report

EXIT_CONFIG = 2
_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)([mhd])")
_UNIT = {"m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, tz: Any, now_ms: int | None = None) -> int:
    """`2h`, `7d`, `90m` ago, or a local date / date-time (2026-12-01, 2026-12-01T07:30) -> epoch ms."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    t = text.strip()
    m = _RELATIVE.fullmatch(t)
    if m:
        return now - int(float(m.group(1)) * _UNIT[m.group(2)] * 1000)
    try:
        dt = datetime.fromisoformat(t)
    except ValueError:
        raise UsageError(f"not a time: {text!r} (use 90m, 2h, 7d, 2026-12-01 or 2026-12-01T07:30)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=tz) if tz is not None else dt.astimezone()
    return int(dt.timestamp() * 1000)


def cmd_hub(args: argparse.Namespace) -> int:
    sub = getattr(args, "hub_func", None)
    try:
        if sub is not None:
            return sub(args)
        return _run(args)
    except UsageError as exc:
        print(f"campus-edge hub: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except FileNotFoundError as exc:
        print(f"campus-edge hub: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    from edge.cli import _run_until_signal
    from edge.hub.app import Hub

    cfg = hub_config(args)
    if args.check:
        print(f"{args.hub_config}: OK (sites {', '.join(cfg['site'])}, journal {cfg['storage']['path']}, "
              f"{len(cfg['channels'])} channel(s), {len(cfg['rules'])} rule(s))")
        return 0
    # httpx logs each request with its whole URL at INFO: a robot's webhook URL is its password
    logging.getLogger("httpx").setLevel(logging.WARNING)
    hub = Hub(cfg)
    console = None
    if cfg["web"]["enabled"]:  # the web console (edge/hub/web): uvicorn in a thread of this process
        from edge.hub.web import start_console

        try:
            console = start_console(hub, cfg)
        except OSError as exc:  # the port is taken, or the address is not this machine's
            print(f"campus-edge hub: {exc}", file=sys.stderr)
            return 1
    try:
        _run_until_signal(hub.run, hub.stop)
    finally:
        if console is not None:
            console.stop()
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from edge.hub.config import timezone_of
    from edge.hub.model import STATES
    from edge.hub.report import day_bounds
    from edge.i18n import stamp, text

    cfg = hub_config(args)
    tz = timezone_of(cfg)
    types = [t for v in args.type or [] for t in v.split(",") if t]
    if args.state and args.state not in STATES:
        raise UsageError(f"--state must be one of {', '.join(STATES)}")
    since = until = None
    if args.date:
        since, until = day_bounds(parse_day(args.date, tz), tz)
    if args.since:
        since = parse_since(args.since, tz)
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    journal = open_journal(cfg)
    try:
        alerts = journal.alerts(types=types or None, state=args.state, site=args.site, since_ms=since,
                                until_ms=until, limit=args.limit)
    finally:
        journal.shutdown()
    lang = cfg["language"]
    rows = [("ID", "TIME", "TYPE", "PLACE", "NODE/DEVICE", "STATE", "DETAIL")]
    for a in alerts:
        temp = a.fields.get("temp_c")
        detail = f"{temp:.1f} °C" if isinstance(temp, int | float) else str(a.fields.get("reason", ""))
        title = text(f"alert.title.{a.type}", lang) if _has(f"alert.title.{a.type}") else a.type
        rows.append((str(a.id), stamp(a.ts_ms, tz), title, a.place, f"{a.node}/{a.device}".rstrip("/"),
                     text(f"state.{a.state}", lang), detail))
    widths = [max(width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c + " " * (w - width(c)) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def _has(key: str) -> bool:
    from edge.i18n import has

    return has(key)


def cmd_ack(args: argparse.Namespace) -> int:
    from edge.hub.journal import LifecycleError

    journal = open_journal(hub_config(args))
    try:
        alert = journal.acknowledge(args.id, args.by, int(time.time() * 1000))
    except LifecycleError as exc:
        raise UsageError(str(exc)) from None
    finally:
        journal.shutdown()
    print(f"alert {alert.id} acknowledged by {args.by}")
    return 0


def cmd_close(args: argparse.Namespace) -> int:
    from edge.hub.journal import LifecycleError

    journal = open_journal(hub_config(args))
    try:
        alert = journal.close(args.id, args.by, int(time.time() * 1000), args.outcome, args.reading,
                              args.note or "")
    except LifecycleError as exc:
        raise UsageError(str(exc)) from None
    finally:
        journal.shutdown()
    print(f"alert {alert.id} closed by {args.by}: {args.outcome}"
          + (f", reading {args.reading:.1f} °C" if args.reading is not None else ""))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from edge.hub import report
    from edge.hub.config import timezone_of

    cfg = hub_config(args)
    tz = timezone_of(cfg)
    day = parse_day(args.date, tz)
    if args.format == "xlsx" and (not args.output or args.output == "-"):
        raise UsageError("xlsx needs -o FILE")
    journal = open_journal(cfg)
    try:
        rep = report.build(journal, day, tz, cfg["language"], cfg["site"])
    finally:
        journal.shutdown()
    if not write_report(report, rep, args.format, args.output):
        return 0
    print(f"report for {day.isoformat()} written to {args.output} ({len(rep.gates)} gate(s), "
          f"{len(rep.alerts)} alert(s))", file=sys.stderr)
    return 0


def add_parsers(sub: Any) -> None:
    h = sub.add_parser("hub", help="run the campus hub (alert journal, notifications); manage alerts",
                       description="Without a sub-command: run the hub (journal every node's events, notify "
                       "staff by its rules) until SIGTERM/SIGINT. The sub-commands work on the journal file "
                       "directly, also while the hub runs.")
    h.add_argument("-c", "--config", dest="hub_config", metavar="FILE", help="hub config (YAML)")
    h.add_argument("--check", action="store_true", help="validate the config and exit (2 on mistakes)")
    h.set_defaults(func=cmd_hub, hub_func=None)
    hs = h.add_subparsers(dest="hub_command", metavar="SUBCOMMAND")

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("-c", "--config", metavar="FILE", help="hub config (YAML)")

    a = hs.add_parser("alerts", help="list alerts (newest first, local time)")
    common(a)
    a.add_argument("--type", action="append", help="only these types (repeatable or comma-separated)")
    a.add_argument("--state", help="new, acknowledged or closed")
    a.add_argument("--site", help="only this site")
    a.add_argument("--since", help="from: 90m, 2h, 7d ago, or a local date/time (2026-12-01T07:00)")
    a.add_argument("--date", help="one local day (YYYY-MM-DD)")
    a.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    a.set_defaults(hub_func=cmd_alerts)

    k = hs.add_parser("ack", help="acknowledge an alert")
    common(k)
    k.add_argument("id", type=int, metavar="ID")
    k.add_argument("--by", required=True, metavar="NAME", help="who acknowledges")
    k.set_defaults(hub_func=cmd_ack)

    c = hs.add_parser("close", help="close an alert with its outcome (and the re-check reading)")
    common(c)
    c.add_argument("id", type=int, metavar="ID")
    c.add_argument("--outcome", required=True, help="fever: cleared, parents_called, sent_home, "
                   "sent_to_clinic; leak: valve_closed, repaired, false_alarm; others: resolved, false_alarm")
    c.add_argument("--reading", type=float, help="handheld/clinical thermometer reading, degC")
    c.add_argument("--note", help="free text")
    c.add_argument("--by", required=True, metavar="NAME", help="who closes it")
    c.set_defaults(hub_func=cmd_close)

    r = hs.add_parser("report", help="the daily health report (per gate, then each alert)")
    common(r)
    r.add_argument("--date", help="local day, YYYY-MM-DD (default today)")
    r.add_argument("--format", choices=("md", "csv", "xlsx"), default="md")
    r.add_argument("-o", "--output", metavar="FILE", help="write to FILE (required for xlsx)")
    r.set_defaults(hub_func=cmd_report)

    from edge.hub.web.cli import add_parser as add_console_parser  # the console's accounts

    add_console_parser(hs, common, lambda fn: lambda args: fn(args, hub_config(args)))

    from edge.hub.upkeep.cli import add_parsers as add_upkeep  # maintenance, repairs, patrol sheet (#14)

    add_upkeep(hs, common)
