"""`campus-edge hub maintenance | service | upkeep-report | repair ... | patrol-sheet`.

Registered by edge/hub/cli.py; like the other journal commands they work on the journal file directly,
also while the hub runs. The console calls the same functions (edge/hub/upkeep/service.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from edge.hub.cli_common import UsageError, hub_config, open_journal, parse_day, width, write_report


def _table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c + " " * (w - width(c)) for c, w in zip(r, widths, strict=True)).rstrip())


def _lifecycle(fn: Any) -> Any:
    from edge.hub.journal import LifecycleError

    try:
        return fn()
    except LifecycleError as exc:
        raise UsageError(str(exc)) from None


def _left(task: dict[str, Any], st: Any, now_ms: int, tz: Any) -> str:
    from edge.i18n import stamp

    parts = []
    if st.litres_left is not None:
        parts.append(f"{max(0.0, st.litres_left):,.0f} L")
    if st.on_hours_left is not None:
        parts.append(f"{max(0.0, st.on_hours_left):,.1f} h")
    if st.due_date_ms is not None:
        parts.append(stamp(st.due_date_ms, tz)[:10])
    return " / ".join(parts) or "-"


def cmd_maintenance(args: argparse.Namespace) -> int:
    from edge.hub.config import timezone_of
    from edge.hub.upkeep.service import maintenance_view
    from edge.i18n import stamp

    cfg = hub_config(args)
    tz = timezone_of(cfg)
    journal = open_journal(cfg)
    now = int(time.time() * 1000)
    try:
        view = maintenance_view(journal, cfg, tz, now)
    finally:
        journal.shutdown()
    rows = [("ITEM", "TASK", "USED SINCE SERVICE", "NEXT DUE (LEFT / DATE)", "STATE", "LAST SERVICE")]
    for item in view:
        for t in item["tasks"]:
            st = t["status"]
            used = [f"{st.litres:,.0f} L" if st.litres is not None else "",
                    f"{st.on_hours:,.1f} h" if st.on_hours is not None else "", f"{st.days:.0f} d"]
            state = ("DUE: " + t["reasons"]) if st.due else "ok"
            last = (f"{stamp(t['last_service_ms'], tz)[:16]} {t['last_service_by']}"
                    if t["last_service_ms"] else "-")
            rows.append((f"{item['id']} ({item['name']})", t["id"], " ".join(u for u in used if u),
                         _left(t["task"], st, now, tz), state, last))
    if len(rows) == 1:
        print("no maintenance items in the hub config (`maintenance:`, docs/upkeep.md)")
        return 0
    _table(rows)
    return 0


def cmd_service(args: argparse.Namespace) -> int:
    from edge.hub.upkeep.service import record_service

    cfg = hub_config(args)
    journal = open_journal(cfg)
    try:
        rec = _lifecycle(lambda: record_service(journal, cfg, args.item, args.task, args.by, args.note or "",
                                                args.parts or "", args.photo))
    finally:
        journal.shutdown()
    print(f"service record {rec['id']}: {args.item} / {args.task} by {args.by} ({rec['timing']}); "
          "counters reset")
    return 0


def cmd_upkeep_report(args: argparse.Namespace) -> int:
    from edge.hub.config import timezone_of
    from edge.hub.upkeep import report

    cfg = hub_config(args)
    tz = timezone_of(cfg)
    start, end = parse_day(args.start, tz), parse_day(args.end, tz)
    if end < start:
        raise UsageError("--to is before --from")
    if args.format == "xlsx" and (not args.output or args.output == "-"):
        raise UsageError("xlsx needs -o FILE")
    journal = open_journal(cfg)
    try:
        rep = report.build(journal, cfg, start, end, tz)
    finally:
        journal.shutdown()
    if not write_report(report, rep, args.format, args.output):
        return 0
    print(f"upkeep report {start}..{end} written to {args.output} ({len(rep.maintenance)} task row(s), "
          f"{len(rep.repairs)} repair request(s))", file=sys.stderr)
    return 0


def cmd_repair(args: argparse.Namespace) -> int:
    from edge.hub.config import timezone_of
    from edge.hub.upkeep import service
    from edge.hub.upkeep.report import duration
    from edge.i18n import stamp

    cfg = hub_config(args)
    tz = timezone_of(cfg)
    journal = open_journal(cfg)
    try:
        if args.repair_action == "add":
            r = _lifecycle(lambda: service.add_repair(journal, cfg, args.place, args.description, args.by,
                                                      args.photo))
            print(f"repair request {r['id']} reported by {r['by']}: {r['place']}")
            return 0
        if args.repair_action == "list":
            items = service.repairs(journal, state=args.state)
            rows = [("ID", "REPORTED", "PLACE", "DESCRIPTION", "BY", "STATE", "RESPONSE", "REPAIR")]
            for r in items:
                state = r["state"] + (f" ({r['reason']}, expected {r['expected_date']})"
                                      if r["state"] == "deferred" else "")
                rows.append((str(r["id"]), stamp(r["reported_ms"], tz)[:16], r["place"],
                             r["description"][:60], r["by"], state, duration(service.response_ms(r), "en"),
                             duration(service.repair_ms(r), "en")))
            _table(rows)
            return 0
        r = _lifecycle(lambda: service.step_repair(journal, args.id, args.repair_action, args.by,
                                                   getattr(args, "reason", "") or "",
                                                   getattr(args, "expected_date", None),
                                                   getattr(args, "note", "") or "", cfg=cfg))
    finally:
        journal.shutdown()
    print(f"repair request {r['id']} is {r['state']}")
    return 0


def cmd_patrol_sheet(args: argparse.Namespace) -> int:
    from edge.hub.config import timezone_of
    from edge.hub.upkeep import sheet

    cfg = hub_config(args)
    tz = timezone_of(cfg)
    day = parse_day(args.date, tz)
    journal = open_journal(cfg)
    try:
        data = sheet.build(journal, day, tz, cfg["language"])
    finally:
        journal.shutdown()
    Path(args.output).write_bytes(sheet.contact_sheet(data))
    table = sheet.to_markdown(data) if args.table == "md" else sheet.to_csv(data)
    if args.table_output:
        Path(args.table_output).write_text(table, encoding="utf-8")
    else:
        sys.stdout.write(table.lstrip("\ufeff"))
    print(f"patrol sheet for {day}: {len(data.cameras)} camera(s), {len(data.outages)} outage(s); "
          f"image {args.output}", file=sys.stderr)
    return 0


def add_parsers(hs: Any, common: Any) -> None:
    m = hs.add_parser("maintenance", help="maintenance items: usage since the last service, next due")
    common(m)
    m.set_defaults(hub_func=cmd_maintenance)

    s = hs.add_parser("service", help="record a service (resets the task's counters)")
    common(s)
    s.add_argument("item", metavar="ITEM")
    s.add_argument("task", metavar="TASK")
    s.add_argument("--by", required=True, metavar="NAME", help="who did it")
    s.add_argument("--note", help="what was done")
    s.add_argument("--parts", help="parts replaced, e.g. 'PP filter x1, carbon filter x1'")
    s.add_argument("--photo", metavar="FILE", help="a photo, kept beside the journal")
    s.set_defaults(hub_func=cmd_service)

    r = hs.add_parser("upkeep-report", help="term report: maintenance done on time / late / not at all, "
                      "repair response and repair times")
    common(r)
    r.add_argument("--from", dest="start", required=True, metavar="YYYY-MM-DD", help="first local day")
    r.add_argument("--to", dest="end", required=True, metavar="YYYY-MM-DD", help="last local day (included)")
    r.add_argument("--format", choices=("md", "csv", "xlsx"), default="md")
    r.add_argument("-o", "--output", metavar="FILE", help="write to FILE (required for xlsx)")
    r.set_defaults(hub_func=cmd_upkeep_report)

    rp = hs.add_parser("repair", help="repair requests: add, accept, fix, defer, list")
    common(rp)
    rs = rp.add_subparsers(dest="repair_action", metavar="ACTION", required=True)
    add = rs.add_parser("add", help="report a fault (the logistics office is notified)")
    common(add)
    add.add_argument("--place", required=True)
    add.add_argument("--description", required=True)
    add.add_argument("--photo", metavar="FILE")
    add.add_argument("--by", required=True, metavar="NAME")
    lst = rs.add_parser("list", help="list requests with response and repair times")
    common(lst)
    lst.add_argument("--state", help="open, reported, accepted, fixed, deferred or recovered")
    for name, what in (("accept", "accept a request"), ("fix", "mark it fixed"),
                       ("defer", "cannot fix now: give the reason and the expected date")):
        p = rs.add_parser(name, help=what)
        common(p)
        p.add_argument("id", type=int, metavar="ID")
        p.add_argument("--by", required=True, metavar="NAME")
        if name == "defer":
            p.add_argument("--reason", required=True)
            p.add_argument("--expected-date", required=True, metavar="YYYY-MM-DD")
        if name == "fix":
            p.add_argument("--note")
    rp.set_defaults(hub_func=cmd_repair)

    ps = hs.add_parser("patrol-sheet", help="the daily camera patrol sheet: a PNG contact sheet and the "
                       "table of outages")
    common(ps)
    ps.add_argument("--date", help="local day, YYYY-MM-DD (default today)")
    ps.add_argument("-o", "--output", required=True, metavar="PNG", help="the contact sheet")
    ps.add_argument("--table", choices=("md", "csv"), default="md")
    ps.add_argument("--table-output", metavar="FILE", help="write the table here (default stdout)")
    ps.set_defaults(hub_func=cmd_patrol_sheet)
