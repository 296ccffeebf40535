"""Alert log lines: one readable line from the message table, never a Python dict."""

from __future__ import annotations

import logging

from edge.alerts.text import alert_line


def test_leak_alerts_read_as_sentences():
    burst = {"reason": "burst", "flow_lpm": 35.25, "limit_lpm": 30.0, "minutes": 5.0}
    assert alert_line("leak", burst, "en") == "Water leak (burst): 35.25 L/min for 5 min, above 30 L/min"
    assert alert_line("leak", burst) == "漏水告警（爆管）：流量 35.25 L/min 已持续 5 分钟，超过 30 L/min"
    night = {"reason": "night_flow", "min_night_flow_lpm": 0.8, "baseline_lpm": 0.1, "mad_lpm": 0.02,
             "threshold_lpm": 0.6, "nights": 2}
    assert alert_line("leak", night, "en").startswith("Water leak (night flow): minimum night flow 0.8 L/min")
    line = alert_line("after_hours_load", {"power_w": 2400.0, "baseload_w": 300.0, "threshold_w": 600.0,
                                           "excess_w": 2100.0, "minutes": 30.0, "since": 1}, "en")
    assert line == "After-hours power use: 2400 W on average for 30 min (baseload 300 W, threshold 600 W)"


def test_an_alert_without_its_own_text_is_still_one_line():
    assert alert_line("counter_reset", {"counter": "energy_kwh", "previous": 12.5, "current": 0.0}, "en") == \
        "Counter reset: counter energy_kwh, previous 12.5, current 0"
    assert alert_line("brand_new", {"x": 1}, "en") == "brand_new: x 1"
    burst = {"reason": "burst", "flow_lpm": 1.0, "limit_lpm": 1.0, "minutes": 1.0}
    assert "{" not in alert_line("leak", burst)


def test_the_meter_logs_a_leak_as_one_line(caplog):
    from tests.drivers.metering_support import RecordingContext
    from tests.drivers.test_metering import Publisher

    cfg = {"kind": "water_meter", "leak": {"night_window": "02:00-04:00", "bucket_minutes": 15,
                                           "baseline_nights": 28, "min_nights": 7, "mad_factor": 3.0,
                                           "min_excess_lpm": 0.5, "nights": 2, "continuous_hours": 24,
                                           "burst_lpm": 10.0, "burst_minutes": 1.0, "timezone": "UTC"}}
    ctx = RecordingContext("water")
    pub = Publisher(cfg, ctx)
    t0 = 1_780_000_000_000
    with caplog.at_level(logging.WARNING):
        for i in range(0, 4):  # 20 L/min for three minutes
            pub.publish({"volume_m3": 1.0 + i * 0.02, "flow_lpm": 20.0}, t0 + i * 60_000)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("alert leak")]
    assert lines and "{" not in lines[0] and "漏水告警（爆管）" in lines[0], caplog.text
