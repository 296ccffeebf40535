import time
from datetime import datetime

from edge.agent.schedule import due
from edge.config.agent import SCHEDULE
from edge.config.schema import validate


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
