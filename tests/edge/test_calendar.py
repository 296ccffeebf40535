"""The school calendar: official Chinese holidays and make-up days, terms, the school's own dates."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from datetime import date, datetime

import pytest
import yaml

from edge.agent.schedule import due
from edge.alerts.after_hours import AfterHoursDetector
from edge.alerts.config import AFTER_HOURS
from edge.calendar import CALENDAR, Calendar, calendar_from
from edge.config.schema import ConfigError, validate
from edge.loaders.agent import AGENT, SCHEDULE
from tests.conftest import ROOT
from tests.edge.ops.support import without_systemd_env

SCHOOL = {
    "terms": [{"name": "2026 autumn", "start": "2026-09-01", "end": "2027-01-22"}],
    "holidays": ["2026-11-13", {"start": "2026-12-28", "end": "2026-12-30", "name": "teachers' training"}],
    "workdays": ["2026-11-21"],
    "special_days": [{"date": "2026-12-24", "name": "exams", "school_hours": "07:30-12:00"}],
}


def cal(**over) -> Calendar:
    return Calendar(validate(CALENDAR, {**SCHOOL, **over}))


@pytest.mark.parametrize("day, school, reason", [
    (date(2026, 11, 25), True, "school day of the week"),  # a Wednesday
    (date(2026, 11, 28), False, "not a school day of the week"),  # a Saturday
    (date(2026, 10, 1), False, "official holiday: National Day"),  # a Thursday, in term
    (date(2026, 10, 10), True, "official make-up workday"),  # 调休: a Saturday that is a school day
    (date(2026, 11, 13), False, "holiday"),  # the school's own
    (date(2026, 12, 29), False, "holiday: teachers' training"),
    (date(2026, 11, 21), True, "make-up school day"),  # the school's own make-up Saturday
    (date(2026, 8, 20), False, "vacation (outside every term)"),
    (date(2026, 12, 24), True, "special day: exams"),
])
def test_a_date_is_decided_in_order(day, school, reason):
    d = cal().day(day)
    assert (d.school_day, d.reason) == (school, reason)


def test_a_special_day_has_its_own_hours():
    assert cal().day(date(2026, 12, 24)).school_hours == "07:30-12:00"


def test_a_year_without_official_data_is_a_warning_not_a_silent_weekday(caplog):
    c = cal(terms=[])
    assert c.official.covers(2026) and not c.official.covers(2027)
    with caplog.at_level(logging.WARNING, "edge.calendar"):
        d = c.day(date(2027, 2, 17))  # would be Spring Festival: unknown to chinese-calendar 1.11
        c.day(date(2027, 2, 18))
    assert d.school_day is True and d.covered is False
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "official Chinese holidays of 2027 are not known" in warnings[0]
    assert "covers 2004-2026" in warnings[0] and "holidays: and workdays:" in warnings[0]
    assert c.uncovered_years([2026, 2027]) == [2027]
    assert cal(official="none").uncovered_years([2027]) == []


def test_calendar_from_warns_at_start_for_this_and_next_year(caplog):
    with caplog.at_level(logging.WARNING, "edge.calendar"):
        calendar_from(validate(CALENDAR, SCHOOL), today=date(2026, 11, 30))
    assert "holidays of 2027 are not known" in caplog.text


def test_schedule_on_school_days_follows_the_calendar():
    c = cal()
    s = [validate(SCHEDULE, {"at": "07:30", "action": "on", "groups": ["g"], "school_days": True}),
         validate(SCHEDULE, {"at": "07:30", "action": "on", "groups": ["g"]})]
    assert due(s, datetime(2026, 10, 10, 7, 30), c) == [s[0]]  # a make-up Saturday: only the calendar's
    assert due(s, datetime(2026, 10, 1, 7, 30), c) == [s[1]]  # National Day (a Thursday): only the plain one
    assert due(s, datetime(2026, 11, 25, 7, 30), c) == s
    s[0]["skip_dates"].append("2026-11-25")  # skip_dates still work
    assert due(s, datetime(2026, 11, 25, 7, 30), c) == [s[1]]


def test_after_hours_uses_the_calendar_and_its_own_holidays():
    c = cal()
    det = AfterHoursDetector(validate(AFTER_HOURS, {"holidays": ["2026-11-25"]}), calendar=c)
    assert det.school_time(datetime(2026, 10, 10, 10, 0))  # make-up Saturday
    assert not det.school_time(datetime(2026, 10, 1, 10, 0))  # National Day
    assert not det.school_time(datetime(2026, 11, 25, 10, 0))  # the rule's own holiday still counts
    assert det.school_time(datetime(2026, 12, 24, 11, 0))
    assert not det.school_time(datetime(2026, 12, 24, 13, 0))  # exams: a half day
    plain = AfterHoursDetector(validate(AFTER_HOURS, {}))
    assert not plain.school_time(datetime(2026, 10, 10, 10, 0))  # without a calendar: Saturday


def _agent_raw(**extra) -> dict:
    return {"site": "s", "node": "n", "devices": [{"id": "a", "kind": "relay", "driver": "gpio", "pin": 17}],
            **extra}


def test_calendar_file_is_loaded_and_checked_with_the_agent_config(tmp_path):
    f = tmp_path / "calendar.yaml"
    f.write_text(yaml.safe_dump(SCHOOL))
    cfg = validate(AGENT, _agent_raw(calendar=str(f), schedules=[
        {"at": "07:30", "action": "on", "devices": ["a"], "school_days": True}]))
    assert cfg["calendar"]["workdays"] == ["2026-11-21"] and cfg["calendar"]["file"] == str(f)
    f.write_text("workdays: ['2026-02-30']\nterms: [{start: '2026-09-01', end: '2026-08-01'}]\n")
    with pytest.raises(ConfigError) as err:
        validate(AGENT, _agent_raw(calendar=str(f)))
    assert f"calendar ({f}): workdays[0]: not a real date: '2026-02-30'" in str(err.value)
    f.write_text("workdays: [2026-02-30]\n")  # unquoted: YAML itself cannot build it
    with pytest.raises(ConfigError) as err:
        validate(AGENT, _agent_raw(calendar=str(f)))
    assert "line 1: 2026-02-30: not valid YAML: day is out of range for month" in str(err.value)
    with pytest.raises(ConfigError) as err:
        validate(AGENT, _agent_raw(calendar=str(tmp_path / "missing.yaml")))
    assert "calendar: " in str(err.value) and "cannot read the file" in str(err.value)
    with pytest.raises(ConfigError) as err:
        validate(AGENT, _agent_raw(schedules=[{"at": "07:30", "action": "on", "devices": ["a"],
                                               "school_days": True}]))
    assert "schedules[0].school_days: needs a `calendar:`" in str(err.value)


def check_config(tmp_path, text: str) -> subprocess.CompletedProcess:
    f = tmp_path / "agent.yaml"
    f.write_text(text)
    env = {**without_systemd_env(), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "edge.cli", "check-config", str(f)], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=60)


def test_check_config_names_yaml_pitfalls_and_impossible_dates(tmp_path):
    r = check_config(tmp_path, """site: s
