"""Leak and after-hours detectors, replaying simulated weeks in milliseconds: readings in, alerts out."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from edge.alerts.after_hours import AfterHoursDetector
from edge.alerts.config import AFTER_HOURS, LEAK
from edge.alerts.leak import LeakDetector
from edge.config.schema import ConfigError, validate
from simulators.meters import profiles
from simulators.meters.clock import ManualClock
from simulators.meters.model import SimMeter

START = datetime(2026, 2, 2, 0, 0, tzinfo=UTC)  # a Monday


def replay(detector, profile, start, days, step_s=60, meter=None, clock=None):
    """Feed ``days`` of a simulated meter into ``detector``; returns [(datetime, alert)]."""
    clock = clock or ManualClock(start, tz=UTC)
    meter = meter or SimMeter("1", profile, clock, energy_kwh=100.0, volume_m3=50.0)
    out = []
    for _ in range(int(days * 86400 / step_s)):
        clock.advance(step_s)
        r = meter.readings()
        ts = int(clock.now() * 1000)
        values = {"energy_kwh": round(r["energy_kwh"], 2), "volume_m3": r["volume_m3"]}
        for alert in detector.feed(ts, values):
            out.append((clock.datetime(), alert))
    return out


def leak_cfg(**kw):
    return validate(LEAK, {"timezone": "UTC", **kw})


def hours_cfg(**kw):
    return validate(AFTER_HOURS, {"timezone": "UTC", **kw})


def test_normal_weeks_raise_no_leak_alert():
    det = LeakDetector(leak_cfg(burst_lpm=60))
    assert replay(det, profiles.school_day, START, 21) == []
    assert len(det.history) == 21 and det.threshold() is not None


def test_slow_leak_alerts_on_the_second_high_night_and_on_continuous_flow():
    det = LeakDetector(leak_cfg())
    assert replay(det, profiles.school_day, START, 14) == []
    onset = START + timedelta(days=14, hours=12)
    alerts = replay(det, profiles.make("slow_leak", onset=onset, leak_lpm=1.5), START + timedelta(days=14), 3,
                    clock=None)
    by_reason = {a.fields["reason"]: (when, a) for when, a in alerts}
    assert set(by_reason) == {"night_flow", "continuous_flow"}
    when, night = by_reason["night_flow"]
    assert night.type == "leak" and night.fields["nights"] == 2
    assert night.fields["min_night_flow_lpm"] == pytest.approx(1.5, abs=0.01)
    assert night.fields["threshold_lpm"] == pytest.approx(0.5)  # dry nights: median 0, MAD 0, floor 0.5
    assert when.date() == (onset + timedelta(days=2)).date()  # the second night after the onset, at 04:00
    cont_when, cont = by_reason["continuous_flow"]
    assert cont.fields["hours"] == 24 and cont_when - onset <= timedelta(hours=25)


def test_no_night_alert_while_still_learning():
    det = LeakDetector(leak_cfg(min_nights=7))
    alerts = replay(det, profiles.make("slow_leak", leak_lpm=3), START, 4)
    assert [a.fields["reason"] for _, a in alerts] == ["continuous_flow"]


def test_burst_alerts_after_burst_minutes_once():
    det = LeakDetector(leak_cfg(burst_lpm=50, burst_minutes=5))
    onset = START + timedelta(hours=3)
    alerts = replay(det, profiles.make("burst_pipe", onset=onset, burst_lpm=80), START, 0.5)
    bursts = [(w, a) for w, a in alerts if a.fields["reason"] == "burst"]
    assert len(bursts) == 1
    when, alert = bursts[0]
    assert timedelta(minutes=5) <= when - onset <= timedelta(minutes=6)
    assert alert.fields["flow_lpm"] == pytest.approx(80, abs=0.5) and alert.fields["limit_lpm"] == 50


def test_counter_reset_is_not_negative_flow_nor_a_burst():
    det = LeakDetector(leak_cfg(burst_lpm=50, burst_minutes=0))
    assert det.feed(0, {"volume_m3": 500.0}) == []
    assert det.feed(60_000, {"volume_m3": 500.01}) == []
    assert det.feed(120_000, {"volume_m3": 0.0}) == []  # meter replaced
    assert det.feed(180_000, {"volume_m3": 0.01}) == []  # 10 L/min again: fine
    assert det.last == [180_000, 0.01]


def test_leak_memory_survives_a_restart_through_json():
    det = LeakDetector(leak_cfg())
    clock = ManualClock(START, tz=UTC)
    onset = START + timedelta(days=10, hours=12)
    meter = SimMeter("1", profiles.make("slow_leak", onset=onset), clock, volume_m3=5.0)
    assert replay(det, None, START, 11, meter=meter, clock=clock) == []  # learned 10 nights, 1 high night
    restored = LeakDetector(leak_cfg(), json.loads(json.dumps(det.to_state())))
    alerts = replay(restored, None, START, 1.5, meter=meter, clock=clock)
    assert "night_flow" in [a.fields["reason"] for _, a in alerts]


def test_ac_left_on_overnight_is_an_after_hours_alert():
    det = AfterHoursDetector(hours_cfg())
    assert replay(det, profiles.school_day, START, 14) == []
    assert det.baseload() == pytest.approx(600, abs=20)
    onset = START + timedelta(days=14, hours=12)
    alerts = replay(det, profiles.make("ac_overnight", onset=onset, ac_w=2500), START + timedelta(days=14), 1)
    assert len(alerts) == 1
    when, alert = alerts[0]
    assert alert.type == "after_hours_load"
    # min_minutes (30) of after-hours readings, counted from the last reading before closing (17:59)
    assert timedelta(minutes=29) <= when - (START + timedelta(days=14, hours=18)) <= timedelta(minutes=31)
    assert alert.fields["power_w"] == pytest.approx(3100, rel=0.02) and alert.fields["excess_w"] > 2000


def test_holiday_load_is_after_hours_but_a_school_day_is_not():
    holiday = (START + timedelta(days=7)).date().isoformat()  # the second Monday
    det = AfterHoursDetector(hours_cfg(baseload_w=600, holidays=[holiday]))
    alerts = replay(det, profiles.school_day, START, 8)
    assert len(alerts) == 1 and alerts[0][0].date().isoformat() == holiday


def test_nothing_before_the_baseload_is_learned():
    det = AfterHoursDetector(hours_cfg(min_nights=3))
    alerts = replay(det, profiles.make("ac_overnight"), START, 2)
    assert alerts == [] and len(det.history) == 2


@pytest.mark.parametrize("spec,data,message", [
    (LEAK, {"night_window": "2am-4am"}, "night_window: expected a window HH:MM-HH:MM"),
    (LEAK, {"night_window": "02:00-02:00"}, "night_window: the window is empty"),
    (LEAK, {"burst_lpm": 0}, "burst_lpm: must be greater than 0"),
    (AFTER_HOURS, {"days": ["monday"]}, "days[0]: expected one of mon"),
    (AFTER_HOURS, {"holidays": ["25/12/2026"]}, "holidays[0]: expected a date YYYY-MM-DD"),
    (AFTER_HOURS, {"timezone": "Mars/Olympus"}, "timezone: unknown time zone"),
])
def test_config_errors_name_their_place(spec, data, message):
    with pytest.raises(ConfigError) as exc:
        validate(spec, data)
    assert any(message in e for e in exc.value.errors), exc.value.errors
