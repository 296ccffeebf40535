"""What the pages show, shaped from the hub's journal, node views and readings: plain dicts for templates.

Templates only lay these out; every decision (what counts as open, which devices are relays, how usage is
computed, which texts) is made here, in Python, where tests can reach it.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from datetime import date, timedelta, tzinfo
from typing import Any

from edge.hub.model import CLOSED, Alert, outcomes_for
from edge.hub.readings import (
    Readings,
    Series,
    after_hours_edges,
    after_hours_usage,
    day_edges,
    hour_edges,
    local_midnight,
    periods,
    usage,
)
from edge.i18n import clock, has, stamp, text

log = logging.getLogger(__name__)

GATE_TYPES = ("fever", "recheck", "unscreened")
METER_TYPES = ("leak", "after_hours_load")
METER_KINDS = {"electricity_meter": "energy_kwh", "water_meter": "volume_m3"}
CAMERA_KIND = "thermal_camera"
AVAILABILITY = {True: "console.nodes.online", False: "console.nodes.offline", None: "console.nodes.unknown"}


def get(obj: Any, key: str, default: Any = None) -> Any:
    """A field of a hub view, whether the hub hands dicts or objects."""
    if isinstance(obj, dict):
        return obj.get(key, default)
    return getattr(obj, key, default)


def title(alert_type: str, lang: str) -> str:
    key = f"alert.title.{alert_type}"
    return text(key if has(key) else "alert.title.other", lang)


def number(v: float | None, digits: int = 1) -> str:
    if v is None:
        return "–"
    return f"{v:.{digits}f}"


def alert_value(a: Alert, lang: str) -> str:
    """The figure people look for first: a temperature, a flow, a power."""
    f = a.fields
    if "temp_c" in f:
        return text("console.alert.temp", lang, temp=number(f["temp_c"]))
    for key, unit in (("flow_lpm", "L/min"), ("power_w", "W"), ("volume_m3", "m³")):
        if key in f and isinstance(f[key], int | float):
            return f"{number(f[key])} {unit}"
    return ""


def alert_view(a: Alert, lang: str, tz: tzinfo | None, actions: Iterable[Any] = ()) -> dict[str, Any]:
    acted = {get(x, "action"): x for x in actions}
    ack, closed = acted.get("acknowledged"), acted.get("closed")
    f = a.fields
    return {
        "id": a.id, "type": a.type, "title": title(a.type, lang), "place": a.place or a.device or a.node,
        "site": a.site, "node": a.node, "device": a.device,
        "time": clock(a.ts_ms, tz), "stamp": stamp(a.ts_ms, tz), "ts_ms": a.ts_ms,
        "value": alert_value(a, lang),
        "threshold": (text("console.alert.threshold", lang, threshold=number(f["threshold_c"]))
                      if isinstance(f.get("threshold_c"), int | float) else ""),
        "state": a.state, "state_text": text(f"state.{a.state}", lang), "open": a.state != CLOSED,
        "snapshot": bool(a.snapshot_path), "gate": a.type in GATE_TYPES,
        "outcomes": [(o, text(f"outcome.{o}", lang)) for o in outcomes_for(a.type)],
        "acked": (text("console.alert.acked_by", lang, by=get(ack, "by"),
                       time=clock(get(ack, "ts_ms"), tz)) if ack else ""),
        "closed": (text("console.alert.closed_by", lang, by=get(closed, "by"),
                        time=clock(get(closed, "ts_ms"), tz)) if closed else ""),
        "outcome": (text(f"outcome.{get(closed, 'outcome')}", lang)
                    if closed and get(closed, "outcome") else ""),
        "reading": (number(get(closed, "reading_c"))
                    if closed and get(closed, "reading_c") is not None else ""),
        "by": get(closed, "by") or get(ack, "by") or "",
        "note": get(closed, "note") or "",
        "fields": f,
    }


# -- nodes and devices ---------------------------------------------------------------------------------


def devices_of(node: Any) -> list[Any]:
    devs = get(node, "devices", []) or []
    return list(devs.values()) if isinstance(devs, dict) else list(devs)


def device_id(dev: Any) -> str:
    return get(dev, "id") or get(dev, "device") or ""


def relays(nodes: Iterable[Any], lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every relay grouped by node (the room or building), and every group with its members."""
    rooms: list[dict[str, Any]] = []
    groups: dict[tuple[Any, Any], Any] = {}
    for n in nodes:
        items = []
        for d in devices_of(n):
            if get(d, "kind") != "relay":
                continue
            state = get(d, "state") or {}
            on = state.get("on") if isinstance(state, dict) else None
            name = get(d, "name") or device_id(d)
            state_key = "unknown" if on is None else ("on" if on else "off")
            items.append({"site": get(n, "site"), "node": get(n, "node"), "device": device_id(d),
                          "name": name, "groups": list(get(d, "groups") or []), "on": on,
                          "state_text": text(f"console.appl.state_{state_key}", lang)})
            for g in get(d, "groups") or []:
                key = (get(n, "site"), g)
                entry = groups.setdefault(key, {"site": get(n, "site"), "group": g, "members": []})
                entry["members"].append(name)
        if items:
            rooms.append({"site": get(n, "site"), "node": get(n, "node"), "online": bool(get(n, "online")),
                          "relays": items})
    return rooms, sorted(groups.values(), key=lambda g: (g["site"], g["group"]))


