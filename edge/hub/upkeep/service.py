"""The hub's upkeep: usage in, ``maintenance_due`` and ``repair_request`` alerts out; and the functions the
CLI and the console call (``maintenance_view``, ``record_service``, ``add_repair`` ... ``patrol_views``).

The hub (edge/hub/app.py) owns one ``Upkeep`` and calls ``on_telemetry`` / ``on_state`` / ``on_alert``
from its main loop for every record it decodes, and ``tick`` after each drain; each call is a short
transaction on the journal database, so the CLI's service records and repair steps (other processes,
same file) are seen at the next tick. Nothing is cached between calls except the config.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from datetime import date, tzinfo
from pathlib import Path
from typing import Any

from edge.hub.journal import Journal, LifecycleError
from edge.hub.model import Alert
from edge.hub.notify.texts import relay_fault_text
from edge.hub.upkeep import store
from edge.hub.upkeep.plans import (
    Baseline,
    TaskStatus,
    Usage,
    meter_step,
    on_seconds_at,
    relay_step,
    should_alert,
    task_status,
    timing,
)
from edge.i18n import text
from edge.store.filters import Where

log = logging.getLogger("campus-edge.hub.upkeep")
Planner = Callable[[Alert], list[Any]]
# Device faults that can open a repair request: the event that starts one -> the event that clears it.
FAULTS = {"meter_offline": "meter_online", "camera_offline": "camera_online", "camera_fault": "camera_ok"}
CLEARS = {v: k for k, v in FAULTS.items()}
# A relay not switching: the hub sees its switch commands fail (``on_command``, relay_failures in a row),
# or its agent tells that it could not switch it on its own initiative (event ``relay_fault``, sent once
# per fault: it opens the request at once) until ``relay_ok``. One request per relay either way.
RELAY_FAULT = "relay_unanswered"
AGENT_RELAY_EVENTS = ("relay_fault", "relay_ok")


def now_ms() -> int:
    return int(time.time() * 1000)


def terms_of(cfg: dict[str, Any]) -> list[tuple[date, date, str]]:
    cal = (cfg.get("upkeep") or {}).get("calendar") or {}
    return [(date.fromisoformat(t["start"]), date.fromisoformat(t["end"]), t.get("name") or "")
            for t in cal.get("terms") or []]


def _tied(cfg: dict[str, Any], item: dict[str, Any]) -> tuple[str, tuple[str, str, str]] | None:
    for kind in ("meter", "relay"):
        t = item.get(kind)
        if t:
            return kind, (t.get("site") or cfg["site"][0], t["node"], t["device"])
    return None


def item_place(item: dict[str, Any]) -> str:
    return item.get("name") or item["id"]


def task_name(task: dict[str, Any]) -> str:
    return task.get("name") or task["id"]


def find(cfg: dict[str, Any], item_id: str, task_id: str | None = None) -> tuple[dict, dict | None]:
    for item in cfg.get("maintenance") or []:
        if item["id"] == item_id:
            if task_id is None:
                return item, None
            for task in item["tasks"]:
                if task["id"] == task_id:
                    return item, task
            raise LifecycleError(f"item {item_id!r} has no task {task_id!r} (tasks: "
                                 f"{', '.join(t['id'] for t in item['tasks'])})")
    raise LifecycleError(f"no maintenance item {item_id!r} in the hub config (items: "
                         f"{', '.join(i['id'] for i in cfg.get('maintenance') or []) or 'none'})")


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.1f}"


def reasons_text(task: dict[str, Any], st: TaskStatus, lang: str) -> str:
    parts = []
    for r in st.reasons:
        if r == "litres":
            parts.append(text("upkeep.reason.litres", lang, used=_fmt(st.litres or 0),
                              every=_fmt(task["every_litres"])))
        elif r == "on_hours":
            parts.append(text("upkeep.reason.on_hours", lang, used=_fmt(st.on_hours or 0),
                              every=_fmt(task["every_on_hours"])))
        elif r == "days":
            parts.append(text("upkeep.reason.days", lang, used=_fmt(st.days), every=_fmt(task["every_days"])))
        elif r == "term":
            parts.append(text("upkeep.reason.term", lang, term=st.term or ""))
    return text("upkeep.sep", lang).join(parts)


class Upkeep:
    """The hub's hook. ``planner`` turns a new alert into its notices (the hub's rules)."""

    def __init__(self, cfg: dict[str, Any], journal: Journal, tz: tzinfo | None, planner: Planner) -> None:
        self.cfg, self.journal, self.tz, self.planner = cfg, journal, tz, planner
        self.lang = cfg["language"]
        self.up = cfg["upkeep"]
        self.items: list[dict[str, Any]] = cfg.get("maintenance") or []
        self.terms = terms_of(cfg)
        self._by_device: dict[tuple[str, str, str], list[tuple[str, dict[str, Any]]]] = {}
        for item in self.items:
            tied = _tied(cfg, item)
            if tied:
                self._by_device.setdefault(tied[1], []).append((tied[0], item))
        self._next_check = 0.0
        store.open_tables(journal)
        start = now_ms()
        with journal.db.transaction() as c:  # tracking starts now for items new to the journal
            for item in self.items:
                if store.get_usage(c, item["id"]) is None:
                    store.put_usage(c, item["id"], Usage(), start)
                for task in item["tasks"]:
                    if store.get_baseline(c, item["id"], task["id"]) is None:
                        store.put_baseline(c, item["id"], task["id"], Baseline(start))

    def tied_topics(self) -> int:
        return len(self._by_device)

    # -- what the hub hears --------------------------------------------------------------------------
    def on_telemetry(self, site: str, node: str, device: str, values: dict[str, float], ts_ms: int) -> None:
        for kind, item in self._by_device.get((site, node, device), ()):
            if kind != "meter" or "volume_m3" not in values:
                continue
            with self.journal.db.transaction() as c:
                u, started = store.get_usage(c, item["id"]) or (Usage(), ts_ms)
                u2, _, reset = meter_step(u, values["volume_m3"], ts_ms)
                if u2 != u:
                    store.put_usage(c, item["id"], u2, started)
            if reset:
                log.warning("maintenance item %s: the meter %s/%s/%s went back from %s to %s m3 (reset); "
                            "counting goes on from the new reading", item["id"], site, node, device,
                            u.last_counter, values["volume_m3"])

    def on_state(self, site: str, node: str, device: str, state: dict[str, Any], place: str) -> None:
        on, ts = state.get("on"), state.get("ts")
        if isinstance(on, bool) and isinstance(ts, int) and not isinstance(ts, bool):
            for kind, item in self._by_device.get((site, node, device), ()):
                if kind != "relay":
                    continue
                with self.journal.db.transaction() as c:
                    u, started = store.get_usage(c, item["id"]) or (Usage(), ts)
                    u2 = relay_step(u, on, ts)
                    if u2 != u:
                        store.put_usage(c, item["id"], u2, started)
        patrol = state.get("patrol")
        if isinstance(patrol, dict):
            save_patrol_view(self.journal, site, node, device, place, state)

    def on_alert(self, alert: Alert) -> None:
        """Device faults start (or clear) the wait before a repair request opens itself."""
        if not self.up["auto_repair"]["enabled"]:
            return
        if alert.type in FAULTS:
            detail = alert.fields.get("reason") or alert.fields.get("error") or alert.fields.get("last_error")
            with self.journal.db.transaction() as c:
                c.execute("INSERT OR IGNORE INTO repair_pending VALUES(?,?,?,?,?,?,?)",
                          (alert.site, alert.node, alert.device, alert.type, alert.ts_ms, alert.place,
                           str(detail or "")[:300]))
        elif alert.type in CLEARS:
            self._cleared(alert.site, alert.node, alert.device, CLEARS[alert.type], alert.ts_ms)
        elif alert.type in AGENT_RELAY_EVENTS:
            self._agent_relay(alert)

    def _agent_relay(self, alert: Alert) -> None:
        """An agent's ``relay_fault`` opens the relay's request (at the next check), ``relay_ok`` clears it
        as an answered command does."""
        key = (alert.site, alert.node, alert.device)
        if alert.type == "relay_ok":
            with self.journal.db.transaction() as c:
                c.execute("DELETE FROM relay_checks WHERE site=? AND node=? AND device=?", key)
            self._cleared(*key, RELAY_FAULT, alert.ts_ms)
            return
        detail = relay_fault_text(alert.fields, self.lang)
        with self.journal.db.transaction() as c:
            c.execute("INSERT OR IGNORE INTO repair_pending VALUES(?,?,?,?,?,?,?)",
                      (*key, RELAY_FAULT, alert.ts_ms, alert.place, detail[:300]))
        log.warning("relay %s/%s/%s could not be switched by its agent: %s", *key, detail)

    def on_command(self, site: str, node: str, device: str, place: str, failed: bool, detail: str,
                   now: int | None = None) -> None:
        """A switch command's outcome for one relay (edge.hub.upkeep.relays.judge): ``relay_failures``
        failures in a row open one repair request for it; an answer clears the count and the fault."""
        if not self.up["auto_repair"]["enabled"]:
            return
        now = now_ms() if now is None else now
        key = (site, node, device)
        if not failed:
            with self.journal.db.transaction() as c:
                gone = c.execute("DELETE FROM relay_checks WHERE site=? AND node=? AND device=?",
                                 key).rowcount
                still = _open_for(c, site, node, device, RELAY_FAULT)
            if gone or still is not None:
                self._cleared(site, node, device, RELAY_FAULT, now)
            return
        with self.journal.db.transaction() as c:
            c.execute("INSERT INTO relay_checks VALUES(?,?,?,1,?,?) ON CONFLICT(site, node, device) "
                      "DO UPDATE SET failures=failures+1, last_error=excluded.last_error",
                      (*key, now, detail[:300]))
            failures, first = c.execute("SELECT failures, first_ms FROM relay_checks WHERE site=? AND node=? "
                                        "AND device=?", key).fetchone()
            if failures >= self.up["auto_repair"]["relay_failures"]:
                c.execute("INSERT OR IGNORE INTO repair_pending VALUES(?,?,?,?,?,?,?)",
                          (*key, RELAY_FAULT, first, place, text("upkeep.relay.failures", self.lang,
                                                                 n=failures, error=detail[:200])))
        log.warning("relay %s/%s/%s: switch command failed (%d in a row): %s", site, node, device, failures,
                    detail)

    def _cleared(self, site: str, node: str, device: str, fault: str, ts: int) -> None:
        """The device is back: no request opens for the fault any more, and the automatic one still open
        follows it: closed as ``recovered`` if nobody answered it yet, else it gets a note."""
        with self.journal.db.transaction() as c:
            c.execute("DELETE FROM repair_pending WHERE site=? AND node=? AND device=? AND fault=?",
                      (site, node, device, fault))
            rid = _open_for(c, site, node, device, fault)
            if rid is None:
                return
            r = _row(c, rid)
            if r["state"] != "reported" and r["recovered_ms"] is not None:
                return  # already noted once; a person is on it
            note = text("upkeep.repair.recovered_note", self.lang, time=_stamp(ts, self.tz))
            note = f"{r['note']}\n{note}" if r["note"] else note
            step = "recovered" if r["state"] == "reported" else "recovered_open"
            c.execute("UPDATE repairs SET state=?, recovered_ms=?, note=? WHERE id=?",
                      ("recovered" if step == "recovered" else r["state"], ts, note, rid))
            _update_alert(c, self.journal, r, step, text("upkeep.repair.system", self.lang), ts, self.planner)
        log.info("repair request %d: %s/%s/%s recovered by itself (%s)", rid, site, node, device, step)
        if step == "recovered":
            _close_request_alerts(self.journal, rid, text("upkeep.repair.system", self.lang), ts,
                                  "recovered by itself")

    # -- the periodic check ------------------------------------------------------------------------
    def tick(self, now: int | None = None, force: bool = False) -> list[Alert]:
        """Raise due tasks and open repairs whose fault outlasted its delay; the alerts made."""
        mono = time.monotonic()
        if not force and mono < self._next_check:
            return []
        self._next_check = mono + self.up["check_seconds"]
        now = now_ms() if now is None else now
        return self._check_due(now) + self._check_faults(now)

    def _check_due(self, now: int) -> list[Alert]:
        out: list[Alert] = []
        remind_ms = int(self.up["remind_hours"] * 3_600_000)
        for item in self.items:
            tied = _tied(self.cfg, item)
            site, node = (tied[1][0], tied[1][1]) if tied else (self.cfg["site"][0], "hub")
            for task in item["tasks"]:
                with self.journal.db.transaction() as c:
                    u, _ = store.get_usage(c, item["id"]) or (Usage(), now)
                    base = store.get_baseline(c, item["id"], task["id"]) or Baseline(now)
                    st = task_status(task, base, u, now, self.terms, self.tz)
                    due = store.get_due(c, item["id"], task["id"])
                    if not st.due:
                        continue
                    if due is None:
                        since = min(now, st.due_date_ms) if st.due_date_ms else now
                        c.execute("INSERT INTO upkeep_due(item, task, due_since_ms, reasons) VALUES(?,?,?,?)",
                                  (item["id"], task["id"], since, ",".join(st.reasons)))
                        due = (since, None, 0)
                    if not should_alert(due[0], due[1], now, remind_ms):
                        continue
                    n = due[2] + 1
                    detail = text("upkeep.due.detail", self.lang, task=task_name(task),
                                  why=reasons_text(task, st, self.lang))
                    if n > 1:
                        detail += text("upkeep.due.reminder", self.lang, n=n)
                    fields = {"item": item["id"], "task": task["id"], "detail": detail,
                              "reasons": list(st.reasons), "reminder": n - 1, "due_since": due[0],
                              "litres": st.litres, "on_hours": st.on_hours, "days": round(st.days, 2)}
                    alert = Journal.insert_made(c, site, node, item["id"], "maintenance_due",
                                               fields, item_place(item), now, self.planner)
                    c.execute("UPDATE upkeep_due SET last_alert_ms=?, alerts=? WHERE item=? AND task=?",
                              (now, n, item["id"], task["id"]))
                out.append(alert)
                log.info("maintenance due: %s / %s (%s), alert %d", item["id"], task["id"],
                         ",".join(st.reasons), alert.id)
        return out

    def _check_faults(self, now: int) -> list[Alert]:
        auto = self.up["auto_repair"]
        delays = {"meter_offline": auto["meter_offline_hours"] * 3_600_000,
                  "camera_offline": auto["camera_offline_minutes"] * 60_000,
                  "camera_fault": auto["camera_fault_minutes"] * 60_000, RELAY_FAULT: 0}
        out: list[Alert] = []
        for site, node, device, fault, since, place, detail in self.journal.db.query(
                "SELECT site, node, device, fault, since_ms, place, detail FROM repair_pending"):
            if now - since < delays.get(fault, 0):
                continue
            with self.journal.db.transaction() as c:
                c.execute("DELETE FROM repair_pending WHERE site=? AND node=? AND device=? AND fault=?",
                          (site, node, device, fault))
                if _open_for(c, site, node, device, fault) is not None:
                    continue
                desc = text(f"upkeep.repair.auto.{fault}", self.lang, detail=detail or "-",
                            since=_stamp(since, self.tz))
                rid, alert = _insert_repair(c, self.journal, self.lang, place, desc, None,
                                            text("upkeep.repair.system", self.lang), now, self.planner,
                                            (site, node, device, fault))
            log.info("repair request %d opened for %s/%s/%s (%s)", rid, site, node, device, fault)
            out.append(alert)
        return out


def _stamp(ts: int, tz: tzinfo | None) -> str:
    from edge.i18n import stamp

    return stamp(ts, tz)[:16]


def _open_for(c: Any, site: str, node: str, device: str, fault: str) -> int | None:
    row = c.execute("SELECT id FROM repairs WHERE site=? AND node=? AND device=? AND fault=? AND state IN "
                    "(?,?,?)", (site, node, device, fault, *store.OPEN_REPAIR)).fetchone()
    return int(row[0]) if row else None


def _update_alert(c: Any, journal: Journal, r: dict[str, Any], step: str, by: str, ts: int,
                  planner: Planner | None) -> Alert:
    """A ``repair_update`` (journalled closed, notified by the rules like the request itself): a person
    answered the request (accept, fix, defer) or its device recovered by itself."""
    fields = {"repair": r["id"], "step": step, "by": by, "description": r["description"],
              "reporter": r["by"], "reason": r["reason"] or "", "expected_date": r["expected_date"] or "",
              "note": r["note"] or "", "fault": r["fault"], "auto": r["fault"] is not None}
    return Journal.insert_made(c, r["site"] or "", r["node"] or "hub",
                              r["device"] or f"repair-{r['id']}", "repair_update", fields, r["place"], ts,
                              planner)


def _row(c: Any, rid: int) -> dict[str, Any]:
    return store.repair_row(c.execute(f"SELECT {', '.join(store.REPAIR_COLUMNS)} FROM repairs WHERE id=?",
                                      (rid,)).fetchone())


def _request_alerts(journal: Journal, rid: int, states: tuple[str, ...]) -> list[int]:
    return [int(r[0]) for r in journal.db.query(
        f"SELECT id FROM alerts WHERE type='repair_request' AND state IN ({','.join('?' * len(states))}) "
        "AND json_extract(fields, '$.repair')=?", (*states, rid))]


def _close_request_alerts(journal: Journal, rid: int, by: str, ts: int, note: str) -> None:
    """The request's own ``repair_request`` alert is done when the request is (no escalation after)."""
    for aid in _request_alerts(journal, rid, ("new", "acknowledged")):
        try:
            journal.close(aid, by, ts, "resolved", note=note)
        except LifecycleError:  # closed by a person meanwhile
            pass


