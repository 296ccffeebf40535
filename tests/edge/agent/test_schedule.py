import time
from datetime import UTC, datetime

from edge.agent.schedule import due
from edge.config.schema import validate
from edge.loaders.agent import SCHEDULE


def entry(**kw):
    return validate(SCHEDULE, {"action": "off", "groups": ["after-hours"], **kw})


def test_due_on_the_minute_on_listed_days_except_holidays():
    s = [entry(at="18:00", skip_dates=["2026-12-31"]), entry(at="07:30", days=["sat"])]
    assert due(s, datetime(2026, 11, 25, 18, 0)) == [s[0]]  # a Wednesday
    assert due(s, datetime(2026, 11, 25, 18, 1)) == []
    assert due(s, datetime(2026, 11, 28, 18, 0)) == []  # Saturday is not a default day
    assert due(s, datetime(2026, 11, 28, 7, 30)) == [s[1]]
    assert due(s, datetime(2026, 12, 31, 18, 0)) == []  # holiday


def test_schedule_switches_group_with_cause_schedule(run_agent, mqtt_probe, pin_factory):
    if datetime.now().second >= 55:  # keep the agent's start inside the scheduled minute
        time.sleep(61 - datetime.now().second)
    now = datetime.now()
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[now.weekday()]
    # A schedule for the current minute fires once when the agent starts.
    ra = run_agent(
        [
            {
                "id": "ac",
                "kind": "relay",
                "driver": "gpio",
                "pin": 17,
                "initial": "on",
                "groups": ["after-hours"],
            }
        ],
        schedules=[{"at": now.strftime("%H:%M"), "days": [day], "action": "off", "groups": ["after-hours"]}],
    )
    probe = mqtt_probe([f"{ra.base}/ac/state"])
    state = probe.wait_json(f"{ra.base}/ac/state", lambda s: s["cause"] == "schedule")
    assert state["on"] is False and int(pin_factory.pin(17).state) == 0


def test_missed_minutes_are_caught_up_but_not_yesterday():

    from edge.agent.schedule import due_between

    s = [entry(at="18:00")]
    at_1800 = int(datetime(2026, 11, 25, 18, 0, tzinfo=UTC).timestamp() // 60)
    # the agent was down from 17:58 to 18:02: the 18:00 entry still runs, once
    assert [m for m, _ in due_between(s, at_1800 - 2, at_1800 + 2, UTC, 15)] == [at_1800]
    assert due_between(s, at_1800, at_1800 + 2, UTC, 15) == []  # already done
    # switched on the next morning: yesterday's 18:00 is not replayed
    assert due_between(s, at_1800 - 2, at_1800 + 14 * 60, UTC, 15) == []
    # first start ever: only the current minute counts
    assert [m for m, _ in due_between(s, None, at_1800, UTC, 15)] == [at_1800]
