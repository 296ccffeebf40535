"""The term report: every maintenance item and task (done on time, late, not at all) and every repair
request (response and repair times), for a period; markdown, CSV (UTF-8 with BOM) or xlsx.

``build`` reads the journal; the renderers are pure functions of the ``UpkeepReport``.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from edge.hub.journal import Journal
from edge.hub.upkeep import service, store
from edge.hub.upkeep.plans import timing
from edge.i18n import stamp, text

MAINT_COLUMNS = ("item", "task", "result", "due", "done", "by", "usage", "parts", "note")
REPAIR_COLUMNS = ("id", "place", "description", "reporter", "reported", "state", "response", "repair")

@dataclass
class UpkeepReport:
    start: date
    end: date  # included
    language: str
    tz_name: str
    generated: str
    maintenance: list[dict[str, Any]] = field(default_factory=list)
    repairs: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)

    def t(self, key: str, **kw: Any) -> str:
        return text(key, self.language, **kw)


def duration(ms: int | None, lang: str) -> str:
    if ms is None:
        return ""
    minutes = ms / 60_000
    if minutes < 120:
        return text("upkeep.duration.minutes", lang, n=f"{minutes:.0f}")
    if minutes < 48 * 60:
        return text("upkeep.duration.hours", lang, n=f"{minutes / 60:.1f}")
    return text("upkeep.duration.days", lang, n=f"{minutes / 1440:.1f}")


def _bounds(start: date, end: date, tz: tzinfo | None) -> tuple[int, int]:
    def ms(d: date) -> int:
        dt = datetime(d.year, d.month, d.day, tzinfo=tz)
        return int((dt if dt.tzinfo else dt.astimezone()).timestamp() * 1000)
    return ms(start), ms(end + timedelta(days=1))


def _usage(s: dict[str, Any]) -> str:
    parts = []
    if s.get("litres") is not None:
        parts.append(f"{s['litres']:.0f} L")
    if s.get("on_hours") is not None:
        parts.append(f"{s['on_hours']:.1f} h")
    if s.get("days") is not None:
        parts.append(f"{s['days']:.0f} d")
    return ", ".join(parts)


def build(journal: Journal, cfg: dict[str, Any], start: date, end: date, tz: tzinfo | None,
          now_ms: int | None = None) -> UpkeepReport:
    lang = cfg["language"]
    store.open_tables(journal)
    now = int(time.time() * 1000) if now_ms is None else now_ms
    lo, hi = _bounds(start, end, tz)
    rep = UpkeepReport(start, end, lang, getattr(tz, "key", None) or "local", stamp(now, tz))
    grace = int(cfg["upkeep"]["grace_days"] * 86_400_000)
    done = service.services(journal, lo, hi)
    due_rows = {(i, t): d for i, t, d in journal.db.query("SELECT item, task, due_since_ms FROM upkeep_due")}
    counts = {"on_time": 0, "late": 0, "missed": 0}
    for item in cfg.get("maintenance") or []:
        for task in item["tasks"]:
            mine = [s for s in done if s["item"] == item["id"] and s["task"] == task["id"]]
            base = {"item": service.item_place(item), "task": service.task_name(task)}
            for s in mine:
                result = timing(s["due_since_ms"], s["ts_ms"], grace)
                counts[result] += 1
                rep.maintenance.append({**base, "result": rep.t(f"upkeep.timing.{result}"),
                                        "due": stamp(s["due_since_ms"], tz)[:16] if s["due_since_ms"] else "",
                                        "done": stamp(s["ts_ms"], tz)[:16], "by": s["by"], "usage": _usage(s),
                                        "parts": s["parts"], "note": s["note"], "code": result})
            due = due_rows.get((item["id"], task["id"]))
            if due is not None and due < min(hi, now):
                counts["missed"] += 1
                rep.maintenance.append({**base, "result": rep.t("upkeep.timing.missed"),
                                        "due": stamp(due, tz)[:16], "done": "", "by": "", "usage": "",
                                        "parts": "", "note": "", "code": "missed"})
            elif not mine:
                rep.maintenance.append({**base, "result": rep.t("upkeep.timing.not_due"), "due": "",
                                        "done": "", "by": "", "usage": "", "parts": "", "note": "",
                                        "code": "not_due"})
    responses, fixes = [], []
    for r in service.repairs(journal, since_ms=lo, until_ms=hi):
        resp, fix = service.response_ms(r), service.repair_ms(r)
        if resp is not None:
            responses.append(resp)
        if fix is not None:
            fixes.append(fix)
        state = rep.t(f"upkeep.repair.state.{r['state']}")
        if r["state"] == "deferred":
            state += "：" if lang == "zh-CN" else ": "
            state += rep.t("upkeep.repair.deferred", reason=r["reason"] or "", date=r["expected_date"] or "")
        rep.repairs.append({"id": r["id"], "place": r["place"], "description": r["description"],
                            "reporter": r["by"], "reported": stamp(r["reported_ms"], tz)[:16], "state": state,
                            "response": duration(resp, lang), "repair": duration(fix, lang),
                            "response_ms": resp, "repair_ms": fix})
    rep.counts = {**counts, "repairs": len(rep.repairs), "fixed": len(fixes),
                  "response": duration(int(sum(responses) / len(responses)), lang) if responses else "-",
                  "repair": duration(int(sum(fixes) / len(fixes)), lang) if fixes else "-"}
    return rep


def _heads(rep: UpkeepReport, cols: tuple[str, ...]) -> list[str]:
    return [rep.t(f"upkeep.col.{c}") for c in cols]


def _rows(rows: list[dict[str, Any]], cols: tuple[str, ...]) -> list[list[Any]]:
    return [[r[c] for c in cols] for r in rows]


def _md(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def to_markdown(rep: UpkeepReport) -> str:
    out = [f"# {rep.t('upkeep.report.title', start=rep.start, end=rep.end)}", "",
           rep.t("upkeep.report.generated", stamp=rep.generated, tz=rep.tz_name), "",
           rep.t("upkeep.report.summary", **rep.counts), ""]
    for title, rows, cols in (("upkeep.report.maintenance", rep.maintenance, MAINT_COLUMNS),
                              ("upkeep.report.repairs", rep.repairs, REPAIR_COLUMNS)):
        out += [f"## {rep.t(title)}", "", "| " + " | ".join(_heads(rep, cols)) + " |",
                "|" + "---|" * len(cols)]
        out += ["| " + " | ".join(_md(v) for v in r) + " |" for r in _rows(rows, cols)]
        out.append("")
    return "\n".join(out)


def to_csv(rep: UpkeepReport) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([rep.t("upkeep.report.title", start=rep.start, end=rep.end)])
    w.writerow([rep.t("upkeep.report.summary", **rep.counts)])
    for title, rows, cols in (("upkeep.report.maintenance", rep.maintenance, MAINT_COLUMNS),
                              ("upkeep.report.repairs", rep.repairs, REPAIR_COLUMNS)):
        w.writerow([])
        w.writerow([rep.t(title)])
        w.writerow(_heads(rep, cols))
        w.writerows(_rows(rows, cols))
    return "\ufeff" + buf.getvalue()


def to_xlsx(rep: UpkeepReport) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    first = True
    for title, rows, cols in (("upkeep.report.maintenance", rep.maintenance, MAINT_COLUMNS),
                              ("upkeep.report.repairs", rep.repairs, REPAIR_COLUMNS)):
        ws = wb.active if first else wb.create_sheet()
        ws.title = rep.t(title)[:31]
        if first:
            ws.append([rep.t("upkeep.report.title", start=rep.start, end=rep.end)])
            ws["A1"].font = Font(bold=True, size=14)
            ws.append([rep.t("upkeep.report.summary", **rep.counts)])
            ws.append([])
        first = False
        ws.append(_heads(rep, cols))
        for cell in ws[ws.max_row]:
            cell.font = Font(bold=True)
        for r in _rows(rows, cols):
            ws.append(r)
        for col in ws.columns:
            width = max(len(str(c.value or "")) for c in col[3:] or col)
            ws.column_dimensions[col[0].column_letter].width = min(50, max(8, width * 1.6))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