def _insert_repair(c: Any, journal: Journal, lang: str, place: str, description: str, photo: str | None,
                   by: str, now: int, planner: Planner | None,
                   device: tuple[str, str, str, str] | None = None,
                   site: str = "") -> tuple[int, Alert]:
    s, n, d, f = device or (site, "hub", "", None)
    cur = c.execute("INSERT INTO repairs(place, description, photo, by, state, reported_ms, site, node, "
                    "device, fault) VALUES(?,?,?,?,?,?,?,?,?,?)",
                    (place, description, photo, by, "reported", now, s, n, d, f))
    rid = int(cur.lastrowid)
    fields = {"repair": rid, "detail": description, "by": by, "fault": f, "auto": device is not None}
    alert = Journal.insert_made(c, s, n, d or f"repair-{rid}", "repair_request", fields, place, now,
                               planner)
    return rid, alert


# -- functions for the CLI and the console (any process; the journal file) ------------------------------
def maintenance_view(journal: Journal, cfg: dict[str, Any], tz: tzinfo | None,
                     now: int | None = None) -> list[dict[str, Any]]:
    """Every item and task: usage since its last service, what is left, whether it is due, last service."""
    store.open_tables(journal)
    now = now_ms() if now is None else now
    terms = terms_of(cfg)
    out = []
    with journal.db.transaction() as c:
        for item in cfg.get("maintenance") or []:
            row = store.get_usage(c, item["id"])
            u = row[0] if row else Usage()
            tasks = []
            for task in item["tasks"]:
                base = store.get_baseline(c, item["id"], task["id"]) or Baseline(now)
                st = task_status(task, base, u, now, terms, tz)
                last = c.execute("SELECT ts_ms, by FROM upkeep_service WHERE item=? AND task=? "
                                        "ORDER BY ts_ms DESC LIMIT 1", (item["id"], task["id"])).fetchall()
                due = store.get_due(c, item["id"], task["id"])
                tasks.append({"id": task["id"], "name": task_name(task), "task": task, "status": st,
                              "due_since_ms": due[0] if due else None,
                              "last_service_ms": last[0][0] if last else None,
                              "last_service_by": last[0][1] if last else None,
                              "reasons": reasons_text(task, st, cfg["language"])})
            tied = _tied(cfg, item)
            out.append({"id": item["id"], "name": item_place(item), "tied": tied,
                        "litres": u.litres, "on_hours": on_seconds_at(u, now) / 3600.0,
                        "on": u.on_since_ms is not None, "resets": u.resets, "tasks": tasks})
    return out


