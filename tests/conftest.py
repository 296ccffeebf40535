"""Fixtures for the whole suite: real Mosquitto, real VictoriaMetrics, mock GPIO, MQTT helpers.

Each broker/database runs on a free loopback port with its own temp dir, so a
test can stop, kill and restart it.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import paho.mqtt.publish as paho_publish
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from paho.mqtt.enums import CallbackAPIVersion

from edge.broker import Mosquitto
from edge.mqtt.session import stop_loop
from tests.edge.bridge.support import SENTINEL_INFO, bridge_raw_config, info
from tests.support.processes import ROOT, BridgeProcess  # noqa: F401 (test modules import ROOT from here)
from tests.support.victoria import VictoriaMetrics


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path / "mosquitto").start()
    yield b
    b.kill()


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    vm = VictoriaMetrics(tmp_path / "victoria").start()
    yield vm
    vm.kill()


@pytest.fixture
def pin_factory() -> Iterator[MockFactory]:
    factory = MockFactory(pin_class=MockPWMPin)
    yield factory
    factory.reset()


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll until predicate() is truthy; fail the test naming what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


class MqttProbe:
    """A paho client for tests: subscribes, records every message, publishes."""

    def __init__(
        self,
        broker: Mosquitto,
        topics: list[str] | None = None,
        client_id: str | None = None,
        persistent: bool = False,
    ) -> None:
        self.messages: queue.Queue = queue.Queue()
        self.seen: list[mqtt.MQTTMessage] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"probe-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self._subscribed = threading.Event()
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.reconnect_delay_set(0.2, 1)
        props = None
        if persistent:  # survives a broker restart with its queue, like a real consumer
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties

            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 600
        self.client.connect(broker.host, broker.port, clean_start=not persistent, properties=props)
        self.client.loop_start()
        if topics:
            self.client.subscribe([(t, 1) for t in topics])
            assert self._subscribed.wait(5), "probe subscription not acknowledged"

    def _on_message(self, client, userdata, msg) -> None:
        with self._lock:
            self.seen.append(msg)
        self.messages.put(msg)

    def publish(self, topic: str, payload: Any, qos: int = 1, retain: bool = False, properties=None) -> None:
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties).wait_for_publish(5)

    def on(self, topic: str) -> list[mqtt.MQTTMessage]:
        with self._lock:
            return [m for m in self.seen if m.topic == topic]

    def json_on(self, topic: str) -> list[dict]:
        return [json.loads(m.payload) for m in self.on(topic)]

    def wait_json(
        self, topic: str, predicate: Callable[[dict], bool] = lambda _: True, timeout: float = 10.0
    ) -> dict:
        return wait_for(
            lambda: next((p for p in self.json_on(topic) if predicate(p)), None),
            timeout,
            f"a matching message on {topic}",
        )

    def close(self) -> None:
        self.client.disconnect()
        stop_loop(self.client)


@pytest.fixture
def mqtt_probe(broker: Mosquitto) -> Iterator[Callable[..., MqttProbe]]:
    probes: list[MqttProbe] = []

    def make(topics: list[str] | None = None, **kw: Any) -> MqttProbe:
        p = MqttProbe(broker, topics, **kw)
        probes.append(p)
        return p

    yield make
    for p in probes:
        p.close()


class RunningAgent:
    """An Agent on its own thread, as `campus-edge agent` runs it."""

    def __init__(self, cfg: dict[str, Any], pin_factory: MockFactory, wait_online: bool = True) -> None:
        from drivers.base import Resources
        from edge.agent.app import Agent

        self.cfg = cfg
        self.agent = Agent(cfg, Resources(pin_factory=pin_factory))
        self.thread = threading.Thread(target=self.agent.run, name="agent", daemon=True)
        self.thread.start()
        assert self.agent.ready.wait(10), "agent did not start"
        if wait_online:
            assert self.agent.online.wait(10), "agent did not connect and subscribe"

    @property
    def base(self) -> str:
        return self.agent.topics.base

    def stop(self) -> None:
        if self.thread.is_alive():
            self.agent.stop()
            self.thread.join(15)
            assert not self.thread.is_alive(), "agent did not stop"


def agent_config(broker: Mosquitto, tmp_path: Path, devices: list[dict], **extra: Any) -> dict[str, Any]:
    """A validated agent config for a test: the test's broker, storage in tmp_path."""
    from edge.config.schema import validate
    from edge.loaders.agent import AGENT

    raw = {
        "site": "test-site",
        "node": extra.pop("node", "node-1"),
        "mqtt": {"host": broker.host, "port": broker.port, "keepalive": 5, **extra.pop("mqtt", {})},
        "storage": {"path": str(tmp_path / f"agent-{uuid.uuid4().hex[:6]}.db"), **extra.pop("storage", {})},
        "devices": devices,
        **extra,
    }
    return validate(AGENT, raw)


