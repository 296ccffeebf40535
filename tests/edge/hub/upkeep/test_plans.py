"""Usage accounting and due computation (edge/hub/upkeep/plans.py): vectors."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from zoneinfo import ZoneInfo

from edge.hub.upkeep.plans import (
    DAY_MS,
    Baseline,
    Usage,
    meter_step,
    on_seconds_at,
    relay_step,
    should_alert,
    task_status,
    timing,
)

TZ = ZoneInfo("Asia/Shanghai")
H = 3_600_000


def test_meter_litres_from_deltas_with_a_reset_a_redelivery_and_a_gap() -> None:
    u = Usage()
    u, added, _ = meter_step(u, 100.000, 1_000)
    assert added == 0 and u.litres == 0  # the first reading is a baseline
    u, added, _ = meter_step(u, 100.150, 2_000)
    assert round(added, 6) == 150
    u, added, _ = meter_step(u, 100.150, 2_000)  # the same reading again (QoS 1 redelivery)
    assert added == 0
    u, added, _ = meter_step(u, 100.100, 1_500)  # an older reading after a newer one
    assert added == 0 and u.last_counter == 100.150
    u, added, reset = meter_step(u, 0.020, 3_000)  # meter replaced: counter went back
    assert reset and added == 0 and u.resets == 1
    u, added, _ = meter_step(u, 1.020, 10 * DAY_MS)  # a long gap: the delta covers it
    assert round(added, 6) == 1000 and round(u.litres, 6) == 1150


def test_relay_on_time_survives_a_restart_and_repeated_states() -> None:
    u = relay_step(Usage(), True, 0)
    u = relay_step(u, True, 0)  # retained state again after a reconnect
    saved = json.loads(json.dumps(asdict(u)))  # what the store persists
    u = Usage(**saved)  # the hub restarted while the relay was on
    assert on_seconds_at(u, 2 * H) == 7200
    u = relay_step(u, False, 3 * H)
    assert u.on_seconds == 3 * 3600 and u.on_since_ms is None
    u = relay_step(u, False, 4 * H)  # off again: nothing
    u = relay_step(u, True, 2 * H)  # older than the last state: ignored
    assert u.on_since_ms is None and u.on_seconds == 3 * 3600


def test_whichever_comes_first() -> None:
    task = {"every_litres": 2000, "every_days": 90}
    base = Baseline(since_ms=0, litres=500)
    st = task_status(task, base, Usage(litres=2400), 10 * DAY_MS)
    assert not st.due and round(st.litres_left) == 100
    st = task_status(task, base, Usage(litres=2600), 10 * DAY_MS)
    assert st.due and st.reasons == ("litres",)
    st = task_status(task, base, Usage(litres=600), 91 * DAY_MS)
    assert st.due and st.reasons == ("days",) and st.due_date_ms == 90 * DAY_MS
    hours = task_status({"every_on_hours": 300}, Baseline(0, 0, 100 * 3600),
                        Usage(on_seconds=350 * 3600, on_since_ms=0), 60 * H)
    assert hours.due and round(hours.on_hours) == 310


def test_per_term_is_due_until_done_in_the_current_term() -> None:
    terms = [(date(2026, 9, 1), date(2027, 1, 22), "2026 autumn")]
    oct1 = 1_790_784_000_000  # 2026-10-01 00:00 +08:00
    task = {"per_term": True}
    st = task_status(task, Baseline(since_ms=oct1 - 60 * DAY_MS), Usage(), oct1, terms, TZ)
    assert st.due and st.reasons == ("term",) and st.term == "2026 autumn"
    st = task_status(task, Baseline(since_ms=oct1 - DAY_MS), Usage(), oct1, terms, TZ)
    assert not st.due
    st = task_status(task, Baseline(since_ms=0), Usage(), oct1 + 200 * DAY_MS, terms, TZ)  # vacation
    assert not st.due


def test_alert_once_then_reminders_and_timing() -> None:
    assert should_alert(100, None, 100, H)
    assert not should_alert(100, 100, 100 + H - 1, H)
    assert should_alert(100, 100, 100 + H, H)
    assert not should_alert(None, None, 100, H)
    assert timing(None, 5, DAY_MS) == "on_time"
    assert timing(0, DAY_MS, DAY_MS) == "on_time"
    assert timing(0, DAY_MS + 1, DAY_MS) == "late"
