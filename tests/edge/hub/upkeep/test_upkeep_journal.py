"""Upkeep on a journal file at set times: late and missed services in the term report, repair times,
config mistakes with their place."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.config.schema import ConfigError
from edge.hub.config import parse_hub_config
from edge.hub.journal import Journal
from edge.hub.upkeep import report, service
from edge.hub.upkeep.service import Upkeep

SH = ZoneInfo("Asia/Shanghai")
DAY = 86_400_000
T0 = 1_788_192_000_000  # 2026-09-01 00:00 +08:00


def _cfg(tmp_path: Path, **extra) -> dict:
    return parse_hub_config({"site": "s1", "storage": {"path": str(tmp_path / "hub.db")},
                             "timezone": "Asia/Shanghai", "language": "en", **extra})


def test_late_and_missed_services_and_repair_times_in_the_term_report(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, maintenance=[{"id": "ext-1f", "name": "Extinguisher 1F",
                                       "tasks": [{"id": "inspect", "every_days": 2}]}],
               upkeep={"grace_days": 1, "remind_hours": 24})
    j = Journal(cfg["storage"]["path"], SH)
    up = Upkeep(cfg, j, SH, lambda a: [])
    j.db.execute("UPDATE upkeep_baseline SET since_ms=?", (T0,))  # tracking began on the first day of term
    assert up.tick(T0 + DAY, force=True) == []
    due = up.tick(T0 + 2 * DAY + 5, force=True)
    assert [a.type for a in due] == ["maintenance_due"] and due[0].place == "Extinguisher 1F"
    assert up.tick(T0 + 2 * DAY + 10, force=True) == []  # once, not every check
    assert len(up.tick(T0 + 3 * DAY + 10, force=True)) == 1  # the reminder a day later
    rec = service.record_service(j, cfg, "ext-1f", "inspect", "Zhang", now=T0 + 5 * DAY)
    assert rec["timing"] == "late"  # due on day 2, one day's grace, done on day 5
    assert all(a.state == "closed" for a in j.alerts(types="maintenance_due"))
    up.tick(T0 + 8 * DAY, force=True)  # due again on day 7, never done
    r1 = service.add_repair(j, cfg, "Gym", "door lock broken", "Li", now=T0 + DAY)
    service.step_repair(j, r1["id"], "accept", "Wang", now=T0 + DAY + 30 * 60_000)
    service.step_repair(j, r1["id"], "fix", "Wang", now=T0 + 3 * DAY)
    with pytest.raises(service.LifecycleError, match="expected date"):
        service.step_repair(j, r1["id"], "defer", "Wang", reason="parts")
    rep = report.build(j, cfg, date(2026, 9, 1), date(2026, 9, 30), SH, now_ms=T0 + 9 * DAY)
    assert [m["code"] for m in rep.maintenance] == ["late", "missed"]
    assert rep.repairs[0]["response"] == "30 min" and rep.repairs[0]["repair"] == "2.0 days"
    assert rep.counts["late"] == 1 and rep.counts["missed"] == 1 and rep.counts["fixed"] == 1
    md = report.to_markdown(rep)
    assert "Late" in md and "Not done" in md and "door lock broken" in md
    assert report.to_csv(rep).startswith("\ufeff")
    j.shutdown()


def test_maintenance_config_mistakes_each_with_their_place(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        _cfg(tmp_path, maintenance=[
            {"id": "a", "tasks": [{"id": "t", "every_litres": 100}]},
            {"id": "a", "meter": {"node": "n", "device": "d"}, "relay": {"node": "n", "device": "r"},
             "tasks": [{"id": "t"}, {"id": "t", "per_term": True}]},
        ])
    errors = "\n".join(exc.value.errors)
    assert "maintenance[0].tasks[0].every_litres: the item has no `meter`" in errors
    assert "maintenance[1]: tie the item to a meter or a relay, not both" in errors
    assert "maintenance[1].tasks[0]: give at least one of every_litres" in errors
    assert "task id 't' appears more than once" in errors
    assert "item id 'a' appears more than once" in errors
    assert "maintenance[1].tasks[1].per_term: needs upkeep.calendar with `terms`" in errors