@pytest.fixture
def run_agent(
    broker: Mosquitto, tmp_path: Path, pin_factory: MockFactory
) -> Iterator[Callable[..., RunningAgent]]:
    """run_agent(devices, **config) starts an agent against the test broker; stopped after the test."""
    running: list[RunningAgent] = []

    def start(
        devices: list[dict] | None = None,
        cfg: dict[str, Any] | None = None,
        wait_online: bool = True,
        **extra: Any,
    ) -> RunningAgent:
        ra = RunningAgent(
            cfg or agent_config(broker, tmp_path, devices or [], **extra), pin_factory, wait_online
        )
        running.append(ra)
        return ra

    yield start
    for ra in running:
        ra.stop()


# -- bridges ------------------------------------------------------------------------------------------


class RunningBridge:
    """A Bridge on its own thread, as `campus-edge bridge` runs it."""

    def __init__(self, raw: dict[str, Any], sink: Any = None) -> None:
        from edge.bridge.app import Bridge
        from edge.bridge.config import BRIDGE
        from edge.config.schema import validate

        self.cfg = validate(BRIDGE, raw)
        self.bridge = Bridge(self.cfg, sink)
        self.thread = threading.Thread(target=self.bridge.run, name="bridge", daemon=True)
        self.thread.start()
        assert self.bridge.ready.wait(10), "bridge did not start"

    @property
    def counters(self) -> dict[str, int]:
        return dict(self.bridge.counters)

    def stop(self) -> None:
        if self.thread.is_alive():
            self.bridge.stop()
            self.thread.join(20)
            assert not self.thread.is_alive(), "bridge did not stop"


@pytest.fixture
def run_bridge(broker: Mosquitto, tmp_path: Path) -> Iterator[Callable[..., RunningBridge]]:
    running: list[RunningBridge] = []

    def start(sink: dict[str, Any] | None = None, sink_object: Any = None, **extra: Any) -> RunningBridge:
        rb = RunningBridge(bridge_raw_config(broker, tmp_path, sink, **extra), sink_object)
        running.append(rb)
        # a retained info of a node of its own shows when the bridge has subscribed: the test may publish
        paho_publish.single(SENTINEL_INFO, json.dumps(info()), qos=1, retain=True, hostname=broker.host,
                       port=broker.port)
        deadline = time.monotonic() + 10
        while "zz-test/zz-sentinel" not in rb.bridge.kinds:
            assert time.monotonic() < deadline, "bridge did not subscribe"
            time.sleep(0.01)
        return rb

    yield start
    for rb in running:
        rb.stop()


@pytest.fixture
def bridge_process(tmp_path: Path) -> Iterator[Callable[[dict[str, Any]], BridgeProcess]]:
    procs: list[BridgeProcess] = []

    def make(raw: dict[str, Any]) -> BridgeProcess:
        p = BridgeProcess(raw, tmp_path)
        procs.append(p)
        return p

    yield make
    for p in procs:
        p.kill()


# -- devices --------------------------------------------------------------------------------------------


@pytest.fixture
def start_device() -> Iterator[Callable[..., Any]]:
    """start_device(entry, context): a device built from its config entry as the agent builds it, started,
    and stopped (with the buses and pollers it shares) after the test."""
    from tests.drivers.metering_support import build

    started: list[Any] = []

    def start(entry: dict[str, Any], context: Any) -> Any:
        dev = build(entry, context)
        dev.start()
        started.append((dev, context))
        return dev

    yield start
    for dev, _ in started:
        dev.stop()
    for _, context in started:
        context.resources.close()
