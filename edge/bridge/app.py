"""The bridge's main loop: MQTT in, batches out, acknowledgements only after the batch is durable.

Threads: paho's network thread (callbacks only enqueue, edge/mqtt/session.py)
and this loop, which owns the MQTT client, the sink and the disk buffer.

A message's life: decoded into a point (or refused and counted), added to the
open batch; the batch is written when it is full, when its oldest message is
``batch.interval_seconds`` old, or when no message came for ``batch.idle_ms``
(the broker only sends so many unacknowledged messages, so waiting longer would
only stall it). The write goes to the database when it is up and nothing is
buffered, otherwise to the disk buffer (so order is kept); either way the
batch's messages are acknowledged (PUBACK) only afterwards. A bridge killed
before that gets them again from the broker (persistent session), and
rewriting a point overwrites it.

Telemetry of a device whose kind is not known yet (the node's retained info has
not arrived) is held, unacknowledged, for ``info_wait_seconds``; then it is
written with kind ``unknown``. Kinds are kept in the buffer's SQLite file, so
a restarted bridge knows them before the retained info arrives again.

In a share group, bridges watch each other's retained state and a live one takes over a dead one's
session (edge/bridge/peers.py): a second Bridge in ``adopt`` mode, in a thread of the live bridge's process,
with the dead bridge's client id, its own buffer file and no subscriptions.
"""

from __future__ import annotations

import copy
import logging
import queue
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from edge.bridge import decode, peers
from edge.bridge.buffer import DiskBuffer
from edge.bridge.config import client_id_for
from edge.bridge.decode import BadMessage, Telemetry
from edge.bridge.lineproto import Point
from edge.bridge.sinks import Sink, SinkRejected, SinkUnavailable, make_sink
from edge.heartbeat import Heartbeats
from edge.mqtt.info_pages import InfoPages, page_of_topic
from edge.mqtt.payloads import printable
from edge.mqtt.session import Connected, Disconnected, Message, MqttSession, Will
from edge.mqtt.topics import DataTopic, parse_data_topic
from edge.sdnotify import Notifier
from edge.store.db import Database
from edge.watchdog import Watchdog, bridge_status

log = logging.getLogger(__name__)

parse_topic = lru_cache(maxsize=65536)(parse_data_topic)  # pure, and a campus has a few thousand topics
# Telemetry waiting for its node's info; beyond this the oldest is written as unknown. Held messages
# are unacknowledged, so they occupy the broker's in-flight window to us (Mosquitto's default
# max_inflight_messages is 20): holding more would stall every other node behind one without info.
MAX_HELD = 8
DRAIN_MESSAGES = 2000  # messages handled per loop turn at most (then timers, held telemetry, the backlog)
POLL_MIN, POLL_SECONDS = 32, 0.002  # a turn with this many messages: look again after this long (below)
REFUSED_LOG_SECONDS = 10.0  # at most one "dropped values" line this often
DRAIN_SECONDS = 0.5  # time spent draining the buffer per loop turn, so new messages keep moving
ADOPT_IDLE_SECONDS = 1.0  # a taken-over session is done when nothing came for this long (all acknowledged)
# A peer must have been offline this long before its session is taken over: a peer that is only
# restarting (or both bridges restarting at once, each reading the other's stale retained `offline`)
# says `online` again within it, and no session changes hands for nothing.
PEER_GRACE_SECONDS = 5.0
ADOPT_RETRY_SECONDS = 5.0  # after a takeover that did not finish (the peer came back, the broker went)


@dataclass
class Held:
    msg: Message
    topic: DataTopic
    tel: Telemetry
    deadline: float