def record_service(journal: Journal, cfg: dict[str, Any], item_id: str, task_id: str, by: str,
                   note: str = "", parts: str = "", photo: str | Path | None = None,
                   now: int | None = None) -> dict[str, Any]:
    """A service record: resets the task's counters, ends its due spell, closes its open alerts."""
    store.open_tables(journal)
    by = (by or "").strip()
    if not by:
        raise LifecycleError("say who did it (by)")
    item, task = find(cfg, item_id, task_id)
    assert task is not None
    now = now_ms() if now is None else now
    photo_rel = _keep_photo(journal, photo, f"service-{item_id}-{task_id}-{now}") if photo else None
    with journal.db.transaction() as c:
        u, _ = store.get_usage(c, item_id) or (Usage(), now)
        base = store.get_baseline(c, item_id, task_id) or Baseline(now)
        st = task_status(task, base, u, now, terms_of(cfg), journal.tz)
        due = store.get_due(c, item_id, task_id)
        cur = c.execute("INSERT INTO upkeep_service(item, task, ts_ms, by, note, parts, photo, due_since_ms, "
                        "litres, on_hours, days) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                        (item_id, task_id, now, by[:100], note or "", parts or "", photo_rel,
                         due[0] if due else None, st.litres, st.on_hours, st.days))
        sid = int(cur.lastrowid or 0)
        store.put_baseline(c, item_id, task_id, Baseline(now, u.litres, on_seconds_at(u, now)))
        c.execute("DELETE FROM upkeep_due WHERE item=? AND task=?", (item_id, task_id))
    for a in journal.alerts(types="maintenance_due", device=item_id, state=("new", "acknowledged"),
                            limit=None):
        if a.fields.get("task") == task_id:
            journal.close(a.id, by, now, "resolved", note=f"service record {sid}")
    grace = int(cfg["upkeep"]["grace_days"] * 86_400_000)
    return {"id": sid, "item": item_id, "task": task_id, "ts_ms": now, "status": st,
            "timing": timing(due[0] if due else None, now, grace)}