def find_relay(nodes: Iterable[Any], site: str, node: str, device: str) -> Any | None:
    for n in nodes:
        if get(n, "site") == site and get(n, "node") == node:
            for d in devices_of(n):
                if device_id(d) == device and get(d, "kind") == "relay":
                    return d
    return None


def node_view(n: Any, lang: str, tz: tzinfo | None) -> dict[str, Any]:
    last = get(n, "last_seen_ms") or get(n, "last_seen")
    errors = get(n, "errors") or []
    if isinstance(errors, dict):
        errors = [f"{k}: {v}" for k, v in errors.items()]
    return {
        "site": get(n, "site"), "node": get(n, "node"), "online": bool(get(n, "online")),
        "online_text": text(AVAILABILITY[None if get(n, "online") is None else bool(get(n, "online"))], lang),
        "last_seen": stamp(int(last), tz) if isinstance(last, int | float) and last else "–",
        "version": get(n, "version") or "–",
        "devices": [{"id": device_id(d), "name": get(d, "name") or device_id(d), "kind": get(d, "kind") or "",
                     "error": get(d, "error") or ""} for d in devices_of(n)],
        "errors": [error_text(e, lang, tz) for e in errors],
        "outbox": get(n, "outbox_pending"),
    }


def error_text(e: Any, lang: str, tz: tzinfo | None) -> str:
    """One of a node's recent error events: when, what, which device, the device's own words."""
    if isinstance(e, str):
        return e
    parts = (stamp(get(e, "ts_ms"), tz) if get(e, "ts_ms") else "", title(get(e, "type", "other"), lang),
             str(get(e, "device") or ""), str(get(e, "error") or ""))
    return " ".join(x for x in parts if x)


def cameras(nodes: Iterable[Any], lang: str) -> list[dict[str, Any]]:
    out = []
    for n in nodes:
        for d in devices_of(n):
            if get(d, "kind") != CAMERA_KIND:
                continue
            state = get(d, "state") or {}
            online = bool(get(n, "online")) and state.get("online", True) is not False
            bb = state.get("blackbody")
            out.append({"name": get(d, "name") or device_id(d), "online": online,
                        "online_text": text(f"console.nodes.{'online' if online else 'offline'}", lang),
                        "blackbody": bb,
                        "blackbody_text": "" if bb is None else text(
                            "console.gate.blackbody_ok" if bb else "console.gate.blackbody_missing", lang),
                        "site": get(n, "site"), "node": get(n, "node"), "device": device_id(d)})
    return out


# -- gate counters -------------------------------------------------------------------------------------


def gate_counters(journal: Any, now_ms: int, tz: tzinfo | None) -> dict[str, int]:
    """This morning's figures, counted as the daily report counts them (edge/hub/report.py): people
    screened from the cameras' telemetry windows the journal keeps; fever alerts, re-checks and passes not
    screened from the journal's alerts since local midnight."""
    start = local_midnight(periods(now_ms, tz)["today"][0], tz)
    counts = {t: len(journal.alerts(types=[t], since_ms=start, limit=None)) for t in GATE_TYPES}
    screened = sum(c["screened"] for *_, c in journal.screening_totals(start, now_ms + 1))
    return {"screened": screened, "alerts": counts["fever"], "rechecks": counts["recheck"],
            "unscreened": counts["unscreened"]}


# -- meters --------------------------------------------------------------------------------------------


def meters(nodes: Iterable[Any]) -> list[dict[str, Any]]:
    out = []
    for n in nodes:
        for d in devices_of(n):
            kind = get(d, "kind")
            if kind in METER_KINDS:
                out.append({"site": get(n, "site"), "node": get(n, "node"), "device": device_id(d),
                            "kind": kind, "name": get(d, "name") or device_id(d), "field": METER_KINDS[kind],
                            "key": f"{get(n, 'site')}/{get(n, 'node')}/{device_id(d)}"})
    return out


def meter_summary(readings: Readings, m: dict[str, Any], now_ms: int, tz: tzinfo | None) -> dict[str, Any]:
    """Usage today, this week and this month: the counter now minus at each period's local start."""
    p = periods(now_ms, tz)
    series = Series(m["site"], m["node"], m["device"], m["kind"])
    starts = [local_midnight(p[k][0], tz) for k in ("today", "week", "month")]
    vals = readings.values_at(series, m["field"], [*starts, now_ms])
    now_v = vals[-1]
    use = [None if now_v is None else max(0.0, now_v - (v if v is not None else now_v)) for v in vals[:-1]]
    out = {**m, "today": use[0], "week": use[1], "month": use[2]}
    if m["kind"] == "water_meter":
        night0 = local_midnight(p["today"][0], tz)
        out["night_flow"] = readings.minimum(series, "flow_lpm", night0, night0 + 5 * 3_600_000)
    return out


