"""Routing decisions (edge/hub/rules.py) as vectors: matching, quiet hours, escalation, rate packing."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from edge.hub.model import Alert
from edge.hub.rules import ESCALATE, NOTIFY, Planned, matches, pack, plan, quiet_until

SH = ZoneInfo("Asia/Shanghai")


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=SH).timestamp() * 1000)


def alert(type_: str = "fever", at: str = "2026-12-01T07:42", **fields) -> Alert:
    t = ms(at)
    return Alert(1, "mh", "gate", "cam-east", type_, t, 3, fields, "东门", None, "new", t)


def rule(**kw) -> dict:
    return {"events": ["fever"], "sites": None, "nodes": None, "devices": None, "min_temp_c": None,
            "channels": ["gate-group"], "quiet_hours": None, "escalate": None, **kw}


@pytest.mark.parametrize("r, a, expected", [
    (rule(), alert(), True),
    (rule(events=["leak"]), alert(), False),
    (rule(events=["any"]), alert("leak"), True),
    (rule(sites=["other"]), alert(), False),
    (rule(sites=["mh"], nodes=["gate"], devices=["cam-east"]), alert(), True),
    (rule(devices=["cam-west"]), alert(), False),
    (rule(min_temp_c=38.0), alert(temp_c=38.1), True),
    (rule(min_temp_c=38.5), alert(temp_c=38.1), False),
    (rule(min_temp_c=38.5), alert(), False),  # no temperature: the condition cannot hold
])
def test_matching(r: dict, a: Alert, expected: bool) -> None:
    assert matches(r, a) is expected


@pytest.mark.parametrize("at, quiet, expected", [
    ("2026-12-01T22:30", "21:00-07:00", "2026-12-02T07:00"),  # evening: held to the next morning
    ("2026-12-02T02:00", "21:00-07:00", "2026-12-02T07:00"),  # after midnight: this morning
    ("2026-12-02T07:00", "21:00-07:00", "2026-12-02T07:00"),  # the end itself is not quiet
    ("2026-12-01T12:00", "21:00-07:00", "2026-12-01T12:00"),  # daytime: at once
    ("2026-12-01T12:30", "12:00-13:30", "2026-12-01T13:30"),  # a lunch break
    ("2026-12-01T20:59", "21:00-07:00", "2026-12-01T20:59"),
])
def test_quiet_hours_hold_until_their_end(at: str, quiet: str, expected: str) -> None:
    assert quiet_until(ms(at), quiet, SH) == ms(expected)


def test_no_quiet_hours_sends_at_once() -> None:
    assert quiet_until(ms("2026-12-01T02:00"), None, SH) == ms("2026-12-01T02:00")


def test_plan_notify_and_escalate_one_row_per_channel_and_stage() -> None:
    rules = [rule(channels=["gate-group"], escalate={"after_minutes": 5, "channels": ["head"]}),
             rule(events=["fever", "recheck"], channels=["gate-group", "office"])]
    a = alert()
    got = plan(rules, a, SH)
    assert got == [Planned("gate-group", NOTIFY, a.received_ms),
                   Planned("head", ESCALATE, a.received_ms + 5 * 60_000),
                   Planned("office", NOTIFY, a.received_ms)]


def test_plan_overlapping_rules_keep_the_earliest_due() -> None:
    rules = [rule(quiet_hours="21:00-07:00"), rule()]
    a = alert(at="2026-12-01T23:00")
    assert plan(rules, a, SH) == [Planned("gate-group", NOTIFY, a.received_ms)]
    assert plan(rules[:1], a, SH) == [Planned("gate-group", NOTIFY, ms("2026-12-02T07:00"))]


def test_plan_nothing_for_unmatched() -> None:
    assert plan([rule(events=["leak"])], alert(), SH) == []


@pytest.mark.parametrize("costs, left, expected", [
    ([1] * 5, None, (5, 0)),  # no limit
    ([1] * 5, 20, (5, 0)),
    ([1] * 20, 20, (20, 0)),
    ([1] * 100, 20, (17, 3)),  # 17 one by one, the 83 others in 3 summaries of <= 30: 20 requests
    ([1] * 30, 1, (0, 1)),  # the last free request carries 30 alerts as a summary
    ([1] * 90, 2, (0, 2)),  # two summaries now (60 alerts), the other 30 wait for the window
    ([1] * 3, 0, (0, 0)),  # full window: wait
    ([], 20, (0, 0)),
    ([2, 2, 2], 5, (2, 1)),  # notices with a snapshot take two requests
    ([2, 1, 1], 3, (1, 1)),  # 2 + the summary: 3 requests
])
def test_pack(costs: list[int], left: int | None, expected: tuple[int, int]) -> None:
    assert pack(costs, left) == expected
    singles, summaries = expected
    if left is not None:
        assert sum(costs[:singles]) + summaries <= left  # never more than the window takes
