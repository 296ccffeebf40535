"""The readings query layer: pure helpers with vectors, the Flux text with vectors (no InfluxDB 2 here),
and the SQLite backend for real, on data written by the real bridge."""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

import pytest

from edge.hub.readings import (
    Series,
    SqliteReadings,
    after_hours_edges,
    after_hours_usage,
    day_edges,
    flux_aggregate,
    flux_hourly_last,
    flux_string,
    hour_edges,
    local_midnight,
    periods,
    pick_at,
    usage,
)
from tests.conftest import wait_for
from tests.edge.bridge.support import info

SH = ZoneInfo("Asia/Shanghai")
PARIS = ZoneInfo("Europe/Paris")
# 2026-12-01 00:00 in Shanghai is 2026-11-30 16:00 UTC
MIDNIGHT_SH = 1_796_054_400_000


def test_local_midnights_and_periods():
    assert local_midnight(date(2026, 12, 1), SH) == MIDNIGHT_SH
    assert day_edges(date(2026, 12, 1), 2, SH) == [MIDNIGHT_SH, MIDNIGHT_SH + 86_400_000,
                                                   MIDNIGHT_SH + 2 * 86_400_000]
    assert len(hour_edges(date(2026, 12, 1), SH)) == 25
    # DST: Paris has a 23-hour day in March and a 25-hour day in October
    assert len(hour_edges(date(2026, 3, 29), PARIS)) == 24
    assert len(hour_edges(date(2026, 10, 25), PARIS)) == 26
    now = MIDNIGHT_SH + 2 * 86_400_000 + 3_600_000  # Thursday 2026-12-03 01:00 local
    p = periods(now, SH)
    assert p["today"] == (date(2026, 12, 3), 1)
    assert p["week"] == (date(2026, 11, 30), 4)  # from Monday
    assert p["month"] == (date(2026, 12, 1), 3)


def test_usage_from_counter_values():
    assert usage([10.0, 12.5, 12.5, 15.0]) == [2.5, 0.0, 2.5]
    assert usage([None, 3.0, None]) == [0.0, None]  # no reading before: 0; none after: unknown
    assert usage([100.0, 2.0]) == [0.0]  # meter replaced: never a negative use


def test_after_hours_split_of_a_school_day_and_a_weekend():
    hours = (time(7), time(18))
    iv = after_hours_edges(date(2026, 12, 4), 2, hours, SH)  # Friday, Saturday
    fri, sat = MIDNIGHT_SH + 3 * 86_400_000, MIDNIGHT_SH + 4 * 86_400_000
    assert iv == [(fri, fri + 7 * 3_600_000, True), (fri + 7 * 3_600_000, fri + 18 * 3_600_000, False),
                  (fri + 18 * 3_600_000, sat, True), (sat, sat + 86_400_000, True)]
    values = {fri: 0.0, fri + 7 * 3_600_000: 1.0, fri + 18 * 3_600_000: 21.0, sat: 23.0,
              sat + 86_400_000: 30.0}
    assert after_hours_usage(values, iv) == 1.0 + 2.0 + 7.0


def test_pick_at_takes_the_latest_point_at_or_before_each_edge():
    pts = [(100, 1.0), (200, 2.0), (300, 3.0)]
    assert pick_at([50, 100, 250, 300, 999], pts) == [None, 1.0, 2.0, 3.0, 3.0]


def test_flux_text():
    s = Series("mh-primary", "meter-room", "meter-a", "electricity_meter")
    q = flux_hourly_last("campus", s, "energy_kwh", MIDNIGHT_SH, MIDNIGHT_SH + 86_400_000, "Asia/Shanghai")
    assert q == (
        'import "timezone"\n\n'
        'option location = timezone.location(name: "Asia/Shanghai")\n\n'
        'from(bucket: "campus")\n'
        "  |> range(start: 2026-11-30T16:00:00.000Z, stop: 2026-12-01T16:00:00.000Z)\n"
        '  |> filter(fn: (r) => r._measurement == "electricity_meter" and r.site == "mh-primary" and '
        'r.node == "meter-room" and r.device == "meter-a" and r._field == "energy_kwh")\n'
        '  |> aggregateWindow(every: 1h, fn: last, timeSrc: "_stop", createEmpty: false)\n'
        '  |> keep(columns: ["_time", "_value"])\n')
    assert flux_aggregate("campus", s, "screened", 0, 1000, "sum").endswith(
        '  |> sum()\n  |> keep(columns: ["_value"])\n')
    assert flux_string('a"b\\c${x}') == '"a\\"b\\\\c\\${x}"'
    with pytest.raises(ValueError):
        flux_aggregate("campus", s, "x", 0, 1, "mean; drop()")


def test_sqlite_backend_reads_what_the_real_bridge_wrote(run_bridge, mqtt_probe, tmp_path):
    path = tmp_path / "history.db"
    bridge = run_bridge(sink={"type": "sqlite", "path": str(path)})
    probe = mqtt_probe()
    base = "campus/mh/meter-room"
    probe.publish(f"{base}/info", info(("meter-a", "electricity_meter"), ("water-1", "water_meter")),
                  retain=True)
    # a counter read every 30 min for two local days, plus a flow rate and a camera-like window count
    n = 0
    for i in range(96):
        ts = MIDNIGHT_SH + i * 1_800_000
        probe.publish(f"{base}/meter-a/telemetry",
                      {"ts": ts, "seq": i, "values": {"energy_kwh": 1000.0 + i}})
        probe.publish(f"{base}/water-1/telemetry", {"ts": ts, "seq": i, "values": {
            "volume_m3": 50.0 + i / 10, "flow_lpm": 5.0 if i % 48 < 10 else 20.0}})
        n += 2
    wait_for(lambda: bridge.counters.get("written", 0) >= n, 20, "the bridge to write every point")
    r = SqliteReadings(path)
    meter = Series("mh", "meter-room", "meter-a", "electricity_meter")
    water = Series("mh", "meter-room", "water-1", "water_meter")
    edges = day_edges(date(2026, 12, 1), 2, SH)
    vals = r.values_at(meter, "energy_kwh", edges)
    assert vals == [1000.0, 1048.0, 1095.0]  # at midnight, next midnight, and the last reading
    assert usage(vals) == [48.0, 47.0]
    assert r.values_at(meter, "energy_kwh", [MIDNIGHT_SH - 1]) == [None]
    assert r.minimum(water, "flow_lpm", MIDNIGHT_SH, MIDNIGHT_SH + 5 * 3_600_000) == 5.0
    assert r.total(water, "flow_lpm", MIDNIGHT_SH, MIDNIGHT_SH + 3_600_000) == 10.0
    assert r.values_at(water, "energy_kwh", edges) == [None, None, None]  # the wrong field is not mixed in
    r.close()


def test_sqlite_backend_says_when_the_file_is_missing(tmp_path):
    r = SqliteReadings(tmp_path / "nope.db")
    with pytest.raises(FileNotFoundError, match="bridge"):
        r.values_at(Series("a", "b", "c", "d"), "x", [0])
