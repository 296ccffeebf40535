"""The daily health report: per gate, then each alert, in local time, zh-CN and en, md/csv/xlsx."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from edge.hub import report
from edge.hub.ingest import EventIn
from edge.hub.journal import Journal

SH = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 1)
START, END = report.day_bounds(DAY, SH)  # 2026-12-01 00:00 +08:00 = 2026-11-30 16:00 UTC


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    j = Journal(tmp_path / "hub.db", SH)
    j.save_info("s1", "gate-e", {"version": "1", "devices": [{"id": "cam-e", "name": "东门"}]})
    at = START + (7 * 60 + 42) * 60_000  # 07:42 local
    f = j.record_event(EventIn("s1", "gate-e", "cam-e", 1, at, "fever", {"temp_c": 38.14}), "东门", at)
    r = j.record_event(EventIn("s1", "gate-e", "cam-e", 2, at + 60_000, "recheck", {"temp_c": 37.2}), "东门",
                       at)
    j.record_event(EventIn("s1", "gate-w", "cam-w", 1, at + 120_000, "unscreened", {}), "西门", at)
    j.record_event(EventIn("s1", "gate-e", "cam-e", 3, START - 1, "fever", {"temp_c": 39.0}), "东门", at)
    j.record_event(EventIn("s1", "gate-e", "cam-e", 4, END, "fever", {"temp_c": 39.0}), "东门", at)
    j.record_event(EventIn("s1", "meters", "water", 1, at, "leak", {"reason": "burst"}), "水表", at)
    j.record_event(EventIn("s2", "gate-e", "cam-e", 1, at, "fever", {"temp_c": 38.5}), "x", at)  # other site
    j.acknowledge(f.id, "王老师", at + 30_000)
    j.close(f.id, "校医", at + 600_000, "sent_home", reading_c=37.9, note="家长已接")
    j.close(r.id, "王老师", at + 700_000, "cleared", reading_c=36.6)
    for seq, (ts, n) in enumerate([(START + 3_600_000, 100), (START + 7_200_000, 50), (END + 1, 999),
                                   (START - 1, 999)]):
        j.record_screening("s1", "gate-e", "cam-e", seq, ts, {"screened": n, "fevers": 0, "rechecks": 0,
                                                              "covered": 0, "unscreened": 0})
    yield j
    j.shutdown()


def test_figures_per_gate_and_alerts_of_the_local_day(journal: Journal) -> None:
    rep = report.build(journal, DAY, SH, "zh-CN", ["s1"], now_ms=END)
    gates = {g["gate"]: g for g in rep.gates}
    assert gates["东门"] | {} == {"site": "s1", "node": "gate-e", "device": "cam-e", "gate": "东门",
                                 "screened": 150, "fevers": 1, "rechecks": 1, "unscreened": 0}
    assert gates["西门"]["unscreened"] == 1 and gates["西门"]["screened"] == 0  # named as journalled
    assert [a["time"] for a in rep.alerts] == ["07:42:00", "07:43:00", "07:44:00"]  # local, in order
    fever = rep.alerts[0]
    assert fever["type"] == "发热预警" and fever["temp"] == "38.1" and fever["state"] == "已关闭"
    assert fever["outcome"] == "已送回家" and fever["reading"] == "37.9" and fever["by"] == "王老师, 校医"
    assert rep.alerts[2]["state"] == "待处理" and rep.alerts[2]["outcome"] == ""


def test_markdown_in_both_languages(journal: Journal) -> None:
    zh = report.to_markdown(report.build(journal, DAY, SH, "zh-CN", ["s1"], now_ms=END))
    assert "# 晨午检测温日报 2026-12-01" in zh and "| 东门 | 150 | 1 | 1 | 0 |" in zh
    assert "| 合计 | 150 | 1 | 1 | 1 |" in zh and "07:42:00" in zh and "已送回家" in zh
    en = report.to_markdown(report.build(journal, DAY, SH, "en", ["s1"], now_ms=END))
    assert "# Daily health screening report 2026-12-01" in en and "| Gate | Screened |" in en
    assert "| 07:42:00 | Fever | 东门 | 38.1 | Closed | Sent home | 37.9 |" in en
    assert "Asia/Shanghai" in en and "Water leak" not in en


def test_other_time_zone_moves_the_day(journal: Journal) -> None:
    utc = ZoneInfo("UTC")
    rep = report.build(journal, date(2026, 11, 30), utc, "en", ["s1"], now_ms=END)
    # 07:42 +08 is 23:42 UTC the day before; the fever at 23:59:59 +08 is 15:59:59 UTC
    assert [a["time"] for a in rep.alerts] == ["15:59:59", "23:42:00", "23:43:00", "23:44:00"]


def test_csv_and_xlsx(journal: Journal, tmp_path: Path) -> None:
    rep = report.build(journal, DAY, SH, "zh-CN", ["s1"], now_ms=END)
    text = report.to_csv(rep)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert ["测温点", "测温人数", "发热预警", "需复测", "未完成测温"] in rows
    assert any(r[:4] == [str(rep.alerts[0]["id"]), "07:42:00", "发热预警", "东门"] for r in rows)
    out = tmp_path / "r.xlsx"
    out.write_bytes(report.to_xlsx(report.build(journal, DAY, SH, "en", ["s1"], now_ms=END)))
    wb = load_workbook(out)
    gates, alerts = wb.worksheets
    assert gates["A1"].value == "Daily health screening report 2026-12-01"
    values = [[c.value for c in r] for r in alerts.iter_rows()]
    assert values[0][:4] == ["No.", "Time", "Type", "Place"]
    assert values[1][1:8] == ["07:42:00", "Fever", "东门", 38.1, "Closed", "Sent home", 37.9]
    assert len(values) == 4


def test_an_empty_day_says_so(tmp_path: Path) -> None:
    j = Journal(tmp_path / "empty.db", SH)
    md = report.to_markdown(report.build(j, DAY, SH, "en", ["s1"]))
    assert md.count("No alerts that day") == 2
    j.shutdown()
