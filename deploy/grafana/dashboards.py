"""Render the Grafana dashboards in deploy/grafana/dashboards/ (Flux on InfluxDB 2).

    python deploy/grafana/dashboards.py      # rewrites the JSON files; a test keeps them current

What the bridge writes (docs/bridge.md): measurement = device kind, tags site/node/device, one field per
reading; events in `event` (tags type, reason); relay states in `state`; agent health in `agent`.
A "building" is a node here: one agent per building's meter room, named after the building.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
DS = {"type": "influxdb", "uid": "campus-influxdb"}
TZ = 'option location = timezone.location(name: "${tz}")\n'
HEAD = 'import "timezone"\n' + TZ  # imports come first in Flux, then options
BY_NODE = ('  |> group(columns: ["site", "node", "_time"])\n  |> sum()\n'
           '  |> group(columns: ["site", "node"])\n')
NEWEST = '  |> group()\n  |> sort(columns: ["_time"], desc: true)\n'
SRC = 'from(bucket: "${bucket}")\n  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n'
SITE = '  |> filter(fn: (r) => r.site =~ /^${site:regex}$/)\n'
# Days start at local midnight in this zone (Flux needs an IANA name). Pick another in the dashboard and save
# it (the provider allows UI updates), or change it here and re-render.
DEFAULT_TZ = "Asia/Shanghai"
ZONES = (DEFAULT_TZ, "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "UTC", "Europe/London",
         "America/New_York")


def variables() -> dict[str, Any]:
    return {"list": [
        {"name": "bucket", "type": "constant", "query": "campus", "hide": 2},
        {"name": "tz", "type": "custom", "query": ",".join(ZONES),
         "options": [{"text": z, "value": z, "selected": z == DEFAULT_TZ} for z in ZONES],
         "current": {"text": DEFAULT_TZ, "value": DEFAULT_TZ}, "label": "time zone for days"},
        {"name": "site", "type": "query", "datasource": DS, "includeAll": True, "multi": True,
         "query": 'import "influxdata/influxdb/schema"\nschema.tagValues(bucket: "${bucket}", tag: "site")',
         "refresh": 2, "current": {"text": "All", "value": "$__all"}},
    ]}


def panel(pid: int, title: str, kind: str, query: str, grid: tuple[int, int, int, int],
          unit: str = "", description: str = "", **extra: Any) -> dict[str, Any]:
    x, y, w, h = grid
    p: dict[str, Any] = {
        "id": pid, "title": title, "type": kind, "datasource": DS, "description": description,
        "gridPos": {"x": x, "y": y, "w": w, "h": h},
        "targets": [{"refId": "A", "datasource": DS, "query": query}],
        "fieldConfig": {"defaults": {"unit": unit} if unit else {}, "overrides": []},
        "options": {},
    }
    p.update(extra)
    return p


def dashboard(uid: str, title: str, panels: list[dict[str, Any]],
              time_from: str = "now-30d") -> dict[str, Any]:
    return {
        "uid": uid, "title": title, "tags": ["campus-edge"], "timezone": "browser", "schemaVersion": 39,
        "version": 1, "editable": True, "refresh": "1m", "time": {"from": time_from, "to": "now"},
        "templating": variables(), "panels": panels, "annotations": {"list": []},
    }


def energy() -> dict[str, Any]:
    per_day = (HEAD + SRC + '  |> filter(fn: (r) => r._measurement == "electricity_meter" and '
               'r._field == "energy_kwh")\n' + SITE +
               # reading-to-reading increases; a meter reset or replacement (a drop) is not consumption
               '  |> difference(nonNegative: false)\n'
               '  |> filter(fn: (r) => r._value >= 0.0)\n'
               '  |> aggregateWindow(every: 1d, fn: sum, createEmpty: false, timeSrc: "_start")\n'
               + BY_NODE)
    power = (SRC + '  |> filter(fn: (r) => r._measurement == "electricity_meter" and r._field == "power_w")\n'
             + SITE + '  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)\n' + BY_NODE)
    return dashboard("campus-energy", "Energy per building per day", [
        panel(1, "Energy per building per day (kWh)", "barchart", per_day, (0, 0, 24, 10), "kwatth",
              "Daily increase of every electricity meter's energy_kwh counter, summed per node (building); a "
              "counter that goes back (meter reset or replaced) adds nothing, days start at local midnight "
              "(variable tz).",
              options={"xTickLabelRotation": -45, "stacking": "none"}),
        panel(2, "Power per building (W)", "timeseries", power, (0, 10, 24, 9), "watt"),
    ])


def water() -> dict[str, Any]:
    flow = (SRC + '  |> filter(fn: (r) => r._measurement == "water_meter" and r._field == "flow_lpm")\n'
            + SITE + '  |> aggregateWindow(every: v.windowPeriod, fn: mean, createEmpty: false)\n')
    night = ('import "date"\n' + HEAD + SRC +
             '  |> filter(fn: (r) => r._measurement == "water_meter" and r._field == "flow_lpm")\n' + SITE +
             '  |> aggregateWindow(every: 15m, fn: mean, createEmpty: false)\n'
             '  |> filter(fn: (r) => date.hour(t: r._time) >= 2 and date.hour(t: r._time) < 4)\n'
             '  |> aggregateWindow(every: 1d, fn: min, createEmpty: false, timeSrc: "_start")\n')
    leaks = (SRC + '  |> filter(fn: (r) => r._measurement == "event" and r.type == "leak")\n' + SITE +
             '  |> pivot(rowKey: ["_time", "site", "node", "device", "reason"], columnKey: ["_field"], '
             'valueColumn: "_value")\n' + NEWEST)
    return dashboard("campus-water", "Water flow and night flow", [
        panel(1, "Flow (l/min)", "timeseries", flow, (0, 0, 24, 9), "flowlpm"),
        panel(2, "Minimum night flow, 02:00-04:00 (l/min)", "barchart", night, (0, 9, 24, 9), "flowlpm",
              "Lowest 15-minute mean flow between 02:00 and 04:00 each night: a rising floor is a leak."),
        panel(3, "Leak alerts", "table", leaks, (0, 18, 24, 8)),
    ])


def fever() -> dict[str, Any]:
    per_day = (HEAD + SRC + '  |> filter(fn: (r) => r._measurement == "event" and r.type == "fever" and '
               'r._field == "temp_c")\n' + SITE +
               '  |> group(columns: ["site", "node", "device"])\n'
               '  |> aggregateWindow(every: 1d, fn: count, createEmpty: true, timeSrc: "_start")\n')
    latest = (SRC + '  |> filter(fn: (r) => r._measurement == "event" and r.type == "fever")\n' + SITE +
              '  |> pivot(rowKey: ["_time", "site", "node", "device"], columnKey: ["_field"], '
              'valueColumn: "_value")\n' + NEWEST + '  |> limit(n: 200)\n')
    return dashboard("campus-fever", "Fever alerts per gate per day", [
        panel(1, "Fever alerts per gate per day", "barchart", per_day, (0, 0, 24, 10), "short",
              "One alert per febrile person (the camera tracks people); a gate is a thermal camera device."),
        panel(2, "Latest fever alerts", "table", latest, (0, 10, 24, 10)),
    ])


def availability() -> dict[str, Any]:
    up = ('  |> filter(fn: (r) => r._measurement == "agent" and r._field == "uptime_s")\n' + SITE +
          '  |> group(columns: ["site", "node"])\n'
          '  |> aggregateWindow(every: 5m, fn: count, createEmpty: true)\n'
          '  |> map(fn: (r) => ({r with _value: if r._value > 0 then 100.0 else 0.0}))\n')
    per_day = HEAD + SRC + up + '  |> aggregateWindow(every: 1d, fn: mean, timeSrc: "_start")\n'
    timeline = SRC + up
    last_seen = (SRC + '  |> filter(fn: (r) => r._measurement == "agent" and r._field == "uptime_s")\n'
                 + SITE + '  |> group(columns: ["site", "node"])\n  |> last()\n'
                 '  |> map(fn: (r) => ({site: r.site, node: r.node, last_seen: r._time, '
                 'uptime_s: r._value}))\n  |> group()\n')
    return dashboard("campus-availability", "Node availability", [
        panel(1, "Availability per node per day (%)", "barchart", per_day, (0, 0, 24, 9), "percent",
              "Share of 5-minute windows with at least one health reading (agent health_seconds <= 300)."),
        panel(2, "Up (5-minute windows)", "state-timeline", timeline, (0, 9, 24, 9), "percent"),
        panel(3, "Last health reading per node", "table", last_seen, (0, 18, 24, 8)),
    ], time_from="now-7d")


DASHBOARDS = {"energy.json": energy, "water.json": water, "fever.json": fever,
              "availability.json": availability}


def render() -> dict[str, str]:
    return {name: json.dumps(make(), indent=2) + "\n" for name, make in DASHBOARDS.items()}


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT / name).write_text(text)
        print(f"wrote {OUT / name}")
