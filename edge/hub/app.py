"""The hub's main loop: MQTT in, journal entries (and their planned notices) durable, then acknowledged.

Threads: paho's network thread (callbacks only enqueue, edge/mqtt/session.py); this loop, which owns the
MQTT client and writes the journal; the dispatcher (edge/hub/dispatch.py), which owns the channels'
HTTP clients; callers of ``command``/``nodes``/journal methods (the console, the CLI), which only
enqueue work for this loop or use the journal's short transactions.

A message's life: decoded (edge/hub/ingest.py) or refused (counted, logged escaped and truncated,
acknowledged, dropped); events are journalled with their snapshot and notices in one transaction,
then acknowledged to the broker (PUBACK, manual ack). A hub killed before that gets the message again
from its persistent session, and the journal's unique key makes the copy a no-op.
States and replies are kept in memory only (the console shows them; the agents retain states).
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from edge.hub import ingest
from edge.hub.broker_watch import BrokerWatch
from edge.hub.config import client_id_for, timezone_of
from edge.hub.dispatch import Dispatcher
from edge.hub.journal import Journal
from edge.hub.model import Alert
from edge.hub.rules import plan
from edge.hub.upkeep import relays
from edge.hub.upkeep.service import Upkeep
from edge.mqtt.info_pages import InfoPages
from edge.mqtt.session import Connected, Disconnected, Message, MqttSession, Subscribed

log = logging.getLogger(__name__)
DRAIN_ITEMS = 500
ERROR_EVENTS_KEPT = 5
EXPIRY_GRACE_SECONDS = 5.0  # beyond the caller's timeout, for clock differences between hub and agents


class Hub:
    """``Hub(cfg)``, then ``run()`` on a thread (or the main thread) until ``stop()``; ``ready`` is set
    once it is subscribing. Listeners added with ``add_listener(fn)`` get ``("alert", Alert)``,
    ``("state", {...})`` and ``("status", {...})`` on the main loop: they must only enqueue."""

    def __init__(self, cfg: dict[str, Any], *, dispatcher: Dispatcher | None = None) -> None:
        self.cfg = cfg
        self.root = cfg["mqtt"]["root"]
        self.sites: list[str] = cfg["site"]
        self.tz = timezone_of(cfg)
        self.journal = Journal(cfg["storage"]["path"], self.tz)
        self.journal.on_change = lambda alert: self.inbox.put(("changed", alert))
        self.dispatcher = dispatcher or Dispatcher(self.journal, cfg["channels"], cfg["language"], self.tz,
                                                   cfg["delivery"])
        self.inbox: queue.Queue = queue.Queue()
        self.session = MqttSession(cfg["mqtt"], client_id_for(cfg), self.inbox, manual_ack=True)
        self.counters: Counter[str] = Counter()
        self.ready = threading.Event()
        self.connected = threading.Event()
        self.subscribed = threading.Event()  # the broker confirmed our subscriptions (tests, health)
        self._stop = threading.Event()
        self._listeners: list[Callable[[str, Any], None]] = []
        # memory: (site, node) -> view pieces; info and status also persisted by the journal
        self._infos: dict[tuple[str, str], dict[str, Any]] = {}
        self._info_pages = InfoPages()  # pages of large nodes' info until each is complete
        self._online: dict[tuple[str, str], bool | None] = {}
        self._status_ms: dict[tuple[str, str], int | None] = {}
        self._last_seen: dict[tuple[str, str], int] = {}
        self._states: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._health: dict[tuple[str, str], dict[str, float]] = {}
        self._errors: dict[tuple[str, str], deque[dict[str, Any]]] = {}
        # command id -> (replies so far, set when done, how many devices' replies complete it)
        self._waiting: dict[str, tuple[list[dict[str, Any]], threading.Event, int | None]] = {}
        self._wlock = threading.Lock()
        self._next_status = time.monotonic() + cfg["status_seconds"]
        self._broker = BrokerWatch(cfg["broker_alert_seconds"], time.monotonic(), int(time.time() * 1000))
        # maintenance by usage, repair requests, patrol views (edge/hub/upkeep, docs/upkeep.md)
        self.upkeep = Upkeep(cfg, self.journal, self.tz, self._planner)
        for key, node in self.journal.nodes().items():
            if node["info"] is not None:
                self._infos[key] = node["info"]
            self._online[key] = node["online"]
            self._status_ms[key] = node["status_ms"]

    # -- life cycle ---------------------------------------------------------------------------------
    def run(self) -> None:
        log.info("hub starting: sites %s, journal %s (%d entries), %d channel(s), %d rule(s)",
                 ", ".join(self.sites), self.cfg["storage"]["path"], self.journal.count(),
                 len(self.cfg["channels"]), len(self.cfg["rules"]))
        self.dispatcher.start()
        self.session.start()
        self.ready.set()
        try:
            while not self._stop.is_set():
                try:
                    self._drain()
                    self._tick()
                except Exception:  # e.g. the disk is full: nothing was acknowledged; the broker resends
                    self.counters["errors"] += 1
                    log.exception("hub loop step failed; going on")
                    self._stop.wait(1.0)
        finally:
            self._shutdown()

    def stop(self) -> None:
        self._stop.set()
        self.inbox.put(None)

    def _shutdown(self) -> None:
        self.session.stop()
        self.dispatcher.stop()
        self._status()
        self.journal.shutdown()

    def add_listener(self, fn: Callable[[str, Any], None]) -> None:
        self._listeners.append(fn)

    # -- services for the console and the CLI (any thread) -------------------------------------------
    def command(self, site: str, node: str, device: str, action: str, seconds: float | None = None,
                timeout: float = 10.0, by: str = "") -> dict[str, Any]:
        """Send a command to one device (docs/mqtt.md) and wait for its reply."""
        replies = self._send_command(f"{self.root}/{site}/{node}/{device}/set", action, seconds, timeout, by,
                                     expect=1)
        if not replies or "site" in replies[0]:  # sent (an agent's reply has its site): judged on the loop,
            # a relay that does not answer opens a repair request (edge/hub/upkeep/relays.py)
            self.inbox.put(("command_outcome", site, node, device, action, replies[0] if replies else None))
        return replies[0] if replies else {"ok": False, "error": "timeout"}

    def command_group(self, site: str, group: str, action: str, seconds: float | None = None,
                      timeout: float = 10.0, by: str = "",
                      members: int | None = None) -> list[dict[str, Any]]:
        """Send a command to a group; every reply received within ``timeout``, or sooner once the
        ``members`` the caller knows of have all answered (an unknown member may then be missed)."""
        replies = self._send_command(f"{self.root}/{site}/group/{group}/set", action, seconds, timeout, by,
                                     expect=members or None)
        for r in replies:  # who answered is judged; who did not is unknown (a group has no roll call)
            self.inbox.put(("command_outcome", r["site"], r["node"], r["device"], action, r))
        return replies

    def _send_command(self, topic: str, action: str, seconds: float | None, timeout: float, by: str,
                      expect: int | None) -> list[dict[str, Any]]:
        cid = f"hub-{uuid.uuid4().hex[:16]}"
        # expires soon after we stop waiting: a command reported as timed out must not run later
        body: dict[str, Any] = {"id": cid, "action": action,
                                "expires": int((time.time() + timeout + EXPIRY_GRACE_SECONDS) * 1000)}
        if seconds is not None:
            body["seconds"] = seconds
        done = threading.Event()
        replies: list[dict[str, Any]] = []
        with self._wlock:
            self._waiting[cid] = (replies, done, expect)
        log.info("command %s %s on %s%s", cid, action, topic, f" by {by}" if by else "")
        sent: Future = Future()
        self.inbox.put(("publish", topic, json.dumps(body).encode(), sent))
        deadline = time.monotonic() + timeout
        try:
            try:
                published = sent.result(timeout=timeout)
            except FutureTimeout:
                published = None
            if not published:
                error = "not connected to the broker" if published is False else "the hub is not running"
                log.warning("command %s not sent: %s", cid, error)
                return [{"id": cid, "ok": False, "error": error}] if expect == 1 else []
            done.wait(max(0.0, deadline - time.monotonic()))
        finally:
            with self._wlock:
                self._waiting.pop(cid, None)
        return list(replies)

    def nodes(self) -> list[dict[str, Any]]:
        """A view of every known node: availability, version, devices with names and last states."""
        return self._call(self._nodes_view)

    def _call(self, fn: Callable[[], Any], timeout: float = 5.0) -> Any:
        if threading.current_thread() is self._loop_thread:
            return fn()
        fut: Future = Future()
        self.inbox.put(("call", fn, fut))
        return fut.result(timeout)

    _loop_thread: threading.Thread | None = None

    def _nodes_view(self) -> list[dict[str, Any]]:
        keys = sorted(set(self._infos) | set(self._online) | set(self._last_seen))
        out = []
        for key in keys:
            info = self._infos.get(key) or {}
            health = self._health.get(key, {})
            devices = []
            for d in info.get("devices", []):
                devices.append({**d, "name": d.get("name") or d["id"],
                                "state": self._states.get((*key, d["id"]))})
            out.append({"site": key[0], "node": key[1], "online": self._online.get(key),
                        "status_ms": self._status_ms.get(key), "last_seen_ms": self._last_seen.get(key),
                        "version": info.get("version", ""), "devices": devices,
                        "errors": list(self._errors.get(key, ())),
                        "outbox_pending": health.get("outbox_pending"), "health": dict(health)})
        return out

    # -- main loop --------------------------------------------------------------------------------
    def _drain(self) -> None:
        self._loop_thread = threading.current_thread()
        try:
            item = self.inbox.get(timeout=0.5)
            for _ in range(DRAIN_ITEMS):
                self._handle(item)
                item = self.inbox.get_nowait()
            self._handle(item)
        except queue.Empty:
            pass

    def _tick(self) -> None:
        now = time.monotonic()
        if now >= self._next_status:
            self._next_status = now + self.cfg["status_seconds"]
            self._status()
        for alert in self.upkeep.tick():  # maintenance_due, repair_request (throttled inside)
            self.dispatcher.wake()
            self._emit("alert", alert)
        if self._broker.due(now):
            log.error("no connection to the broker %s since %s: no alert, state or command of the campus "
                      "gets through (is mosquitto running and answering on the hub machine?)",
                      self._broker_address(), time.strftime("%H:%M:%S", time.localtime(
                          self._broker.down_since_ms / 1000)))
            self._broker_entry("broker_offline", self._broker.down_since_ms)

    def _broker_address(self) -> str:
        return f"{self.cfg['mqtt']['host']}:{self.cfg['mqtt']['port']}"

    def _broker_entry(self, etype: str, since_ms: int) -> None:
        """broker_offline / broker_online: the hub's own entry, told like any alert (notices need no
        broker)."""
        now_ms = int(time.time() * 1000)
        fields = {"broker": self._broker_address(), "since_ms": since_ms,
                  "minutes": round((now_ms - since_ms) / 60000, 1)}
        alert = self.journal.record_made(self.sites[0], "hub", "", etype, fields, "", now_ms, self._planner)
        self.dispatcher.wake()
        self._emit("alert", alert)

    def _handle(self, item: Any) -> None:
        if isinstance(item, Message):
            self.counters["received"] += 1
            self._on_message(item)
        elif isinstance(item, tuple):
            kind = item[0]
            if kind == "publish":
                _, topic, payload, fut = item
                mid = self.session.publish(topic, payload, qos=1) if self.session.connected else None
                fut.set_result(mid is not None)
            elif kind == "call":
                _, fn, fut = item
                try:
                    fut.set_result(fn())
                except Exception as exc:
                    fut.set_exception(exc)
            elif kind == "changed":
                self._emit("alert", item[1])
            elif kind == "command_outcome":
                self._command_outcome(*item[1:])
        elif isinstance(item, Connected | Subscribed | Disconnected):
            self._on_connection(item)

    def _on_connection(self, item: Connected | Subscribed | Disconnected) -> None:
        if isinstance(item, Connected):
            log.info("connected to %s (broker kept our session: %s)", self._broker_address(),
                     item.session_present)
            self.session.subscribe(ingest.subscriptions(self.root, self.sites), qos=1)
            self.connected.set()
            if (since_ms := self._broker.up()) is not None:
                self._broker_entry("broker_online", since_ms)
        elif isinstance(item, Subscribed):
            if any(code >= 0x80 for code in item.granted):
                log.error("the broker refused some subscriptions (codes %s): check its ACL for the hub",
                          item.granted)
            self.subscribed.set()
        else:
            self.connected.clear()
            self.subscribed.clear()
            self._broker.down(time.monotonic(), int(time.time() * 1000))
            log.warning("broker connection lost (%s); unacknowledged messages come again", item.reason)

    def _on_message(self, msg: Message) -> None:
        try:
            rec = ingest.decode(self.root, msg.topic, msg.payload, self.cfg["max_payload_bytes"])
            if rec is not None:
                self._apply(rec)
        except ingest.BadPayload as exc:
            self.counters["bad_payloads"] += 1
            log.warning("refused message on %r: %s (payload %s)", msg.topic[:200], exc,
                        ingest.escape(msg.payload))
        except (OSError, sqlite3.Error):  # disk full, journal unwritable: not stored, so not acknowledged
            self.counters["storage_errors"] += 1
            log.exception("cannot store the message on %r; the broker sends it again after a reconnect",
                          msg.topic[:200])
            return
        except Exception:  # a bug must not stop the stream: count it, log it, let the others pass
            self.counters["errors"] += 1
            log.exception("unexpected error handling a message on %r", msg.topic[:200])
        if not self.session.ack(msg):
            self.counters["not_acknowledged"] += msg.qos > 0

    def _command_outcome(self, site: str, node: str, device: str, action: str,
                         reply: dict[str, Any] | None) -> None:
        verdict = relays.judge(action, reply, self._online.get((site, node)))
        if verdict is not None:
            self.upkeep.on_command(site, node, device, ingest.place_of(self._infos.get((site, node)), device),
                                   *verdict)

    def _planner(self, alert: Alert) -> list[Any]:
        return plan(self.cfg["rules"], alert, self.tz)

    # noqa reason: a dispatch by record type that the upkeep branch extends; a table once it has landed
    def _apply(self, rec: ingest.Record) -> None:  # noqa: C901
        now = int(time.time() * 1000)
        key = (rec.site, rec.node)
        self._last_seen[key] = now
        if isinstance(rec, ingest.EventIn):
            place = ingest.place_of(self._infos.get(key), rec.device)
            alert = self.journal.record_event(rec, place, now, self._planner)
            if alert is None:
                self.counters["duplicates"] += 1
                return
            self.counters["events"] += 1
            if rec.type.endswith("_offline") or "error" in rec.fields:
                errs = self._errors.setdefault(key, deque(maxlen=ERROR_EVENTS_KEPT))
                errs.append({"device": rec.device, "type": rec.type, "ts_ms": rec.ts_ms,
                             "error": rec.fields.get("error") or rec.fields.get("last_error")})
            self.dispatcher.wake()
            self._emit("alert", alert)
            self.upkeep.on_alert(alert)
        elif isinstance(rec, ingest.StatusIn):
            self._online[key] = rec.online
            self._status_ms[key] = now
            alert = self.journal.record_status(rec.site, rec.node, rec.online, now, self._planner)
            if alert is not None:
                self.counters["availability"] += 1
                log.info("node %s/%s is %s", rec.site, rec.node, "online" if rec.online else "OFFLINE")
                self.dispatcher.wake()
                self._emit("alert", alert)
            self._emit("status", {"site": rec.site, "node": rec.node, "online": rec.online, "ts_ms": now})
        elif isinstance(rec, ingest.InfoIn):
            # a large node's info comes in pages: names are taken once pages 1..n of a session are here
            info = self._info_pages.feed(key, rec.page, rec.info or None)
            if info is not None and self._infos.get(key) != info:
                self._infos[key] = info
                self.journal.save_info(rec.site, rec.node, info)
                log.info("node %s/%s: %d device(s) known", rec.site, rec.node, len(info["devices"]))
        elif isinstance(rec, ingest.StateIn):
            self._states[(rec.site, rec.node, rec.device)] = rec.state
            self.upkeep.on_state(rec.site, rec.node, rec.device, rec.state,
                                 ingest.place_of(self._infos.get(key), rec.device))
            self._emit("state", {"site": rec.site, "node": rec.node, "device": rec.device,
                                 "state": rec.state})
        elif isinstance(rec, ingest.ReplyIn):
            self._on_reply(rec)
        elif isinstance(rec, ingest.TelemetryIn):
            if rec.device == "agent":
                self._health[key] = rec.values
                return
            self.upkeep.on_telemetry(rec.site, rec.node, rec.device, rec.values, rec.ts_ms)
            counts = ingest.screening_counts(rec.values)
            if counts is not None:
                self.journal.record_screening(rec.site, rec.node, rec.device, rec.seq, rec.ts_ms, counts)

    def _on_reply(self, rec: ingest.ReplyIn) -> None:
        cid = rec.reply.get("id")
        with self._wlock:
            waiting = self._waiting.get(cid) if isinstance(cid, str) else None
            if waiting is None:
                return
            replies, done, expect = waiting
            replies.append({**rec.reply, "site": rec.site, "node": rec.node, "device": rec.device})
            answered = len({(r["node"], r["device"]) for r in replies})
        if expect is not None and answered >= expect:
            done.set()

    def _emit(self, kind: str, what: Any) -> None:
        for fn in list(self._listeners):
            try:
                fn(kind, what)
            except Exception:
                log.exception("a hub listener failed")

    def _status(self) -> None:
        log.info("status: %s; deliveries %s; dispatch %s",
                 ", ".join(f"{k}={v}" for k, v in sorted(self.counters.items())) or "idle",
                 self.journal.delivery_counts() or "none",
                 ", ".join(f"{k}={v}" for k, v in sorted(self.dispatcher.counters.items())) or "idle")
