"""The agent: wires config, storage, devices and the MQTT session, and runs the main loop.

Threads: paho's network thread (callbacks only enqueue), device threads
(pollers, cameras: they call their DeviceContext, which writes to the outbox
and enqueues retained states), and this main loop, the only one that touches
the MQTT client.

The main loop takes turns: control records (connects, PUBACKs, states), then at
most a bounded batch of inbound messages, then the timers (pulse ends,
schedules, failsafe, storage watch, health) and the outbox pump. So a flood of
commands waits at the broker (Receive Maximum, a bounded inbox: see
edge/mqtt/session.py) and cannot hold a pulse on past its end.

A command's reply is written to the outbox before the command is acknowledged
to the broker: an agent killed in between sends it after its restart, and a
redelivered command is answered from the command log.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any
from zoneinfo import ZoneInfo

from drivers.base import Device, Resources, Switch
from edge import __version__, processors, simulated
from edge.agent.homeassistant import HomeAssistantLink, RetainedPublish
from edge.agent.pump import PUMP_WINDOW, OutboxPump, respond_to
from edge.agent.rules import LocalRules
from edge.agent.schedule import due_between
from edge.agent.switching import Outcome, Switching
from edge.agent.throttle import THROTTLE, throttled
from edge.agent.watchdog import AgentWatch
from edge.calendar import calendar_from
from edge.loaders.agent import client_id_for
from edge.mqtt import payloads
from edge.mqtt.payloads import PayloadError, printable
from edge.mqtt.session import Connected, Disconnected, Message, MqttSession, Published, Subscribed, Will
from edge.mqtt.topics import Topics, parse_inbound
from edge.store.commands import CommandLog
from edge.store.db import Database
from edge.store.outbox import Outbox, Reply

log = throttled(logging.getLogger(__name__))

RECEIVE_MAXIMUM = 100  # QoS 1 messages the broker may send before our PUBACKs (MQTT v5 CONNECT)
INBOX_MESSAGES = 500  # inbound messages held in memory at most; beyond, they wait at the broker
MESSAGE_BATCH = 200  # messages handled per loop turn at most ...
STEP_SECONDS = 0.05  # ... and for at most this long: then the timers get their turn
IDLE_SECONDS = 0.2  # longest wait for something to happen (shorter when a pulse ends sooner)
STORAGE_PROBE_SECONDS = 1.0  # while storage is full, a small write tries it this often
RETAINED_MEMORY = 1000  # retained commands remembered as already answered (replied/logged once)
PRUNE_SECONDS = 86400.0  # how often old command-log entries are removed
SCHEDULE_CATCH_UP_MINUTES = 15  # entries missed by a restart or a clock step this recently still run
SOON_SECONDS = 60.0  # values devices keep with save_soon (meter counters) are written this often, together


def now_ms() -> int:
    return int(time.time() * 1000)


class StartupError(RuntimeError):
    """A device could not be started (hardware missing, no GPIO); the message says which and why."""


def _hint(exc: Exception) -> str:
    if type(exc).__name__ in ("BadPinFactory", "PinFactoryFallback"):
        return (
            " (no GPIO library found: on a Raspberry Pi install the `pi` extra, "
            "elsewhere set GPIOZERO_PIN_FACTORY=mock to simulate the pins)"
        )
    return ""


class RetainedState:
    def __init__(self, device: str, state: dict[str, Any]) -> None:
        self.device, self.state = device, state


class DeviceContextImpl:
    """What a device sees of the agent (drivers.base.DeviceContext)."""

    def __init__(self, agent: Agent, device_id: str) -> None:
        self.agent = agent
        self.device_id = device_id
        self.log = throttled(log.getChild(f"device.{device_id}"))
        self.resources = agent.resources
        self.timezone: str | None = agent.cfg.get("timezone")
        self.calendar = agent.calendar  # the school calendar (edge.calendar) or None

    def telemetry(self, values: dict[str, float], ts_ms: int | None = None) -> None:
        ts = ts_ms if ts_ms is not None else now_ms()
        topic = self.agent.topics.device(self.device_id, "telemetry")
        self.agent.outbox.append(
            self.device_id,
            "telemetry",
            topic,
            lambda seq: payloads.dumps(payloads.telemetry(ts, seq, values)),
        )
        self.agent.wake()

    def event(self, type_: str, fields: dict[str, Any], ts_ms: int | None = None) -> None:
        ts = ts_ms if ts_ms is not None else now_ms()
        topic = self.agent.topics.device(self.device_id, "event")
        # A local rule's actions are stored with the event (same transaction); the main loop does them.
        also = self.agent.rules.on_event(self.device_id, type_, fields, ts)
        self.agent.outbox.append(
            self.device_id,
            "event",
            topic,
            lambda seq: payloads.dumps(payloads.event(ts, seq, type_, fields)),
            also=also,
        )
        self.agent.ha.on_event(self.device_id, type_, fields)  # availability, fever snapshot (retained)
        self.agent.wake()

    def state(self, state: dict[str, Any]) -> None:
        self.agent.inbox.put(RetainedState(self.device_id, state))

    def load(self, key: str, default: Any = None) -> Any:
        return self.agent.db.get(self.device_id, key, default)

    def save(self, key: str, value: Any) -> None:
        self.agent.db.put(self.device_id, key, value)

    def save_soon(self, key: str, value: Any) -> None:
        self.agent.db.put_soon(self.device_id, key, value)  # on disk within SOON_SECONDS (or at stop)


class Agent:
    def __init__(self, cfg: dict[str, Any], resources: Resources | None = None) -> None:
        self.cfg = cfg
        self.resources = simulated.register(resources or Resources())  # `sim:` ports, `simulate:` pins
        THROTTLE.reset()  # one agent per process; a test's agent starts with a clean count
        self.topics = Topics(cfg["mqtt"]["root"], cfg["site"], cfg["node"])
        self.db = Database(cfg["storage"]["path"])
        self.outbox = Outbox(self.db, cfg["storage"]["max_outbox"], cfg["storage"]["flush_ms"])
        self.commands = CommandLog(self.db)
        self.inbox: queue.Queue = queue.Queue()  # control records: bounded by what produces them
        self.messages: queue.Queue = queue.Queue()  # inbound MQTT messages (bounded by the session)
        self._stop = threading.Event()
        self.started_ms = now_ms()
        self.counters = {"bad_payloads": 0, "errors": 0, "publish_refused": 0, "retained_ignored": 0}
        self.calendar = calendar_from(cfg.get("calendar"))  # before the devices: their alerts consult it
        self.devices: dict[str, Device] = {}
        self.configs: dict[str, dict[str, Any]] = {}
        for dev_cfg in cfg["devices"]:
            self.devices[dev_cfg["id"]] = processors.build(dev_cfg, DeviceContextImpl(self, dev_cfg["id"]))
            self.configs[dev_cfg["id"]] = dev_cfg
        switches: dict[str, Switch] = {d: dev for d, dev in self.devices.items() if isinstance(dev, Switch)}
        self.switching = Switching(self.db, self.commands, switches, now_ms)
        self.rules = LocalRules(cfg, self.db, self.outbox, self.switching, self.topics, now_ms)
        self.retained: dict[str, dict[str, Any]] = {}  # device -> last retained state
        self.session = MqttSession(
            cfg["mqtt"],
            client_id_for(cfg),
            self.inbox,
            will=Will(self.topics.status, b"offline"),
            max_inflight=PUMP_WINDOW,
            manual_ack=True,  # a command is acknowledged only once it is carried out and recorded
            messages=self.messages,
            receive_maximum=RECEIVE_MAXIMUM,
            max_waiting=INBOX_MESSAGES,
        )
        self.outbox_pump = OutboxPump(self.outbox, self.session, self.counters)
        self._offline_since: float | None = time.monotonic()
        self._failsafe_done: set[str] = set()
        self._schedule_cursor: int | None = None  # epoch minute whose schedule entries have run
        self._closing = False
        self._next_prune = time.monotonic() + PRUNE_SECONDS
        self._next_health = time.monotonic() + cfg["health_seconds"]
        self._next_soon = time.monotonic() + SOON_SECONDS
        self.tz = ZoneInfo(cfg["timezone"]) if cfg.get("timezone") else None
        self.ready = threading.Event()  # devices started, main loop running
        self.online = threading.Event()  # connected and subscribed: commands reach us
        self._sub_mid: int | None = None
        self.ha = HomeAssistantLink(self)  # discovery (and removals), device availability, snapshots
        self.watch = AgentWatch(self)  # systemd watchdog, STATUS=, link state for `campus-edge status`
        self._session_no = int(self.db.get("agent", "session", 0))  # counted in memory: disk may be full
        self._info_pages = int(self.db.get("agent", "info_pages", 1))  # pages of the last birth info
        self._storage_full_since: float | None = None
        self._next_storage_probe = 0.0
        self._retained_seen: dict[tuple[str, bytes], None] = {}
        self._deferred_events: list[dict[str, Any]] = []  # storage events that met no connection
        self._changed: set[str] = set()  # devices whose state changed this turn
        # what each control record on the inbox means (None only wakes the loop up)
        self._handlers: dict[type, Any] = {
            Published: self.outbox_pump.published,
            Message: self.messages.put,  # an owner that passes no `messages` queue (not this agent)
            RetainedPublish: self._on_retained_publish,
            RetainedState: self._on_retained_state,
            Subscribed: self._on_subscribed,
            Connected: self._on_connected,
            Disconnected: self._on_disconnected,
        }

    # -- life cycle -------------------------------------------------------------
    def start(self) -> None:
        for dev_id, dev in self.devices.items():
            try:
                dev.start()
            except Exception as exc:
                c = self.configs[dev_id]
                raise StartupError(
                    f"devices: {dev_id} ({c['kind']}/{c['driver']}) could not start: "
                    f"{type(exc).__name__}: {exc}{_hint(exc)}"
                ) from exc
            log.info(
                "device %s (%s/%s) started",
                dev_id,
                self.configs[dev_id]["kind"],
                self.configs[dev_id]["driver"],
            )
        if self.db.reset:
            self._storage_reset()
        else:
            self.retained["agent"] = {"storage": "ok", "ts": now_ms()}
        self.retained.update(self.switching.boot())
        self._guard(self.commands.prune)
        self.session.start()

    def run(self) -> None:
        """The main loop; returns after stop() is called."""
        self.start()
        self.ready.set()
        self.watch.ready()
        try:
            while not self._stop.is_set():
                self._step()
                self._guard(self.watch.tick)
        finally:
            self._shutdown()

    def _step(self) -> None:
        """One turn: control records, a bounded batch of messages, the outbox pump, the timers."""
        self._guard(self._drain, self._idle_timeout())
        self._guard(self._take_messages)
        self._guard(self._pump)
        self._guard(self.outbox.flush)  # readings still unacknowledged after flush_ms go to disk
        self._tick()
        self._guard(self._flush_states)

    def _flush_states(self) -> None:
        """Publish the latest state of each device that changed this turn (a flood of toggles
        makes one retained state per turn, not one per command)."""
        if not self._changed or not self.session.connected:
            self._changed.clear()  # the birth on reconnect publishes the latest
            return
        changed, self._changed = self._changed, set()
        for device in changed:
            self._publish_json(self.topics.device(device, "state"), self.retained[device], retain=True)

    def _guard(self, part: Any, *args: Any) -> None:
        """Run one part of the loop; a full disk or a bug must degrade the node, not switch it off."""
        try:
            part(*args)
        except Exception:
            self.counters["errors"] += 1
            log.exception("main loop: %s failed; going on", getattr(part, "__name__", part))

    def _idle_timeout(self) -> float:
        if not self.messages.empty():
            return 0.0
        wait = IDLE_SECONDS
        end = self.switching.next_pulse_end()
        if end is not None:
            wait = min(wait, max(0.0, end - time.monotonic()))
        flush = self.outbox.next_flush_in()  # staged readings are written on time, not a turn late
        return wait if flush is None else min(wait, flush)

    def stop(self) -> None:
        self._stop.set()
        self.wake()

    def wake(self) -> None:
        self.inbox.put(None)

    def _shutdown(self) -> None:
        log.info("stopping: relays to their safe state, status offline")
        self.watch.stopping()
        # Commands still queued stay unacknowledged: the broker hands them to our next session.
        self._closing = True
        self._drain(timeout=0)
        self._rules()  # an action owed for an event already stored is done before the relays stop
        for dev_id, dev in reversed(list(self.devices.items())):
            try:
                dev.stop()
            except Exception:
                log.exception("stopping %s failed", dev_id)
        self.resources.close()
        self._drain(timeout=0)  # PUBACKs already received
        self.session.stop(final=[(self.topics.status, b"offline", True)])
        self._drain(timeout=0)
        try:
            self.outbox.close()  # staged readings to disk, exact seqs: nothing lost, no gap
        except Exception as exc:
            log.error("could not write %d staged readings at stop (%s)", self.outbox.staged, exc)
        self.db.close()

    # -- main loop --------------------------------------------------------------
    def _drain(self, timeout: float) -> None:
        """Handle the control records waiting (or the first to come within ``timeout``)."""
        try:
            item = self.inbox.get(timeout=timeout)
            while True:
                try:
                    self._handle(item)
                except Exception:  # a bug met by one record must not stop the node: count it, go on
                    self.counters["errors"] += 1
                    log.exception("unexpected error handling a %s", type(item).__name__)
                item = self.inbox.get_nowait()
        except queue.Empty:
            pass
        self.outbox_pump.delete_done(not self.db.full or time.monotonic() >= self._next_storage_probe)
        self._pump()

    def _take_messages(self) -> None:
        """Handle a bounded batch of inbound messages; store their replies, then acknowledge them.

        At most MESSAGE_BATCH messages, for at most STEP_SECONDS (less when a pulse ends sooner):
        the rest wait in the bounded queue, and beyond it at the broker.
        """
        if self._closing or self.messages.empty():
            return  # closing: not acknowledged, the broker delivers them to our next session
        deadline = time.monotonic() + STEP_SECONDS
        end = self.switching.next_pulse_end()
        if end is not None:
            deadline = min(deadline, end)
        taken: list[Message] = []
        replies: list[Reply] = []
        while len(taken) < MESSAGE_BATCH and (not taken or time.monotonic() < deadline):
            try:
                msg = self.messages.get_nowait()
            except queue.Empty:
                break
            taken.append(msg)
            try:
                self._on_message(msg, replies)
            except Exception:  # a bug met by one message must not stop the node: count it, go on
                self.counters["errors"] += 1
                log.exception("unexpected error handling a message on %s", printable(msg.topic))
        if not taken:
            return
        self._queue_replies(replies)
        for msg in taken:
            self.session.ack(msg)

    def _queue_replies(self, replies: list[Reply]) -> None:
        """Replies to the outbox (durable before the command's PUBACK); straight out if the disk refuses."""
        if not replies:
            return
        try:
            self.outbox.add_replies(replies)
        except Exception as exc:
            log.error("%d repl(ies) could not be stored (%s); sending them directly", len(replies), exc)
            for r in replies:
                self.session.publish(r.topic, r.payload, qos=1,
                                     response_to=respond_to(r.topic, r.correlation))
        self._pump()

    def _handle(self, item: Any) -> None:
        if item is None:
            return  # a wake-up
        handler = self._handlers.get(type(item))
        if handler is None:
            raise TypeError(f"no handler for a {type(item).__name__} on the inbox")
        handler(item)

    def _on_retained_publish(self, item: RetainedPublish) -> None:
        if self.session.connected:  # otherwise the birth on reconnect publishes the latest
            self.session.publish(item.topic, item.payload, qos=1, retain=True)

    def _on_retained_state(self, item: RetainedState) -> None:
        self.retained[item.device] = item.state
        if self.session.connected:  # otherwise the birth on reconnect publishes the latest
            self._publish_json(self.topics.device(item.device, "state"), item.state, retain=True)

    def _on_subscribed(self, item: Subscribed) -> None:
        if item.mid == self._sub_mid:
            if any(code >= 0x80 for code in item.granted):
                log.error("broker refused a command subscription (codes %s): check its ACL", item.granted)
            self.online.set()

    def _on_disconnected(self, item: Disconnected) -> None:
        if not self._stop.is_set():
            log.warning("broker connection lost (%s); outbox keeps what is measured", item.reason)
        self._offline_since = time.monotonic()
        self.online.clear()

    def _on_connected(self, ev: Connected) -> None:
        # Nothing here may depend on a storage write: a full disk must not leave a deaf agent.
        self._offline_since = None
        self._failsafe_done.clear()
        self._session_no += 1
        try:
            self.db.put("agent", "session", self._session_no)
        except Exception as exc:
            log.error("could not store the session number (%s); going on", exc)
        log.info(
            "connected to %s:%s (session %d, broker kept our session: %s)",
            self.cfg["mqtt"]["host"],
            self.cfg["mqtt"]["port"],
            self._session_no,
            ev.session_present,
        )
        self.outbox_pump.reconnected()
        subs = self.topics.subscriptions()
        ha = self.cfg["homeassistant"]
        if ha["discovery"]:
            subs.append(f"{ha['prefix']}/status")  # Home Assistant's birth: send our configs again
        self._sub_mid = self.session.subscribe(subs)
        self._birth()

    def _birth(self) -> None:
        devices = [
            {k: c[k] for k in ("id", "kind", "driver", "name", "groups") if c.get(k) not in (None, [])}
            for c in self.configs.values()
        ]
        # Paged when large (docs/mqtt.md): a reader's message-size limit must not lose a node's devices.
        pages = payloads.info_pages(
            __version__, self._session_no, self.started_ms, devices, page_bytes=payloads.INFO_PAGE_BYTES
        )
        self._publish_json(self.topics.info, pages[0], retain=True)
        for page in pages[1:]:
            self._publish_json(f"{self.topics.info}/{page['page']}", page, retain=True)
        for n in range(len(pages) + 1, self._info_pages + 1):  # pages of a bigger node we were: cleared
            self.session.publish(f"{self.topics.info}/{n}", b"", retain=True)
        if len(pages) != self._info_pages:
            self._info_pages = len(pages)
            try:
                self.db.put("agent", "info_pages", len(pages))
            except Exception as exc:
                log.error("could not store the info page count (%s)", exc)
        for rp in self.ha.birth(devices, __version__):
            self.session.publish(rp.topic, rp.payload, qos=1, retain=True)
        for device, state in self.retained.items():
            self._publish_json(self.topics.device(device, "state"), state, retain=True)
        for body in self._deferred_events:
            self._publish_json(self.topics.device("agent", "event"), body)
        self._deferred_events = []
        self.session.publish(self.topics.status, b"online", retain=True)

    def _pump(self) -> None:
        self.outbox_pump.pump()

    def _rules(self) -> None:
        for outcome in self.rules.run_pending():
            self._publish_outcome(outcome, None)

    def _tick(self) -> None:
        """The timers, each on its own: one that fails (disk full) does not hold up the others."""
        for part in (
            self._pulse_ends,
            self._schedules,
            self._failsafe,
            self.outbox_pump.retry_parked,
            self._watch_storage,
            self._prune,
            self._maybe_health,
            self._save_soon,
            self._rules,
        ):
            self._guard(part)

    def _pulse_ends(self) -> None:
        for outcome in self.switching.due_pulse_ends():
            self._publish_state(outcome)

    def _prune(self) -> None:
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + PRUNE_SECONDS
            self.commands.prune()

    def _save_soon(self) -> None:
        if time.monotonic() >= self._next_soon:
            self._next_soon = time.monotonic() + SOON_SECONDS
            self.db.flush_soon()

    def _maybe_health(self) -> None:
        if time.monotonic() >= self._next_health:
            self._next_health = time.monotonic() + self.cfg["health_seconds"]
            self._health()

    # -- commands -----------------------------------------------------------------
    def _on_message(self, msg: Message, replies: list[Reply] | None = None) -> None:
        """Handle one inbound message; replies are added to ``replies`` (stored before the PUBACK)."""
        ha = self.cfg["homeassistant"]
        if ha["discovery"] and msg.topic == f"{ha['prefix']}/status":
            if msg.payload == b"online":
                log.info("Home Assistant came online: publishing discovery again")
                self._birth()
            return
        target = parse_inbound(self.topics, msg.topic)
        if target is None:
            self.counters["bad_payloads"] += 1
            log.warning("ignoring message on unexpected topic %s", printable(msg.topic))
            return
        devices = self._addressed(target)
        if msg.retain:  # a stale command the broker kept: running it at every (re)connect would be wrong
            self._retained_command(msg, devices, replies)
        elif target.target == "node":
            self._node_command(msg)
        elif devices:  # else a group none of our devices belongs to
            self._device_command(msg, devices, replies)

    def _addressed(self, target: Any) -> list[str]:
        """The devices a command topic names: one device, or the members of a group."""
        if target.target == "device":
            return [target.name]
        if target.target == "group":
            return [d for d, c in self.configs.items() if target.name in c.get("groups", [])]
        return []

    def _node_command(self, msg: Message) -> None:
        if msg.payload.strip().lower() == b"rebirth":
            log.info("rebirth requested")
            self._birth()
        else:
            self.counters["bad_payloads"] += 1
            log.warning("unknown node command %s on %s", printable(msg.payload, 64), printable(msg.topic))

    def _device_command(self, msg: Message, devices: list[str], replies: list[Reply] | None) -> None:
        respond = (msg.response_topic, msg.correlation_data) if msg.response_topic else None
        try:
            cmd = payloads.parse_command(msg.payload)
        except PayloadError as exc:
            self.counters["bad_payloads"] += 1
            log.warning("bad command on %s: %s", printable(msg.topic), printable(exc))
            for device in devices:
                reply = payloads.reply_error(payloads.peek_id(msg.payload), str(exc), now_ms())
                self._publish_outcome(Outcome(device, reply, None), respond, replies)
            return
        for device in devices:
            if device not in self.devices:
                reply = payloads.reply_error(
                    cmd.id, f"no device {device!r} on node {self.cfg['node']}", now_ms()
                )
                self._publish_outcome(Outcome(device, reply, None), respond, replies)
                continue
            self._publish_outcome(self.switching.execute(device, cmd), respond, replies)

    def _retained_command(self, msg: Message, devices: list[str], replies: list[Reply] | None) -> None:
        """Not run; answered and logged once per (topic, payload) while the agent runs."""
        self.counters["retained_ignored"] += 1
        key = (msg.topic, msg.payload)
        if key in self._retained_seen:
            return
        self._retained_seen[key] = None
        if len(self._retained_seen) > RETAINED_MEMORY:
            del self._retained_seen[next(iter(self._retained_seen))]
        log.warning(
            "%s on %s (%s): not run; clear it with `mosquitto_pub -r -n -t <topic>`",
            payloads.RETAINED_COMMAND,
            printable(msg.topic),
            printable(msg.payload, 64),
        )
        cid = payloads.peek_id(msg.payload)
        respond = (msg.response_topic, msg.correlation_data) if msg.response_topic else None
        for device in devices:
            reply = payloads.reply_error(cid, payloads.RETAINED_COMMAND, now_ms())
            self._publish_outcome(Outcome(device, reply, None), respond, replies)

    def _publish_outcome(
        self,
        outcome: Outcome,
        respond: tuple[str, bytes | None] | None,
        replies: list[Reply] | None = None,
    ) -> None:
        """Publish a new state (at the end of this turn); queue the reply (in ``replies`` for the
        caller to store, else here)."""
        self._publish_state(outcome)
        body = payloads.dumps(outcome.reply)
        batch = [Reply(self.topics.device(outcome.device, "reply"), body)]
        if respond is not None:
            batch.append(Reply(respond[0], body, respond[1]))
        if replies is None:
            self._queue_replies(batch)
        else:
            replies.extend(batch)

    def _publish_state(self, outcome: Outcome) -> None:
        """A switch no command asked for (pulse end, schedule, failsafe): its new state is the news;
        `reply` is one result per command, so there is none; a relay that could not be switched is a
        `relay_fault` event (once per fault), `relay_ok` when it switches again (edge/agent/switching.py)."""
        if outcome.state is not None:
            self.retained[outcome.device] = outcome.state
            self._changed.add(outcome.device)  # published at the end of this turn
        if outcome.event is not None:
            etype, fields = outcome.event
            try:
                DeviceContextImpl(self, outcome.device).event(etype, fields)
            except Exception:  # storage full: the log line is all that is left (storage_full says why)
                log.exception("could not emit %s of %s", etype, outcome.device)

    def _publish_json(self, topic: str, obj: dict[str, Any], retain: bool = False) -> None:
        self.session.publish(topic, payloads.dumps(obj), qos=1, retain=retain)

    # -- schedules, failsafe, health ---------------------------------------------------
    def _schedules(self) -> None:
        if not self.cfg["schedules"]:
            return
        now_minute = int(time.time() // 60)
        if self._schedule_cursor is None:
            self._schedule_cursor = self.db.get("agent", "schedule_cursor")
        if now_minute == self._schedule_cursor:
            return
        todo = due_between(
            self.cfg["schedules"], self._schedule_cursor, now_minute, self.tz, SCHEDULE_CATCH_UP_MINUTES,
            self.calendar,
        )
        self._schedule_cursor = now_minute
        try:
            self.db.put("agent", "schedule_cursor", now_minute)
        except Exception as exc:  # the schedule runs anyway; a restart may run this minute again
            log.error("could not store the schedule cursor (%s)", exc)
        for _, entry in todo:
            targets = set(entry["devices"]) | {
                d for d, c in self.configs.items() if set(entry["groups"]) & set(c.get("groups", []))
            }
            for device in sorted(targets & set(self.switching.switches)):
                log.info("schedule %s: %s %s", entry["at"], device, entry["action"])
                self._publish_state(self.switching.switch(device, entry["action"] == "on", "schedule"))

    def _failsafe(self) -> None:
        if self._offline_since is None:
            return
        offline = time.monotonic() - self._offline_since
        for device, sw in self.switching.switches.items():
            fs = self.configs[device].get("failsafe")
            if fs and device not in self._failsafe_done and offline >= fs["offline_seconds"]:
                self._failsafe_done.add(device)
                want = fs["state"] == "on"
                try:
                    already = sw.is_on() == want
                except Exception as exc:  # not knowing its state is no reason to leave it unsafe
                    log.warning("reading %s failed (%s): driving it to its failsafe state anyway", device,
                                exc)
                    already = False
                if not already:
                    log.warning(
                        "broker gone for %.0f s: %s to failsafe state %s", offline, device, fs["state"]
                    )
                    self._publish_state(self.switching.switch(device, want, "failsafe"))

    def _health(self) -> None:
        values = {
            "uptime_s": round(time.time() - self.started_ms / 1000, 1),
            "outbox_pending": len(self.outbox),
            "outbox_dropped": self.outbox.dropped,
            "dropped_qos0": self.session.dropped_qos0,
            **self.counters,
            **self.switching.counters,
            **self.rules.counters,
        }
        try:
            DeviceContextImpl(self, "agent").telemetry(values)
        except Exception:
            if not self.db.full or not self.session.connected:
                raise
            # storage full: the health goes out directly (not durable, no seq) rather than not at all
            body = {"ts": now_ms(), "values": values}
            self._publish_json(self.topics.device("agent", "telemetry"), body)

    # -- storage faults ---------------------------------------------------------------
    def _watch_storage(self) -> None:
        """Say when storage stops taking writes and when it takes them again (event + retained state)."""
        if self.db.full and self._storage_full_since is None:
            self._storage_full_since = time.monotonic()
            self._next_storage_probe = time.monotonic() + STORAGE_PROBE_SECONDS
            log.error(
                "storage full (%s): commands that cannot be recorded are refused, readings are not "
                "kept until space returns; free space in %s",
                self.db.full,
                self.cfg["storage"]["path"],
            )
            self._storage_state("full", error=self.db.full)
            self._direct_event("storage_full", {"error": self.db.full})
            return
        if self._storage_full_since is None:
            return
        if self.db.full and time.monotonic() >= self._next_storage_probe:
            self._next_storage_probe = time.monotonic() + STORAGE_PROBE_SECONDS
            try:
                self.db.put("agent", "storage_probe", now_ms())  # a write that commits clears db.full
            except Exception:
                pass
        # recovered once writes commit again and none failed for a while (no flapping when nearly full)
        if not self.db.full and time.monotonic() - self.db.full_at >= STORAGE_PROBE_SECONDS:
            took = time.monotonic() - self._storage_full_since
            self._storage_full_since = None
            log.warning("storage takes writes again after %.1f s", took)
            self._storage_state("ok")
            self._direct_event("storage_ok", {"full_seconds": round(took, 1)})

    def _storage_state(self, storage: str, **fields: Any) -> None:
        self.retained["agent"] = {"storage": storage, "ts": now_ms(), **fields}
        if self.session.connected:
            self._publish_json(self.topics.device("agent", "state"), self.retained["agent"], retain=True)

    def _direct_event(self, type_: str, fields: dict[str, Any]) -> None:
        """An event of device `agent` that cannot wait for the outbox (it is what is broken): no seq."""
        body = {"ts": now_ms(), "type": type_, **fields}
        if self.session.connected:
            self._publish_json(self.topics.device("agent", "event"), body)
        else:  # sent with the next birth
            self._deferred_events = [*self._deferred_events[-9:], body]

    def _storage_reset(self) -> None:
        """The database file was damaged and replaced by a fresh one (edge/store/db.py): say it loudly."""
        log.error(
            "STORAGE RESET: %s. Relays with `initial: restore` start in their safe state; "
            "command ids seen before the reset are not known any more",
            self.db.reset,
        )
        for dev_id, sw in self.switching.switches.items():
            c = self.configs[dev_id]
            if c.get("initial") == "restore" and c.get("safe_state") in ("on", "off"):
                sw.set_on(c["safe_state"] == "on")
        self._storage_state("reset", reason=self.db.reset)
        DeviceContextImpl(self, "agent").event("storage_reset", {"reason": self.db.reset})