def _keep_photo(journal: Journal, photo: str | Path, name: str) -> str:
    src = Path(photo)
    if not src.is_file():
        raise FileNotFoundError(f"no photo at {src}")
    rel = Path("upkeep-photos") / f"{name}{src.suffix.lower() or '.jpg'}"
    (journal.dir / rel.parent).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, journal.dir / rel)
    return str(rel)


def services(journal: Journal, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
    store.open_tables(journal)
    keys = ("id", "item", "task", "ts_ms", "by", "note", "parts", "photo", "due_since_ms", "litres",
            "on_hours", "days")
    return [dict(zip(keys, r, strict=True)) for r in journal.db.query(
        f"SELECT {', '.join(keys)} FROM upkeep_service WHERE ts_ms >= ? AND ts_ms < ? ORDER BY ts_ms",
        (since_ms, until_ms))]


# -- repair requests ------------------------------------------------------------------------------------
def add_repair(journal: Journal, cfg: dict[str, Any], place: str, description: str, by: str,
               photo: str | Path | None = None, now: int | None = None) -> dict[str, Any]:
    """A staff member reports a fault; the logistics office hears of it as a ``repair_request`` alert."""
    from edge.hub.rules import plan

    store.open_tables(journal)
    place, description, by = (place or "").strip(), (description or "").strip(), (by or "").strip()
    for name, v in (("place", place), ("description", description), ("by", by)):
        if not v:
            raise LifecycleError(f"say the {name}")
    now = now_ms() if now is None else now
    photo_rel = _keep_photo(journal, photo, f"repair-{now}") if photo else None
    with journal.db.transaction() as c:
        rid, _ = _insert_repair(c, journal, cfg["language"], place[:200], description[:2000], photo_rel,
                                by[:100], now, lambda a: plan(cfg["rules"], a, journal.tz),
                                site=cfg["site"][0])
    return get_repair(journal, rid)


def get_repair(journal: Journal, rid: int) -> dict[str, Any]:
    store.open_tables(journal)
    rows = journal.db.query(f"SELECT {', '.join(store.REPAIR_COLUMNS)} FROM repairs WHERE id=?", (int(rid),))
    if not rows:
        raise LifecycleError(f"no repair request {rid}")
    return store.repair_row(rows[0])


def repairs(journal: Journal, state: str | None = None, since_ms: int | None = None,
            until_ms: int | None = None) -> list[dict[str, Any]]:
    store.open_tables(journal)
    where = Where()
    if state == "open":
        where.add("state IN (?,?,?)", *store.OPEN_REPAIR)
    elif state:
        where.add("state=?", state)
    where.time_range("reported_ms", since_ms, until_ms)
    sql = f"SELECT {', '.join(store.REPAIR_COLUMNS)} FROM repairs{where.sql()} ORDER BY id"
    return [store.repair_row(r) for r in journal.db.query(sql, tuple(where.args))]


ALLOWED = {"accept": ("reported", "deferred"), "fix": ("reported", "accepted", "deferred"),
           "defer": ("reported", "accepted", "deferred")}


def step_repair(journal: Journal, rid: int, action: str, by: str, reason: str = "",
                expected_date: str | None = None, note: str = "", now: int | None = None,
                cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """reported -> accepted -> fixed, or -> deferred ("cannot fix now": reason and expected date).

    With the hub's ``cfg`` each step is a ``repair_update`` alert that its rules send on (to the
    logistics office, the reporter's group), written in the same transaction as the step; accepting or
    deferring acknowledges the request's alert (no escalation once someone answered), fixing closes it.
    """
    from edge.hub.rules import plan

    store.open_tables(journal)
    by = (by or "").strip()
    if not by:
        raise LifecycleError("say who did it (by)")
    if action not in ALLOWED:
        raise LifecycleError(f"unknown step {action!r} (accept, fix, defer)")
    if action == "defer":
        if not (reason or "").strip():
            raise LifecycleError("a deferral needs its reason (--reason)")
        try:
            date.fromisoformat(expected_date or "")
        except ValueError:
            raise LifecycleError("a deferral needs the expected date (--expected-date YYYY-MM-DD)") from None
    now = now_ms() if now is None else now
    with journal.db.transaction() as c:
        row = c.execute("SELECT state FROM repairs WHERE id=?", (int(rid),)).fetchone()
        if row is None:
            raise LifecycleError(f"no repair request {rid}")
        if row[0] not in ALLOWED[action]:
            raise LifecycleError(f"repair request {rid} is {row[0]}; cannot {action} it")
        if action == "accept":
            c.execute("UPDATE repairs SET state='accepted', accepted_ms=?, accepted_by=? WHERE id=?",
                      (now, by, rid))
        elif action == "fix":
            c.execute("UPDATE repairs SET state='fixed', fixed_ms=?, fixed_by=?, "
                      "accepted_ms=COALESCE(accepted_ms, ?), accepted_by=COALESCE(accepted_by, ?), "
                      "note=? WHERE id=?", (now, by, now, by, note or "", rid))
        else:
            c.execute("UPDATE repairs SET state='deferred', deferred_ms=COALESCE(deferred_ms, ?), "
                      "deferred_by=?, reason=?, expected_date=? WHERE id=?",
                      (now, by, reason.strip()[:500], expected_date, rid))
        if cfg is not None:
            rules = cfg["rules"]
            _update_alert(c, journal, _row(c, rid), action, by, now, lambda a: plan(rules, a, journal.tz))
    _follow_alerts(journal, rid, action, by, now)
    return get_repair(journal, rid)


def _follow_alerts(journal: Journal, rid: int, action: str, by: str, now: int) -> None:
    """Fixed: the request's alert is closed; answered: acknowledged (its escalation is off)."""
    if action == "fix":
        _close_request_alerts(journal, rid, by, now, f"repair request {rid} fixed")
        return
    for aid in _request_alerts(journal, rid, ("new",)):
        try:
            journal.acknowledge(aid, by, now)
        except LifecycleError:
            pass


def response_ms(r: dict[str, Any]) -> int | None:
    """Time to the first answer: accepted, deferred or fixed, whichever came first."""
    answers = [t for t in (r["accepted_ms"], r["deferred_ms"], r["fixed_ms"]) if t is not None]
    return min(answers) - r["reported_ms"] if answers else None


def repair_ms(r: dict[str, Any]) -> int | None:
    return r["fixed_ms"] - r["reported_ms"] if r["fixed_ms"] is not None else None


# -- patrol views ---------------------------------------------------------------------------------------
def save_patrol_view(journal: Journal, site: str, node: str, device: str, place: str,
                     state: dict[str, Any]) -> None:
    import base64
    import binascii

    thumb = None
    raw = state.get("thumb_png")
    if isinstance(raw, str):
        try:
            thumb = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            thumb = None
    slim = {k: v for k, v in state.items() if k != "thumb_png"}
    ts = state.get("ts") if isinstance(state.get("ts"), int) else now_ms()
    with journal.db.transaction() as c:
        c.execute("INSERT INTO patrol_views VALUES(?,?,?,?,?,?,?) ON CONFLICT(site, node, device) DO UPDATE "
                  "SET ts_ms=excluded.ts_ms, place=excluded.place, state=excluded.state, "
                  "thumb=COALESCE(excluded.thumb, thumb)",
                  (site, node, device, ts, place, json.dumps(slim, ensure_ascii=False), thumb))


def patrol_views(journal: Journal) -> list[dict[str, Any]]:
    store.open_tables(journal)
    return [{"site": s, "node": n, "device": d, "ts_ms": ts, "place": p, "state": json.loads(st),
             "thumb": bytes(th) if th is not None else None}
            for s, n, d, ts, p, st, th in journal.db.query(
                "SELECT site, node, device, ts_ms, place, state, thumb FROM patrol_views "
                "ORDER BY site, node, device")]
