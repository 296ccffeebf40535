"""`campus-edge bridge` and `campus-edge history` (registered by edge/cli.py through add_parsers)."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from typing import Any

EXIT_CONFIG = 2


def cmd_bridge(args: argparse.Namespace) -> int:
    from edge.bridge.app import Bridge
    from edge.bridge.config import load_bridge_config
    from edge.cli import _run_until_signal

    cfg = load_bridge_config(args.config)
    if args.check:
        sink = cfg["sink"]
        where = sink["url"] if sink["type"] == "influxdb" else sink["path"]
        print(f"{args.config}: OK (sink {sink['type']} {where}, buffer {cfg['storage']['path']})")
        return 0
    bridge = Bridge(cfg)
    _run_until_signal(bridge.run, bridge.stop)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from edge.bridge import history

    path = args.db
    cfg: dict[str, Any] | None = None
    if path is None:
        from edge.bridge.config import load_bridge_config

        cfg = load_bridge_config(args.config)
        if cfg["sink"]["type"] != "sqlite":
            print(f"{args.config}: history reads the sqlite sink; this bridge writes to "
                  f"{cfg['sink']['url']} (use Grafana or the database's own tools)", file=sys.stderr)
            return EXIT_CONFIG
        path = cfg["sink"]["path"]
    parts = args.device.split("/")
    if len(parts) != 3 or not all(parts):
        print(f"DEVICE must be SITE/NODE/DEVICE, got {args.device!r}", file=sys.stderr)
        return EXIT_CONFIG
    tz = history_zone(args, cfg)
    try:
        start, end = history.parse_time(args.since, tz=tz), history.parse_time(args.until, tz=tz)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    fields = [f for f in (args.field or []) if f]
    try:
        rows = history.query(path, parts[0], parts[1], parts[2], start, end, args.measurement, fields or None)
    except FileNotFoundError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        print(f"cannot read the history database {path}: {exc}", file=sys.stderr)
        return 1
    text = history.to_csv(rows, tz) if args.format == "csv" else history.to_table(rows, tz)
    if args.output and args.output != "-":
        try:
            with open(args.output, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        except OSError as exc:
            print(f"cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
            return EXIT_CONFIG
        print(f"{len(rows)} row(s) written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def history_zone(args: argparse.Namespace, cfg: dict[str, Any] | None) -> Any:
    """--timezone, else the bridge config's `timezone`, else the machine's zone."""
    from zoneinfo import ZoneInfo

    from edge.bridge import history

    name = getattr(args, "timezone", None) or (cfg or {}).get("timezone")
    return ZoneInfo(name) if name else history.local_zone()


def add_parsers(sub: Any) -> None:
    b = sub.add_parser("bridge", help="run the MQTT -> time-series database bridge",
                       description="Subscribe to every node's telemetry, events and relay states and write "
                       "them to InfluxDB (or a local SQLite file), acknowledging each message only once "
                       "it is stored. Runs until SIGTERM/SIGINT.")
    b.add_argument("-c", "--config", required=True, metavar="FILE", help="bridge config (YAML)")
    b.add_argument("--check", action="store_true", help="validate the config and exit (2 on mistakes)")
    b.set_defaults(func=cmd_bridge)

    h = sub.add_parser("history", help="print or export a device's series from the bridge's SQLite store",
                       description="Print (or export as CSV) what the bridge stored for SITE/NODE/DEVICE "
                       "between --since and --until. Times: now, 2h, 7d (that long ago), epoch ms, or "
                       "ISO 8601 (local time unless an offset is given: a date alone is local midnight).")
    h.add_argument("device", metavar="SITE/NODE/DEVICE")
    src = h.add_mutually_exclusive_group(required=True)
    src.add_argument("-c", "--config", metavar="FILE", help="bridge config (its sqlite sink is read)")
    src.add_argument("--db", metavar="FILE", help="the SQLite history file itself")
    h.add_argument("--since", default="24h", help="start (default 24h ago)")
    h.add_argument("--until", default="now", help="end, exclusive (default now)")
    h.add_argument("--measurement", help="only this measurement (a kind, `event` or `state`)")
    h.add_argument("--field", action="append", help="only this field (repeatable)")
    h.add_argument("--format", choices=("table", "csv"), default="table")
    h.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    h.add_argument("--timezone", metavar="ZONE", help="IANA zone for printed times and --since/--until "
                   "without an offset (default: the bridge config's timezone, else the machine's)")
    h.set_defaults(func=cmd_history)