def meter_charts(readings: Readings, ms: list[dict[str, Any]], now_ms: int,
                 tz: tzinfo | None) -> dict[str, Any]:
    """Hourly usage today and daily usage this month of one meter or the sum of a building's meters of one
    kind, as uPlot data ([x seconds], [y]); the whole day and month are on the axis, buckets still to
    come are empty (null)."""
    p = periods(now_ms, tz)
    hours = hour_edges(p["today"][0], tz)
    first = p["month"][0]
    next_month = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    days = day_edges(first, (next_month - first).days, tz)

    def bars(edges: list[int]) -> list[Any]:
        total: list[float | None] = [None] * (len(edges) - 1)
        for m in ms:
            vals = readings.values_at(Series(m["site"], m["node"], m["device"], m["kind"]), m["field"],
                                      [min(e, now_ms) for e in edges])
            total = [a if b is None else (b if a is None else a + b) for a, b in zip(total, usage(vals),
                                                                                   strict=True)]
        use = [u if start <= now_ms else None for u, start in zip(total, edges, strict=False)]
        return [[e // 1000 for e in edges[:-1]], use]

    return {"hourly": bars(hours), "daily": bars(days), "tz": getattr(tz, "key", None)}


def chart_selection(ms: list[dict[str, Any]], key: str | None) -> tuple[str, str, list[dict[str, Any]]]:
    """(key, name, meters) for ``?m=``: a meter (site/node/device) or a building's meters of one kind
    (site/node/*kind); the first meter when nothing (or something unknown) is asked for."""
    for m in ms:
        if m["key"] == key:
            return m["key"], m["name"], [m]
    if key and "/*" in key:
        place, kind = key.split("/*", 1)
        members = [m for m in ms if f"{m['site']}/{m['node']}" == place and m["kind"] == kind]
        if members:
            return key, members[0]["node"], members
    return ms[0]["key"], ms[0]["name"], [ms[0]]


def after_hours_ranking(readings: Readings, ms: list[dict[str, Any]], now_ms: int, tz: tzinfo | None,
                        school_hours: tuple[Any, Any]) -> list[dict[str, Any]]:
    """Electricity meters ranked by energy used outside school hours this week (most first)."""
    first, ndays = periods(now_ms, tz)["week"]
    intervals = after_hours_edges(first, ndays, school_hours, tz)
    edges = sorted({min(e, now_ms) for s, t, _ in intervals for e in (s, t)})
    clipped = [(min(s, now_ms), min(t, now_ms), a) for s, t, a in intervals]
    rows = []
    for m in ms:
        if m["kind"] != "electricity_meter":
            continue
        vals = readings.values_at(Series(m["site"], m["node"], m["device"], m["kind"]), m["field"], edges)
        rows.append({**m, "kwh": after_hours_usage(dict(zip(edges, vals, strict=True)), clipped)})
    rows.sort(key=lambda r: -r["kwh"])
    return rows


def building_totals(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per node (a building or meter room) and kind: the sums of its meters."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for s in summaries:
        key = (s["site"], s["node"], s["kind"])
        row = out.setdefault(key, {"site": s["site"], "node": s["node"], "kind": s["kind"],
                                   "key": f"{s['site']}/{s['node']}/*{s['kind']}",
                                   "today": 0.0, "week": 0.0, "month": 0.0})
        for k in ("today", "week", "month"):
            row[k] += s[k] or 0.0
    return list(out.values())


# -- alerts: filters and CSV ---------------------------------------------------------------------------


def day_range(start: date | None, end: date | None, tz: tzinfo | None) -> tuple[int | None, int | None]:
    """[local midnight of start, local midnight after end)."""
    return (local_midnight(start, tz) if start else None,
            local_midnight(end + timedelta(days=1), tz) if end else None)


CSV_COLUMNS = ("id", "time", "type", "place", "value", "state", "outcome", "reading", "by")


def alerts_csv(views: list[dict[str, Any]], lang: str) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([text(f"console.col.{c}", lang) if c != "by" else text("console.col.user", lang)
                for c in CSV_COLUMNS] + ["site", "node", "device"])
    for v in views:
        w.writerow([v["id"], v["stamp"], v["title"], v["place"], v["value"], v["state_text"], v["outcome"],
                    v["reading"], v["by"], v["site"], v["node"], v["device"]])
    return "\ufeff" + out.getvalue()  # BOM: Excel on a Chinese Windows then reads UTF-8 correctly
