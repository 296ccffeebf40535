"""The bridge's MQTT reader (BufferedReadClient, batched hand-over, ack_many) against a real Mosquitto:
every message arrives once, whole and in order, whatever the read boundaries; v5 properties come through;
ack_many acknowledges exactly what it is given (the rest comes again in the next connection)."""

from __future__ import annotations

import queue
import subprocess
import time

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.mqtt.session import RECV_SIZE, Connected, Message, MqttSession


def session(broker, inbox: queue.Queue) -> MqttSession:
    s = MqttSession({"host": broker.host, "port": broker.port, "session_expiry": 600}, "buffered-test", inbox,
                    manual_ack=True, buffered_reads=True, batched=True)
    s.start()
    while not isinstance(inbox.get(timeout=10), Connected):
        pass
    return s


def take(s: MqttSession, n: int, keep: int = 0, timeout: float = 10) -> list[Message]:
    """n messages, acknowledged as they come (ack_many) except the last `keep` of them (the broker
    sends only so many unacknowledged ones: 100 in the tests' Mosquitto)."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        try:
            item = s.inbox.get(timeout=0.2)
        except queue.Empty:
            continue
        if isinstance(item, list):  # batched: the messages of one socket read
            acked = len(got)
            got += item
            assert s.ack_many(got[acked:n - keep]) == len(got[acked:n - keep])
    return got


def test_every_message_once_in_order_and_ack_many_acknowledges_what_it_is_given(broker, mqtt_probe):
    inbox: queue.Queue = queue.Queue()
    s = session(broker, inbox)
    s.subscribe(["buf/#"])
    time.sleep(0.3)
    lines = "".join(f"{i:05d}{'x' * (i % 300)}\n" for i in range(3000))  # packets of many sizes
    subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-q", "1", "-t", "buf/lines", "-l"], input=lines,
                   text=True, check=True, timeout=60)
    probe = mqtt_probe()
    big = bytes(range(256)) * (3 * RECV_SIZE // 256 + 7)  # one packet over several reads
    probe.publish("buf/big", big)
    props = Properties(PacketTypes.PUBLISH)
    props.ResponseTopic, props.CorrelationData = "buf/reply", b"\x00id"
    probe.publish("buf/props", b"{}", properties=props)

    got = take(s, 3002, keep=50)
    assert [m.payload.decode() for m in got[:3000]] == lines.splitlines()
    assert (got[3000].topic, got[3000].payload) == ("buf/big", big)
    assert (got[3001].topic, got[3001].response_topic, got[3001].correlation_data) == \
        ("buf/props", "buf/reply", b"\x00id")
    assert all(m.qos == 1 and m.connection == 1 for m in got)
    time.sleep(0.5)  # the PUBACKs written
    s.stop()

    s = session(broker, inbox)  # the broker sends again what was not acknowledged, and only that
    again = take(s, 50)
    time.sleep(1.0)
    assert [m.payload for m in again] == [m.payload for m in got[-50:]] and inbox.empty()
    s.stop(end_session=True)