class Bridge:
    def __init__(self, cfg: dict[str, Any], sink: Sink | None = None, adopt: str | None = None,
                 kinds: dict[str, dict[str, str]] | None = None) -> None:
        """adopt: take over the session of the dead peer with this client id (peers.py), then end."""
        self.cfg = cfg
        self.root = cfg["mqtt"]["root"]
        self.adopt = adopt
        self.client_id = adopt or client_id_for(cfg)
        self.group = cfg["share_group"]
        self.db = Database(cfg["storage"]["path"])
        self.buffer = DiskBuffer(self.db, cfg["storage"]["max_points"])
        self.sink = sink or make_sink(cfg["sink"])
        self.inbox: queue.Queue = queue.Queue()
        will = None
        if self.group and not adopt:  # peers take over our session when this goes out (peers.py)
            will = Will(peers.status_topic(self.group, self.client_id),
                        peers.status_payload(peers.OFFLINE, 0))
        self.session = MqttSession(cfg["mqtt"], self.client_id, self.inbox, manual_ack=True, will=will,
                                   buffered_reads=True, batched=True)
        # "site/node" -> device -> kind
        self.kinds: dict[str, dict[str, str]] = self.db.get("bridge", "kinds", {})
        self.kinds.update(kinds or {})
        self.peer_states: dict[str, str | None] = {}
        self.adoptions: dict[str, tuple[Bridge, threading.Thread]] = {}
        self.adopt_retry_at: dict[str, float] = {}
        self.peer_offline_since: dict[str, float] = {}  # time.monotonic() when we learnt a peer is offline
        self.unsubscribed_at: float | None = None  # adopt mode: when the peer's subscriptions were dropped
        self.adopted = False  # adopt mode: the peer's session was emptied and ended
        self.info_pages = InfoPages()
        self.held: deque[Held] = deque()
        self.batch: list[Point] = []
        self.batch_msgs: list[Message] = []
        self.to_ack: list[Message] = []  # acknowledged together (one write) at the end of a loop turn
        self._last_turn = 0  # messages handled in the last loop turn
        self.batch_since = 0.0
        self.last_message = 0.0
        self.counters: Counter[str] = Counter()
        self.retry_at = 0.0
        self.retry_delay = cfg["retry"]["min_seconds"]
        self.sink_up = True
        self.max_bytes = cfg["max_payload_bytes"]
        self.event_tags = tuple(cfg["event_tags"])
        self._stop = threading.Event()
        self.ready = threading.Event()
        self._next_status = time.monotonic() + cfg["status_seconds"]
        # systemd: READY, WATCHDOG while this loop turns, STATUS (a takeover thread must not ping for us)
        self.watchdog = Watchdog(Heartbeats(), Notifier({}) if adopt else None)
        self._refused_log_at = 0.0
        self._refused_since_log = 0

    # -- life cycle -------------------------------------------------------------
    def run(self) -> None:
        log.info("bridge starting: %d point(s) in the disk buffer, sink %s", len(self.buffer),
                 self.cfg["sink"]["type"])
        self.session.start()
        self.ready.set()
        self.watchdog.ready(bridge_status(self))
        try:
            while not self._stop.is_set():
                try:
                    self._drain_inbox()
                    self._tick()
                    if self.adopt and self._adoption_done():
                        break
                    self.watchdog.tick(lambda: bridge_status(self))
                except Exception:  # e.g. the buffer's disk is full: nothing was acknowledged; go on
                    self.counters["errors"] += 1
                    log.exception("bridge loop step failed; going on")
                    self._stop.wait(1.0)
        finally:
            self._shutdown()

    def stop(self) -> None:
        self._stop.set()
        self.inbox.put(None)

    def _shutdown(self) -> None:
        self.watchdog.stopping()
        self._drain_inbox(timeout=0)
        self._flush()  # held telemetry stays unacknowledged: the broker gives it to us (or a peer) again
        self._status()
        for adopter, thread in list(self.adoptions.values()):
            adopter.stop()
            thread.join(10)
        final = []
        if self.adopt and self.adopted:  # the peer's state is cleared: nobody takes this session over again
            final = [(peers.status_topic(self.group, self.adopt), b"", True)]
        elif self.group and not self.adopt:  # a clean stop sends no will: say it, so a peer takes over
            final = [(peers.status_topic(self.group, self.client_id),
                      peers.status_payload(peers.OFFLINE, int(time.time() * 1000)), True)]
        # a taken-over session ends with us; our own lives on (the broker queues for us while we are away)
        self.session.stop(final, end_session=bool(self.adopt))
        self.sink.close()
        self.db.close()

    def subscriptions(self) -> list[str]:
        share = f"$share/{self.group}/" if self.group else ""
        data = [f"{share}{self.root}/+/+/+/{leaf}" for leaf in ("telemetry", "event", "state")]
        watch = [peers.status_filter(self.group)] if self.group else []
        # every bridge needs every node's info (and a large node's pages): not shared
        return [f"{self.root}/+/+/info", f"{self.root}/+/+/info/+", *data, *watch]

    # -- main loop --------------------------------------------------------------
    def _drain_inbox(self, timeout: float | None = None) -> None:
        if timeout is None:
            timeout = self._wait_time()
        handled = 0
        try:
            if timeout > 0 and self.batch and self._last_turn >= POLL_MIN:
                # a stream is flowing: let its messages gather for a moment rather than be woken by each
                # socket read (a wake-up costs the two threads more than handling a message)
                time.sleep(min(timeout, POLL_SECONDS))
                item = self.inbox.get_nowait()
            else:
                item = self.inbox.get(timeout=timeout) if timeout > 0 else self.inbox.get_nowait()
            handled = self._handle(item)
            while handled < DRAIN_MESSAGES:  # then let _tick run: timers, held telemetry, the backlog
                handled += self._handle(self.inbox.get_nowait())
        except queue.Empty:
            pass
        self._last_turn = handled
        self._send_acks()

    def _wait_time(self) -> float:
        now = time.monotonic()
        wait = 0.2
        if self.batch:
            b = self.cfg["batch"]
            wait = min(wait, self.batch_since + b["interval_seconds"] - now,
                       self.last_message + b["idle_ms"] / 1000 - now)
        if len(self.buffer) and self.sink_up:
            wait = 0
        elif len(self.buffer):
            wait = min(wait, self.retry_at - now)
        return max(wait, 0.0)

    def _tick(self) -> None:
        now = time.monotonic()
        b = self.cfg["batch"]
        if self.batch and (now >= self.batch_since + b["interval_seconds"]
                           or now >= self.last_message + b["idle_ms"] / 1000):
            self._flush()
        self._release_held(now)
        if len(self.buffer) and now >= self.retry_at:
            self._drain_buffer()
        if self.group and not self.adopt:
            self._watch_peers(now)
        if now >= self._next_status:
            self._next_status = now + self.cfg["status_seconds"]
            self._status()

    def _handle(self, item: Any) -> int:
        """One inbox item (the messages of one socket read, or a session record); returns the messages."""
        if isinstance(item, list):
            self.counters["received"] += len(item)
            self.last_message = time.monotonic()
            size = self.cfg["batch"]["size"]
            for msg in item:
                self._on_message(msg)
                if len(self.batch) >= size:
                    self._flush()
            return len(item)
        if isinstance(item, Message):
            self.counters["received"] += 1
            self.last_message = time.monotonic()
            self._on_message(item)
            if len(self.batch) >= self.cfg["batch"]["size"]:
                self._flush()
            return 1
        if isinstance(item, Connected):
            if self.adopt:
                self._adopt_connected(item.session_present)
                return 0
            log.info("connected to %s:%s (broker kept our session: %s)", self.cfg["mqtt"]["host"],
                     self.cfg["mqtt"]["port"], item.session_present)
            self.session.subscribe(self.subscriptions(), qos=1)
            if self.group:
                self.session.publish(peers.status_topic(self.group, self.client_id),
                                     peers.status_payload(peers.ONLINE, int(time.time() * 1000)), retain=True)
        elif isinstance(item, Disconnected):
            log.warning("broker connection lost (%s); unacknowledged messages come again", item.reason)
            self._flush()  # stored now; not acknowledged (old connection): the re-sent copies overwrite
            if self.adopt:  # the peer came back (it took its session from us) or the broker went: stop here
                log.warning("takeover of %s's session interrupted; what was not acknowledged stays in it",
                            self.adopt)
                self._stop.set()
        return 0

    def _on_message(self, msg: Message) -> None:
        try:
            if msg.topic.startswith(peers.STATUS_ROOT + "/"):
                self._on_peer_state(msg)
                self._ack(msg)
                return
            topic = parse_topic(msg.topic)
            if topic is not None and topic.leaf == "telemetry":  # most messages: first (no info page is)
                tel = decode.parse_telemetry(msg.payload, self.max_bytes)
                if tel.refused:
                    self._refused(msg.topic, tel.refused)
                kind = self._kind(topic)
                if kind is None:
                    self._hold(Held(msg, topic, tel, time.monotonic() + self.cfg["info_wait_seconds"]))
                else:
                    self._add(decode.telemetry_point(topic, tel, kind), msg)
                return
            if page_of_topic(msg.topic) is not None:
                self._on_info(msg)
                self._ack(msg)
                return
            if topic is None or topic.leaf not in ("event", "state"):
                raise BadMessage("topic is not campus/{site}/{node}/{device}/{telemetry|event|state} "
                                 "with ids of [a-z0-9_-]")
            decoded: decode.Decoded | None
            if topic.leaf == "event":
                decoded = decode.decode_event(topic, msg.payload, self.max_bytes, self.event_tags)
            else:
                decoded = decode.decode_state(topic, msg.payload, self.max_bytes)
                if decoded is None:
                    self.counters["other_states"] += 1
                    self._ack(msg)
                    return
            self._refused(msg.topic, decoded.refused)
            self._add(decoded.point, msg)
        except BadMessage as exc:
            self.counters["bad_messages"] += 1
            log.warning("refused message on %s: %s", printable(msg.topic), printable(exc))
            self._ack(msg)  # refused for good: a redelivery would be refused again
        except Exception:  # a bug must not stop the stream: count it, log it, let the others pass
            self.counters["errors"] += 1
            log.exception("unexpected error handling a message on %s", printable(msg.topic))
            self._ack(msg)

    # -- peers of the share group (peers.py) -----------------------------------------
    def _on_peer_state(self, msg: Message) -> None:
        parsed = peers.parse_status(msg.topic, msg.payload, self.group or "")
        if parsed is None or parsed[0] == self.client_id:
            return
        peer, state = parsed
        if self.peer_states.get(peer) != state:
            log.info("bridge %s of group %s: %s", peer, self.group, state or "taken over")
        if state == peers.OFFLINE:
            self.peer_offline_since.setdefault(peer, time.monotonic())
        else:
            self.peer_offline_since.pop(peer, None)
        self.peer_states[peer] = state
        self.adopt_retry_at.pop(peer, None)

    def _watch_peers(self, now: float) -> None:
        for peer, (adopter, thread) in list(self.adoptions.items()):
            if not thread.is_alive():
                del self.adoptions[peer]
                self.counters["taken_over_messages"] += adopter.counters.get("received", 0)
                if adopter.adopted:
                    self.counters["takeovers"] += 1
                    self.peer_states[peer] = None
                    self.peer_offline_since.pop(peer, None)
                else:
                    self.adopt_retry_at[peer] = now + ADOPT_RETRY_SECONDS
        if not self.session.connected:
            return
        for peer in list(self.peer_states):
            if (peer not in self.adoptions and now >= self.adopt_retry_at.get(peer, 0.0)
                    and now >= self.peer_offline_since.get(peer, now) + PEER_GRACE_SECONDS
                    and peers.should_adopt(peer, self.peer_states, self.client_id)):
                self._start_adoption(peer)

    def _start_adoption(self, peer: str) -> None:
        log.warning("bridge %s of group %s is gone: taking over its session so its share is written now",
                    peer, self.group)
        cfg = copy.deepcopy(self.cfg)
        cfg["storage"]["path"] = f"{self.cfg['storage']['path']}.takeover-{peer}"
        adopter = Bridge(cfg, adopt=peer, kinds=copy.deepcopy(self.kinds))
        thread = threading.Thread(target=adopter.run, name=f"takeover-{peer}", daemon=True)
        self.adoptions[peer] = (adopter, thread)
        thread.start()

    def _adopt_connected(self, session_present: bool) -> None:
        if not session_present:  # nothing to take over (a peer or the broker ended it already)
            log.info("bridge %s had no session left to take over", self.adopt)
            self.adopted = True
            self._stop.set()
            return
        # the broker stops handing this session a share; what it queued or left unacknowledged still comes
        self.session.unsubscribe(self.subscriptions())
        self.unsubscribed_at = time.monotonic()

    def _adoption_done(self) -> bool:
        now = time.monotonic()
        if (self.unsubscribed_at is None or not self.session.connected or self.batch or self.held
                or len(self.buffer) or now < self.unsubscribed_at + ADOPT_IDLE_SECONDS
                or now < self.last_message + ADOPT_IDLE_SECONDS):
            return False
        self.adopted = True
        log.warning("took over bridge %s's session: %d message(s) written; the group shares the stream "
                    "without it now", self.adopt, self.counters.get("received", 0))
        return True

    def _refused(self, topic: str, names: tuple[str, ...]) -> None:
        """Values dropped from a message that was otherwise written: counted, and logged at most every
        REFUSED_LOG_SECONDS (a node that sends a bad name sends it on every message)."""
        if not names:
            return
        self.counters["bad_values"] += len(names)
        self._refused_since_log += len(names)
        now = time.monotonic()
        if now >= self._refused_log_at:
            self._refused_log_at = now + REFUSED_LOG_SECONDS
            log.warning("dropped %d value(s) that cannot be written unchanged (not a finite number, or a "
                        "name line protocol cannot carry), e.g. %s on %r; the rest of each message is "
                        "written", self._refused_since_log, decode.names_for_log(list(names)), topic[:200])
            self._refused_since_log = 0

    def _on_info(self, msg: Message) -> None:
        page = page_of_topic(msg.topic) or 1
        where = decode.parse_info_topic(msg.topic.rsplit("/", 1)[0] if page > 1 else msg.topic)
        if where is None:
            raise BadMessage("info topic must be campus/{site}/{node}/info[/{page}]")
        key = "/".join(where)
        # a large node's info comes in pages (docs/mqtt.md): its kinds are known once all are here
        whole = self.info_pages.feed(key, page, decode.parse_object(msg.payload, self.max_bytes)
                                     if msg.payload else None)
        if whole is None:
            return  # cleared, or pages still to come
        kinds = decode.info_kinds(whole)
        if self.kinds.get(key) != kinds:
            self.kinds[key] = kinds
            self.db.put("bridge", "kinds", self.kinds)
            log.info("node %s: %d device(s) known", key, len(kinds))
        if self.held:
            waiting, self.held = self.held, deque()
            for h in waiting:
                kind = self._kind(h.topic)
                if kind is None:
                    self.held.append(h)
                else:
                    self._add(decode.telemetry_point(h.topic, h.tel, kind), h.msg)

    def _kind(self, topic: DataTopic) -> str | None:
        if topic.device == decode.AGENT_DEVICE:
            return decode.AGENT_KIND
        return self.kinds.get(f"{topic.site}/{topic.node}", {}).get(topic.device)

    def _hold(self, held: Held) -> None:
        self.held.append(held)
        if len(self.held) > MAX_HELD:
            self._release(self.held.popleft())

    def _release_held(self, now: float) -> None:
        while self.held and self.held[0].deadline <= now:
            self._release(self.held.popleft())

    def _release(self, h: Held) -> None:
        self.counters["unknown_kind"] += 1
        log.info("no info from %s/%s about %s yet: writing its telemetry as kind %s", h.topic.site,
                 h.topic.node, h.topic.device, decode.UNKNOWN_KIND)
        self._add(decode.telemetry_point(h.topic, h.tel, decode.UNKNOWN_KIND), h.msg)

    def _add(self, point: Point, msg: Message) -> None:
        if not self.batch:
            self.batch_since = time.monotonic()
        self.batch.append(point)
        self.batch_msgs.append(msg)

    def _ack(self, msg: Message) -> None:
        """Acknowledge with the others of this loop turn (_send_acks): one write for all."""
        self.to_ack.append(msg)

    def _send_acks(self) -> None:
        if self.to_ack:
            msgs, self.to_ack = self.to_ack, []
            not_acked = sum(m.qos > 0 for m in msgs) - self.session.ack_many(msgs)
            if not_acked:
                self.counters["not_acknowledged"] += not_acked

    # -- writing ----------------------------------------------------------------
    def _flush(self) -> None:
        """Make the open batch durable (database or disk buffer), then acknowledge its messages."""
        if not self.batch:
            return
        points, msgs = self.batch, self.batch_msgs
        self.batch, self.batch_msgs = [], []
        if len(self.buffer) or not self._sink_ready():
            self.buffer.append(points)
            self.counters["buffered"] += len(points)
        else:
            try:
                self._write(points)
            except SinkUnavailable as exc:
                self._sink_failed(exc)
                self.buffer.append(points)
                self.counters["buffered"] += len(points)
        self.to_ack += msgs
        self._send_acks()

    def _sink_ready(self) -> bool:
        return self.sink_up or time.monotonic() >= self.retry_at

    def _drain_buffer(self) -> None:
        """Write the oldest buffered batches, in order, for a bounded time."""
        until = time.monotonic() + DRAIN_SECONDS
        while len(self.buffer) and time.monotonic() < until:
            batches = self.buffer.oldest(max(self.cfg["batch"]["size"], 10_000))
            points = [p for b in batches for p in b.points]
            try:
                self._write(points)
            except SinkUnavailable as exc:
                self._sink_failed(exc)
                return
            self.buffer.remove(batches)
            self.counters["drained"] += len(points)
            if not len(self.buffer):
                log.info("disk buffer drained")
            if not self.inbox.empty():
                return  # new messages first; the rest of the backlog next turn

    def _write(self, points: list[Point]) -> None:
        """Write through the sink; a refused batch is halved until the refused points are found."""
        try:
            self.sink.write(points)
        except SinkRejected as exc:
            if len(points) == 1:
                self.counters["rejected_points"] += 1
                log.error("database refused a point (kept in the rejected table): %s", exc)
                self.buffer.reject(points, str(exc))
            else:
                half = len(points) // 2
                self._write(points[:half])
                self._write(points[half:])
                return
        else:
            self.counters["written"] += len(points)
        if not self.sink_up:
            log.info("database is back")
        self.sink_up = True
        self.retry_delay = self.cfg["retry"]["min_seconds"]

    def _sink_failed(self, exc: Exception) -> None:
        if self.sink_up:
            log.warning("database unavailable (%s); buffering on disk", exc)
        self.counters["write_failures"] += 1
        self.sink_up = False
        self.retry_at = time.monotonic() + self.retry_delay
        self.retry_delay = min(self.retry_delay * 2, self.cfg["retry"]["max_seconds"])

    def _status(self) -> None:
        log.info("status: %s; buffered now %d, dropped from buffer %d, held %d",
                 ", ".join(f"{k}={v}" for k, v in sorted(self.counters.items())) or "idle",
                 len(self.buffer), self.buffer.dropped, len(self.held))
        self.db.put("bridge", "counters", dict(self.counters))
