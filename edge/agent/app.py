"""The agent: wires config, storage, devices and the MQTT session, and runs the main loop.

Threads: paho's network thread (callbacks only enqueue), device threads
(pollers, cameras: they call their DeviceContext, which writes to the outbox
and enqueues retained states), and this main loop, the only one that touches
the MQTT client.
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
from edge.agent.rules import LocalRules
from edge.agent.schedule import due_between
from edge.agent.switching import Outcome, Switching
from edge.agent.watchdog import AgentWatch
from edge.calendar import calendar_from
from edge.config.agent import client_id_for
from edge.mqtt import payloads
from edge.mqtt.payloads import PayloadError
from edge.mqtt.session import Connected, Disconnected, Message, MqttSession, Published, Subscribed, Will
from edge.mqtt.topics import Topics, parse_inbound
from edge.store.commands import CommandLog
from edge.store.db import Database
from edge.store.outbox import Outbox

log = logging.getLogger("campus-edge.agent")

PUMP_WINDOW = 100  # messages in flight to the broker at once
PRUNE_SECONDS = 86400.0  # how often old command-log entries are removed
SCHEDULE_CATCH_UP_MINUTES = 15  # entries missed by a restart or a clock step this recently still run
PARKED_RETRY_SECONDS = 300.0  # outbox rows the broker refused are offered again this often
STALL_SECONDS = 60.0  # in-flight messages unacknowledged this long are sent again


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
        self.log = logging.getLogger(f"campus-edge.device.{device_id}")
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


class Agent:
    def __init__(self, cfg: dict[str, Any], resources: Resources | None = None) -> None:
        self.cfg = cfg
        self.resources = simulated.register(resources or Resources())  # `sim:` ports, `simulate:` pins
        self.topics = Topics(cfg["mqtt"]["root"], cfg["site"], cfg["node"])
        self.db = Database(cfg["storage"]["path"])
        self.outbox = Outbox(self.db, cfg["storage"]["max_outbox"])
        self.commands = CommandLog(self.db)
        self.inbox: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self.started_ms = now_ms()
        self.counters = {"bad_payloads": 0, "errors": 0, "publish_refused": 0}
        self.calendar = calendar_from(cfg.get("calendar"))  # before the devices: their alerts consult it
        self.devices: dict[str, Device] = {}
        self.configs: dict[str, dict[str, Any]] = {}
        for dev_cfg in cfg["devices"]:
            self.devices[dev_cfg["id"]] = processors.build(dev_cfg, DeviceContextImpl(self, dev_cfg["id"]))
            self.configs[dev_cfg["id"]] = dev_cfg
        switches = {d: dev for d, dev in self.devices.items() if isinstance(dev, Switch)}
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
        )
        self._inflight: dict[int, tuple[int, float]] = {}  # mid -> (outbox row id, sent at)
        self._sent_upto = 0
        self._offline_since: float | None = time.monotonic()
        self._failsafe_done: set[str] = set()
        self._schedule_cursor: int | None = None  # epoch minute whose schedule entries have run
        self._closing = False
        self._next_prune = time.monotonic() + PRUNE_SECONDS
        self._parked: set[int] = set()  # outbox rows the broker refused (PUBACK with an error)
        self._next_parked_retry = 0.0
        self._next_health = time.monotonic() + cfg["health_seconds"]
        self.tz = ZoneInfo(cfg["timezone"]) if cfg.get("timezone") else None
        self.ready = threading.Event()  # devices started, main loop running
        self.online = threading.Event()  # connected and subscribed: commands reach us
        self._sub_mid: int | None = None
        self.ha = HomeAssistantLink(self)  # discovery (and removals), device availability, snapshots
        self.watch = AgentWatch(self)  # systemd watchdog, STATUS=, link state for `campus-edge status`

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
        self.retained.update(self.switching.boot())
        self.commands.prune()
        self.session.start()

    def run(self) -> None:
        """The main loop; returns after stop() is called."""
        self.start()
        self.ready.set()
        self.watch.ready()
        try:
            while not self._stop.is_set():
                try:
                    self._drain(timeout=0.2)
                    self._tick()
                    self.watch.tick()
                except Exception:  # a full disk or a bug must degrade the node, not switch it off
                    self.counters["errors"] += 1
                    log.exception("main loop step failed; going on")
                    self._stop.wait(1.0)
        finally:
            self._shutdown()

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
        self.db.close()

    # -- main loop --------------------------------------------------------------
    def _drain(self, timeout: float) -> None:
        acked: list[int] = []
        try:
            item = self.inbox.get(timeout=timeout)
            while True:
                try:
                    self._handle(item, acked)
                except Exception:  # a bug met by one message must not stop the node: count it, go on
                    self.counters["errors"] += 1
                    log.exception("unexpected error handling %r", item)
                item = self.inbox.get_nowait()
        except queue.Empty:
            pass
        if acked:
            self.outbox.ack(acked)
        self._pump()

    def _handle(self, item: Any, acked: list[int]) -> None:
        if item is None:
            return
        if isinstance(item, Published):
            entry = self._inflight.pop(item.mid, None)
            if entry is None:
                return
            if item.refused is None:
                acked.append(entry[0])
            else:  # kept on disk: an ACL or quota problem is fixed by people, then the row goes out
                if not self._parked:
                    log.error(
                        "broker refused an outbox message (%s); keeping it and retrying every %.0f s",
                        item.refused,
                        PARKED_RETRY_SECONDS,
                    )
                self._parked.add(entry[0])
                self.counters["publish_refused"] += 1
        elif isinstance(item, Message):
            if self._closing:
                return  # not acknowledged: the broker delivers it to our next session
            try:
                self._on_message(item)
            finally:
                self.session.ack(item)
        elif isinstance(item, RetainedPublish):
            if self.session.connected:  # otherwise the birth on reconnect publishes the latest
                self.session.publish(item.topic, item.payload, qos=1, retain=True)
        elif isinstance(item, RetainedState):
            self.retained[item.device] = item.state
            if self.session.connected:  # otherwise the birth on reconnect publishes the latest
                self._publish_json(self.topics.device(item.device, "state"), item.state, retain=True)
        elif isinstance(item, Subscribed):
            if item.mid == self._sub_mid:
                if any(code >= 0x80 for code in item.granted):
                    log.error("broker refused a command subscription (codes %s): check its ACL", item.granted)
                self.online.set()
        elif isinstance(item, Connected):
            self._on_connected(item)
        elif isinstance(item, Disconnected):
            if not self._stop.is_set():
                log.warning("broker connection lost (%s); outbox keeps what is measured", item.reason)
            self._offline_since = time.monotonic()
            self.online.clear()

    def _on_connected(self, ev: Connected) -> None:
        session = int(self.db.get("agent", "session", 0)) + 1
        self.db.put("agent", "session", session)
        log.info(
            "connected to %s:%s (session %d, broker kept our session: %s)",
            self.cfg["mqtt"]["host"],
            self.cfg["mqtt"]["port"],
            session,
            ev.session_present,
        )
        self._offline_since = None
        self._failsafe_done.clear()
        # paho sends the unacknowledged ones again now: their clock for the stall check restarts
        self._inflight = {mid: (row, time.monotonic()) for mid, (row, _) in self._inflight.items()}
        self._next_parked_retry = time.monotonic() + 5.0
        subs = self.topics.subscriptions()
        ha = self.cfg["homeassistant"]
        if ha["discovery"]:
            subs.append(f"{ha['prefix']}/status")  # Home Assistant's birth: send our configs again
        self._sub_mid = self.session.subscribe(subs)
        self._birth(session)

    def _birth(self, session: int | None = None) -> None:
        if session is None:
            session = int(self.db.get("agent", "session", 0))
        devices = [
            {k: c[k] for k in ("id", "kind", "driver", "name", "groups") if c.get(k) not in (None, [])}
            for c in self.configs.values()
        ]
        info = payloads.info(__version__, session, self.started_ms, devices)
        self._publish_json(self.topics.info, info, retain=True)
        for rp in self.ha.birth(devices, __version__):
            self.session.publish(rp.topic, rp.payload, qos=1, retain=True)
        for device, state in self.retained.items():
            self._publish_json(self.topics.device(device, "state"), state, retain=True)
        self.session.publish(self.topics.status, b"online", retain=True)

    def _pump(self) -> None:
        """Send outbox rows while the broker is there and the window has room."""
        if not self.session.connected:
            return
        room = PUMP_WINDOW - len(self._inflight)
        if room <= 0:
            oldest = min(sent for _, sent in self._inflight.values())
            if time.monotonic() - oldest > STALL_SECONDS:
                log.warning(
                    "%d messages unacknowledged for %.0f s: sending them again",
                    len(self._inflight),
                    STALL_SECONDS,
                )
                self._inflight.clear()
                self._sent_upto = 0
            return
        for row in self.outbox.pending(self._sent_upto, room):
            mid = self.session.publish(row.topic, row.payload, qos=row.qos)
            if mid is None:
                return
            self._inflight[mid] = (row.id, time.monotonic())
            self._sent_upto = row.id

    def _retry_parked(self) -> None:
        if not self._parked or not self.session.connected or time.monotonic() < self._next_parked_retry:
            return
        self._next_parked_retry = time.monotonic() + PARKED_RETRY_SECONDS
        rows = self.outbox.rows(sorted(self._parked))
        self._parked.clear()  # a row refused again is parked again
        for row in rows:
            mid = self.session.publish(row.topic, row.payload, qos=row.qos)
            if mid is not None:
                self._inflight[mid] = (row.id, time.monotonic())

    def _rules(self) -> None:
        for outcome in self.rules.run_pending():
            self._publish_outcome(outcome, None)

    def _tick(self) -> None:
        self._rules()
        for outcome in self.switching.due_pulse_ends():
            self._publish_outcome(outcome, None)
        self._schedules()
        self._failsafe()
        self._retry_parked()
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + PRUNE_SECONDS
            self.commands.prune()
        if time.monotonic() >= self._next_health:
            self._next_health = time.monotonic() + self.cfg["health_seconds"]
            self._health()

    # -- commands -----------------------------------------------------------------
    def _on_message(self, msg: Message) -> None:
        ha = self.cfg["homeassistant"]
        if ha["discovery"] and msg.topic == f"{ha['prefix']}/status":
            if msg.payload == b"online":
                log.info("Home Assistant came online: publishing discovery again")
                self._birth()
            return
        target = parse_inbound(self.topics, msg.topic)
        if target is None:
            self.counters["bad_payloads"] += 1
            log.warning("ignoring message on unexpected topic %s", msg.topic)
            return
        if target.target == "node":
            if msg.payload.strip().lower() == b"rebirth":
                log.info("rebirth requested")
                self._birth()
            else:
                self.counters["bad_payloads"] += 1
                log.warning("unknown node command %r on %s", msg.payload[:64], msg.topic)
            return
        if target.target == "device":
            devices = [target.name]
        else:
            devices = [d for d, c in self.configs.items() if target.name in c.get("groups", [])]
            if not devices:
                return  # a group none of our devices belongs to
        respond = (msg.response_topic, msg.correlation_data) if msg.response_topic else None
        try:
            cmd = payloads.parse_command(msg.payload)
        except PayloadError as exc:
            self.counters["bad_payloads"] += 1
            log.warning("bad command on %s: %s", msg.topic, exc)
            for device in devices:
                reply = payloads.reply_error(payloads.peek_id(msg.payload), str(exc), now_ms())
                self._publish_outcome(Outcome(device, reply, None), respond)
            return
        for device in devices:
            if device not in self.devices:
                reply = payloads.reply_error(
                    cmd.id, f"no device {device!r} on node {self.cfg['node']}", now_ms()
                )
                self._publish_outcome(Outcome(device, reply, None), respond)
                continue
            self._publish_outcome(self.switching.execute(device, cmd), respond)

    def _publish_outcome(self, outcome: Outcome, respond: tuple[str, bytes | None] | None) -> None:
        if outcome.state is not None:
            self.retained[outcome.device] = outcome.state
            self._publish_json(self.topics.device(outcome.device, "state"), outcome.state, retain=True)
        self._publish_json(self.topics.device(outcome.device, "reply"), outcome.reply)
        if respond is not None:
            self.session.publish(respond[0], payloads.dumps(outcome.reply), qos=1, response_to=respond)

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
        self.db.put("agent", "schedule_cursor", now_minute)
        for _, entry in todo:
            targets = set(entry["devices"]) | {
                d for d, c in self.configs.items() if set(entry["groups"]) & set(c.get("groups", []))
            }
            for device in sorted(targets & set(self.switching.switches)):
                log.info("schedule %s: %s %s", entry["at"], device, entry["action"])
                self._publish_outcome(
                    self.switching.switch(device, entry["action"] == "on", "schedule"), None
                )

    def _failsafe(self) -> None:
        if self._offline_since is None:
            return
        offline = time.monotonic() - self._offline_since
        for device, sw in self.switching.switches.items():
            fs = self.configs[device].get("failsafe")
            if fs and device not in self._failsafe_done and offline >= fs["offline_seconds"]:
                self._failsafe_done.add(device)
                want = fs["state"] == "on"
                if sw.is_on() != want:
                    log.warning(
                        "broker gone for %.0f s: %s to failsafe state %s", offline, device, fs["state"]
                    )
                    self._publish_outcome(self.switching.switch(device, want, "failsafe"), None)

    def _health(self) -> None:
        values = {
            "uptime_s": round(time.time() - self.started_ms / 1000, 1),
            "outbox_pending": len(self.outbox),
            "outbox_dropped": self.outbox.dropped,
            **self.counters,
            **self.switching.counters,
            **self.rules.counters,
        }
        DeviceContextImpl(self, "agent").telemetry(values)