node: n
devices: [{id: a, kind: relay, driver: gpio, pin: 17}]
schedules:
  - {at: 18:00, action: off, devices: [a], skip_dates: [2026-12-31, "2026-13-01"]}
  - {at: "08:00", action: on, devices: [a]}
""")
    assert r.returncode == 2, r.stdout + r.stderr
    err = r.stderr
    assert 'schedules[0].at: expected a time HH:MM; got the number 1080: YAML reads an unquoted 18:00 as a ' \
           'base-60 number; write it in quotes: "18:00"' in err
    assert 'schedules[0].skip_dates[0]: expected a date YYYY-MM-DD; YAML read 2026-12-31 as a date, ' \
           'not text: write it in quotes: "2026-12-31"' in err
    assert "schedules[0].skip_dates[1]: not a real date: '2026-13-01'" in err
    assert "schedules[1]" not in err and "Traceback" not in err
    r = check_config(tmp_path, "site: s\nnode: n\nschedules:\n  - {at: '18:00', action: off, groups: [g],\n"
                               "     skip_dates: [2026-13-01]}\n")
    assert r.returncode == 2 and "line 5: 2026-13-01: not valid YAML: month must be in 1..12" in r.stderr
    assert "Traceback" not in r.stderr


def test_check_config_warns_about_a_year_without_official_holidays(tmp_path):
    r = check_config(tmp_path, "site: s\nnode: n\ncalendar: {official: cn}\n")
    assert r.returncode == 0, r.stderr
    year = time.localtime().tm_year
    if year + 1 > 2026:  # chinese-calendar 1.11 knows 2004-2026
        assert f"warning: calendar: the official Chinese holidays of {year + 1}" in r.stderr
    else:
        print(f"{year + 1} is covered by chinese-calendar: no warning expected")


def test_a_school_days_schedule_runs_on_a_make_up_day(run_agent, mqtt_probe, pin_factory):
    if datetime.now().second >= 55:
        time.sleep(61 - datetime.now().second)
    now = datetime.now()
    other = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[(now.weekday() + 1) % 7]
    ra = run_agent(
        [{"id": "ac", "kind": "relay", "driver": "gpio", "pin": 17, "initial": "on"}],
        calendar={"official": "none", "school_days": [other], "workdays": [now.date().isoformat()]},
        schedules=[{"at": now.strftime("%H:%M"), "action": "off", "devices": ["ac"], "school_days": True}],
    )
    probe = mqtt_probe([f"{ra.base}/ac/state"])
    state = probe.wait_json(f"{ra.base}/ac/state", lambda s: s["cause"] == "schedule")
    assert state["on"] is False


def test_the_shipped_example_calendar_validates():
    cfg = validate(AGENT, _agent_raw(calendar=str(ROOT / "deploy/calendar.yaml")))
    c = Calendar(cfg["calendar"])
    assert c.day(date(2026, 11, 21)).school_day and not c.day(date(2026, 11, 13)).school_day
