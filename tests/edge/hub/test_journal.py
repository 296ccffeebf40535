"""The journal on its own (edge/hub/journal.py): once per event, snapshots as files, lifecycle, deliveries."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.hub.ingest import EventIn
from edge.hub.journal import Journal, LifecycleError
from edge.hub.model import ACKNOWLEDGED, CLOSED, NEW
from edge.hub.rules import Planned
from tests.edge.hub.support import T0, png

SH = ZoneInfo("Asia/Shanghai")


def ev(seq: int, snapshot: bytes | None = None, type_: str = "fever", ts: int | None = None) -> EventIn:
    return EventIn("s1", "gate", "cam-east", seq, T0 + seq if ts is None else ts, type_,
                   {"temp_c": 38.1, "threshold_c": 37.3}, snapshot)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    j = Journal(tmp_path / "hub" / "hub.db", SH)
    yield j
    j.shutdown()


def test_event_recorded_once_with_its_snapshot_file(journal: Journal, tmp_path: Path) -> None:
    img = png(3)
    a = journal.record_event(ev(1, img), "东门", T0 + 50)
    assert a is not None and a.place == "东门" and a.state == NEW
    path = Path(a.snapshot_path)
    assert path == tmp_path / "hub" / "snapshots" / "2025-12-01" / f"{a.id}.png"  # local date, Shanghai
    assert path.read_bytes() == img and journal.snapshot(a.id) == img
    assert journal.record_event(ev(1, img), "东门", T0 + 99) is None  # a redelivery changes nothing
    assert journal.count() == 1
    got = journal.get(a.id)
    assert got == a and "snapshot_png" not in got.fields
    row = journal.db.query("SELECT fields, snapshot FROM alerts")[0]
    assert "iVBOR" not in row[0] and row[1].endswith(".png")  # no base64 blob in the row


def test_same_seq_other_ts_is_a_different_event(journal: Journal) -> None:
    assert journal.record_event(ev(1), "x", T0) is not None
    assert journal.record_event(ev(1, ts=T0 + 5000), "x", T0) is not None  # an agent's store rebuilt
    assert journal.count() == 2


def test_news_that_asks_nothing_is_journalled_closed(journal: Journal) -> None:
    """A local rule that did its job, a meter back: on the record, but not in the open alerts."""
    fever = journal.record_event(ev(1), "x", T0)
    done = journal.record_event(ev(2, type_="rule_action"), "x", T0)
    back = journal.record_event(ev(3, type_="meter_online"), "x", T0)
    assert fever.state == NEW and done.state == CLOSED and back.state == CLOSED
    assert [a.type for a in journal.alerts(state=NEW)] == ["fever"]
    assert journal.get(done.id).state == CLOSED
    assert journal.record_status("s1", "gate", False, T0).state == NEW
    assert journal.record_status("s1", "gate", True, T0 + 1).state == CLOSED


def test_lifecycle_and_illegal_transitions(journal: Journal) -> None:
    a = journal.record_event(ev(1), "东门", T0)
    with pytest.raises(LifecycleError, match="who"):
        journal.acknowledge(a.id, " ", T0 + 1)
    acked = journal.acknowledge(a.id, "王老师", T0 + 1000)
    assert acked.state == ACKNOWLEDGED
    with pytest.raises(LifecycleError, match="only a new alert"):
        journal.acknowledge(a.id, "李老师", T0 + 2000)
    with pytest.raises(LifecycleError, match="does not fit"):
        journal.close(a.id, "王老师", T0 + 3000, "valve_closed")
    with pytest.raises(LifecycleError, match="body temperature"):
        journal.close(a.id, "王老师", T0 + 3000, "sent_home", reading_c=3.79)
    closed = journal.close(a.id, "校医", T0 + 4000, "sent_home", reading_c=37.9, note="家长已接")
    assert closed.state == CLOSED
    with pytest.raises(LifecycleError, match="already closed"):
        journal.close(a.id, "校医", T0 + 5000, "cleared")
    acts = journal.actions(a.id)
    assert [(x.action, x.by, x.ts_ms) for x in acts] == [(ACKNOWLEDGED, "王老师", T0 + 1000),
                                                        (CLOSED, "校医", T0 + 4000)]
    assert acts[1].outcome == "sent_home" and acts[1].reading_c == 37.9 and acts[1].note == "家长已接"
    with pytest.raises(LifecycleError, match="no alert"):
        journal.acknowledge(999, "x", T0)


def test_closing_a_new_alert_records_the_acknowledgement_too(journal: Journal) -> None:
    a = journal.record_event(ev(1, type_="leak"), "水表", T0)
    with pytest.raises(LifecycleError, match="temperature alert"):
        journal.close(a.id, "后勤", T0 + 1, "valve_closed", reading_c=37.0)
    journal.close(a.id, "后勤", T0 + 1, "valve_closed")
    assert [x.action for x in journal.actions(a.id)] == [ACKNOWLEDGED, CLOSED]


def test_on_change_is_called_after_commit(journal: Journal) -> None:
    seen = []
    journal.on_change = lambda alert: seen.append((alert.id, alert.state, journal.get(alert.id).state))
    a = journal.record_event(ev(1), "x", T0)
    journal.acknowledge(a.id, "me", T0)
    assert seen == [(a.id, ACKNOWLEDGED, ACKNOWLEDGED)]


def test_alert_queries(journal: Journal) -> None:
    for i in range(5):
        journal.record_event(ev(i, type_="fever" if i % 2 else "leak"), "x", T0)
    assert [a.seq for a in journal.alerts()] == [4, 3, 2, 1, 0]  # newest first
    assert [a.seq for a in journal.alerts(types=["fever"])] == [3, 1]
    assert [a.seq for a in journal.alerts(types="leak", limit=1, offset=1)] == [2]
    assert [a.seq for a in journal.alerts(since_ms=T0 + 1, until_ms=T0 + 3)] == [2, 1]
    journal.acknowledge(journal.alerts(types="fever")[0].id, "me", T0)
    assert [a.seq for a in journal.alerts(state="acknowledged")] == [3]
    assert journal.alerts(site="other") == [] and len(journal.alerts(node="gate", device="cam-east")) == 5


def test_node_status_is_debounced_and_persisted(tmp_path: Path) -> None:
    j = Journal(tmp_path / "hub.db", SH)
    assert j.record_status("s1", "gate", True, T0) is None  # first heard online: not news
    assert j.record_status("s1", "gate", True, T0 + 1) is None  # a repeat
    off = j.record_status("s1", "gate", False, T0 + 2)
    assert off is not None and off.type == "node_offline" and off.device == "" and off.seq is None
    assert j.record_status("s1", "gate", False, T0 + 3) is None
    j.shutdown()
    j = Journal(tmp_path / "hub.db", SH)  # a hub restart: the retained offline again is not a change
    assert j.record_status("s1", "gate", False, T0 + 4) is None
    on = j.record_status("s1", "gate", True, T0 + 5)
    assert on is not None and on.type == "node_online"
    assert j.record_status("s1", "meters", False, T0 + 6).type == "node_offline"  # first heard offline
    assert [a.type for a in j.alerts()] == ["node_offline", "node_online", "node_offline"]
    j.shutdown()


def test_info_survives_a_restart(tmp_path: Path) -> None:
    j = Journal(tmp_path / "hub.db")
    j.save_info("s1", "gate", {"version": "1", "devices": [{"id": "cam", "name": "东门"}]})
    j.record_status("s1", "gate", True, T0)
    j.shutdown()
    j = Journal(tmp_path / "hub.db")
    n = j.nodes()[("s1", "gate")]
    assert n["info"]["devices"][0]["name"] == "东门" and n["online"] is True
    j.shutdown()


def test_screening_windows_counted_once(journal: Journal) -> None:
    c = {"screened": 10, "fevers": 1, "rechecks": 2, "covered": 3, "unscreened": 0}
    assert journal.record_screening("s1", "gate", "cam", 1, T0, c)
    assert not journal.record_screening("s1", "gate", "cam", 1, T0, c)
    assert journal.record_screening("s1", "gate", "cam", 2, T0 + 60_000, c)
    assert journal.screening_totals(T0, T0 + 120_000) == [
        ("s1", "gate", "cam", {"screened": 20, "fevers": 2, "rechecks": 4, "covered": 6, "unscreened": 0})]


def test_deliveries_are_planned_with_the_alert_and_only_once(journal: Journal) -> None:
    def planner(alert):
        return [Planned("gate-group", "notify", alert.received_ms),
                Planned("head", "escalate", alert.received_ms + 300_000)]

    a = journal.record_event(ev(1), "x", T0, planner)
    assert journal.record_event(ev(1), "x", T0 + 10, planner) is None
    rows = journal.deliveries(a.id)
    assert [(r["channel"], r["stage"], r["state"]) for r in rows] == [("gate-group", "notify", "pending"),
                                                                     ("head", "escalate", "pending")]
    assert [r[2] for r in journal.due_deliveries(T0)] == ["gate-group"]
    assert journal.next_due_ms() == T0

    def boom(alert):
        raise RuntimeError("planner failed")

    with pytest.raises(RuntimeError):
        journal.record_event(ev(2, png(1)), "x", T0, boom)
    assert journal.count() == 1  # alert and deliveries commit together or not at all
    journal.mark_sent([rows[0]["id"]], T0 + 5)
    journal.mark_sent([rows[0]["id"]], T0 + 6)  # only a pending row is marked
    assert journal.deliveries(a.id)[0]["sent_ms"] == T0 + 5
