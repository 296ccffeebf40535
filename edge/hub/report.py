"""The daily health report the school sends to the education bureau: per gate, then each alert.

Per gate (a thermal camera device): people screened, fever alerts, re-checks and passes not screened,
for one local day. Screened counts come from the cameras' telemetry windows the journal keeps
(``screening`` table, summed per device over the day; a window is counted on the day it was sent);
fever alerts, re-checks and "not screened" passes are the journal's alerts of those types, so the
report and the alert list always agree. Then each such alert: local time, place, temperature, state,
outcome, the handheld re-check reading and who handled it.

``build`` gathers (reads the journal), ``to_markdown`` / ``to_csv`` / ``to_xlsx`` only format.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from edge.hub.journal import Journal
from edge.hub.model import CLOSED
from edge.i18n import local, stamp, text

HEALTH_TYPES = ("fever", "recheck", "unscreened")
GATE_COLUMNS = ("gate", "screened", "fevers", "rechecks", "unscreened")
ALERT_COLUMNS = ("id", "time", "type", "place", "temp", "state", "outcome", "reading", "by", "note")


@dataclass
class Report:
    day: date
    language: str
    tz_name: str
    sites: list[str]
    generated: str
    gates: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def t(self, key: str, **fields: Any) -> str:
        return text(key, self.language, **fields)


def day_bounds(day: date, tz: tzinfo | None) -> tuple[int, int]:
    """[start, end) of a local day in ms since the epoch (23 or 25 hours on DST days)."""
    start = datetime.combine(day, datetime.min.time())
    end = datetime.combine(day + timedelta(days=1), datetime.min.time())
    if tz is None:
        return int(start.astimezone().timestamp() * 1000), int(end.astimezone().timestamp() * 1000)
    return int(start.replace(tzinfo=tz).timestamp() * 1000), int(end.replace(tzinfo=tz).timestamp() * 1000)


def build(journal: Journal, day: date, tz: tzinfo | None, language: str, sites: list[str],
          now_ms: int | None = None) -> Report:
    start, end = day_bounds(day, tz)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    tz_name = getattr(tz, "key", None) or local(now_ms, tz).tzname() or ""
    rep = Report(day, language, tz_name, sites, stamp(now_ms, tz))
    alerts = [a for a in journal.alerts(types=HEALTH_TYPES, since_ms=start, until_ms=end, limit=None)
              if a.site in sites]
    alerts.sort(key=lambda a: (a.ts_ms, a.id))
    names = {}
    for (site, node), n in journal.nodes().items():
        for d in (n["info"] or {}).get("devices", []):
            names[(site, node, d["id"])] = d.get("name") or d["id"]
    gates: dict[tuple[str, str, str], dict[str, Any]] = {}

    for a in alerts:  # the name an alert was journalled with, when the node's info is gone
        names.setdefault((a.site, a.node, a.device), a.place or a.device)

    def gate(site: str, node: str, device: str) -> dict[str, Any]:
        key = (site, node, device)
        if key not in gates:
            gates[key] = {"site": site, "node": node, "device": device,
                          "gate": names.get(key, device), "screened": 0, "fevers": 0, "rechecks": 0,
                          "unscreened": 0}
        return gates[key]

    for site, node, device, counts in journal.screening_totals(start, end):
        if site in sites:
            gate(site, node, device)["screened"] += counts["screened"]
    for a in alerts:
        g = gate(a.site, a.node, a.device)
        g[{"fever": "fevers", "recheck": "rechecks", "unscreened": "unscreened"}[a.type]] += 1
    rep.gates = [gates[k] for k in sorted(gates)]
    for a in alerts:
        closed = [x for x in journal.actions(a.id) if x.action == CLOSED]
        acts = journal.actions(a.id)
        last = closed[-1] if closed else None
        temp = a.fields.get("temp_c")
        rep.alerts.append({
            "id": a.id,
            "time": local(a.ts_ms, tz).strftime("%H:%M:%S"),
            "type": rep.t(f"alert.title.{a.type}"),
            "place": a.place or a.device,
            "temp": f"{temp:.1f}" if isinstance(temp, int | float) and not isinstance(temp, bool) else "",
            "state": rep.t(f"state.{a.state}"),
            "outcome": rep.t(f"outcome.{last.outcome}") if last and last.outcome else "",
            "reading": f"{last.reading_c:.1f}" if last and last.reading_c is not None else "",
            "by": ", ".join(dict.fromkeys(x.by for x in acts)),
            "note": last.note if last else "",
        })
    return rep


def _gate_rows(rep: Report) -> list[list[Any]]:
    rows = [[g[c] for c in GATE_COLUMNS] for g in rep.gates]
    if len(rep.gates) > 1:
        rows.append([rep.t("hub.report.total")] + [sum(g[c] for g in rep.gates) for c in GATE_COLUMNS[1:]])
    return rows


def _heads(rep: Report, cols: tuple[str, ...]) -> list[str]:
    return [rep.t(f"hub.col.{c}") for c in cols]


def _md_escape(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def to_markdown(rep: Report) -> str:
    out = [f"# {rep.t('hub.report.title', date=rep.day.isoformat())}", "",
           rep.t("hub.report.sites", sites=", ".join(rep.sites)), "",
           rep.t("hub.report.generated", stamp=rep.generated, tz=rep.tz_name), "",
           f"## {rep.t('hub.report.gates')}", ""]

    def table(heads: list[str], rows: list[list[Any]]) -> list[str]:
        lines = ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
        lines += ["| " + " | ".join(_md_escape(v) for v in r) + " |" for r in rows]
        return lines

    out += table(_heads(rep, GATE_COLUMNS), _gate_rows(rep)) if rep.gates else [rep.t("hub.report.none")]
    out += ["", f"## {rep.t('hub.report.alerts')}", ""]
    if rep.alerts:
        out += table(_heads(rep, ALERT_COLUMNS), [[a[c] for c in ALERT_COLUMNS] for a in rep.alerts])
    else:
        out.append(rep.t("hub.report.none"))
    return "\n".join(out) + "\n"


def to_csv(rep: Report) -> str:
    """Two tables in one file, separated by a blank line; UTF-8 with BOM so Excel reads the Chinese."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([rep.t("hub.report.title", date=rep.day.isoformat())])
    w.writerow([rep.t("hub.report.gates")])
    w.writerow(_heads(rep, GATE_COLUMNS))
    w.writerows(_gate_rows(rep))
    w.writerow([])
    w.writerow([rep.t("hub.report.alerts")])
    w.writerow(_heads(rep, ALERT_COLUMNS))
    w.writerows([[a[c] for c in ALERT_COLUMNS] for a in rep.alerts])
    return "\ufeff" + buf.getvalue()


def to_xlsx(rep: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = rep.t("hub.report.gates")[:31]
    ws.append([rep.t("hub.report.title", date=rep.day.isoformat())])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([rep.t("hub.report.generated", stamp=rep.generated, tz=rep.tz_name)])
    ws.append([])
    ws.append(_heads(rep, GATE_COLUMNS))
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for r in _gate_rows(rep):
        ws.append(r)
    ws2 = wb.create_sheet(rep.t("hub.report.alerts")[:31])
    ws2.append(_heads(rep, ALERT_COLUMNS))
    for cell in ws2[1]:
        cell.font = Font(bold=True)
    for a in rep.alerts:
        row = [a[c] for c in ALERT_COLUMNS]
        for i, c in enumerate(ALERT_COLUMNS):  # numbers as numbers, so the bureau can sum and sort
            if c in ("temp", "reading") and row[i] != "":
                row[i] = float(row[i])
        ws2.append(row)
    for sheet in (ws, ws2):
        for col in sheet.columns:
            width = max(len(str(c.value or "")) for c in col)
            sheet.column_dimensions[col[0].column_letter].width = min(40, max(8, width * 1.6))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
