"""The one adapter that owns a paho client.

paho runs its callbacks on its network thread under its own lock; doing work
there risks deadlocks and stalls keep-alives. So the callbacks here only put
small records on a queue, and the owner (agent or bridge main loop) does the
work. Publishing is done by that owner too.

Persistent MQTT v5 session: ``clean_start=False`` on every connect plus a
session expiry, so the broker keeps our subscriptions and queues QoS 1
messages (commands) while we are away.

Inbound back-pressure (an owner given a ``messages`` queue): a flood must wait
at the broker, not in our memory. The CONNECT asks for a Receive Maximum (how
many unacknowledged QoS 1 messages the broker may send us), but Mosquitto 2.0.11
stops honouring it once the client has acknowledged a message, so the bound that
holds is ours: beyond ``max_waiting`` queued messages the callback waits, paho
stops reading the socket, TCP's window closes and the broker holds (or drops, by
its own limits) the rest. While it waits paho reads and writes nothing else, not
even PUBACKs, so the owner must keep taking messages whatever else it waits for
(it never waits on this thread). QoS 0 waits at most ``qos0_wait``: if the owner
is stalled that long, the message is dropped and counted (``dropped_qos0``), as
QoS 0 allows; QoS 1 waits for room (its PUBACK is the owner's promise).
"""

from __future__ import annotations

import logging
import queue
import socket
import ssl
import struct
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt import _packet
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.exception import MalformedPacket
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.mqtt.connect_errors import ConnectFailures, classify, classify_refusal

log = logging.getLogger(__name__)


class _PahoNoise(logging.Filter):
    """paho says "Client is not connected" at ERROR on every turn of its loop while it waits to reconnect;
    ConnectFailures already says why, once and then rate-limited."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Client is not connected")


# paho's internal logger: a child of ours, at WARNING (its DEBUG is every packet)
PAHO_LOG = log.getChild("paho")
PAHO_LOG.setLevel(logging.WARNING)
PAHO_LOG.addFilter(_PahoNoise())

RECV_SIZE = 65536  # bytes read from the socket at once (BufferedReadClient)
_PUBACK = struct.Struct("!BBH")  # fixed header (type, remaining length 2) and packet id


@dataclass(frozen=True)
class Connected:
    session_present: bool


@dataclass(frozen=True)
class Disconnected:
    reason: str


@dataclass(frozen=True)
class Subscribed:
    mid: int
    granted: tuple[int, ...]


@dataclass(frozen=True)
class Published:
    mid: int
    refused: str | None = None  # the broker's reason when its PUBACK is a failure (e.g. not authorized)


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    mid: int
    response_topic: str | None = None
    correlation_data: bytes | None = None
    raw: Any = None  # the paho message, for manual ack
    connection: int = 0  # which of our connections it arrived on (see MqttSession.ack)


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


def stop_loop(client: mqtt.Client) -> None:
    """``client.loop_stop()`` without paho's race (eclipse-paho/paho.mqtt.python#872, open): its network
    thread clears ``client._thread`` as it ends, so after a disconnect it may do so between loop_stop's
    check and its ``join()``, which then raises AttributeError. The thread has ended then: nothing is left
    to join."""
    try:
        client.loop_stop()
    except AttributeError:
        pass


def set_nodelay(client: mqtt.Client) -> None:
    """Turn off Nagle on paho's socket: a PUBACK written right after a PUBLISH otherwise waits
    for the peer's delayed ACK (~40 ms on Linux), which doubles a command's round trip."""
    sock = client.socket()
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def small_receive_buffer(client: mqtt.Client, size: int = 32 * 1024) -> None:
    """Keep the kernel's receive buffer small: a flood then waits at the broker, and the broker's
    PUBACKs for our publishes are not queued behind megabytes of inbound messages (Linux grows
    the buffer up to tcp_rmem's 6 MB otherwise: 20,000 small commands, seconds of delay)."""
    sock = client.socket()
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


class _SharedTableProperties(Properties):
    """paho's Properties rebuilds its tables of every property name and type (dicts of ~40 entries) for
    each object, and decodes an object for every received MQTT v5 PUBLISH: in the bridge's profile that
    was more than half of paho's thread. This subclass shares the (never modified) tables between
    objects of a packet type; decoding and the attributes set are paho's own."""

    _tables: dict[int, tuple[Any, Any, Any]] = {}

    def __init__(self, packetType: int) -> None:  # noqa: N803 (paho's name)
        tables = self._tables.get(packetType)
        if tables is None:
            proto = Properties(packetType)
            tables = self._tables[packetType] = (proto.types, proto.names, proto.properties)
        object.__setattr__(self, "packetType", packetType)
        object.__setattr__(self, "types", tables[0])
        object.__setattr__(self, "names", tables[1])
        object.__setattr__(self, "properties", tables[2])

    def clear(self) -> None:
        if len(self.__dict__) > 4:  # unpack() clears first; a new object has only the four tables
            super().clear()


class _ReceivedMessage(mqtt.MQTTMessage):
    """A received PUBLISH as paho's MQTTMessage, without the MQTTMessageInfo that paho builds for every
    message (a threading.Condition with its RLock) but uses only for messages it sends: in the bridge's
    profile that was 30% of its CPU."""

    __slots__ = ()

    def __init__(self, mid: int, topic: bytes, qos: int, retain: bool, dup: bool, payload: bytes | bytearray,
                 properties: Properties | None) -> None:
        self.timestamp = time.monotonic()
        self.state = mqtt.mqtt_ms_invalid
        self.dup, self.mid, self._topic, self.qos, self.retain = dup, mid, topic, qos, retain
        self.payload = payload
        self.properties = properties
        self.info = None  # type: ignore[assignment]


class BufferedReadClient(mqtt.Client):
    """paho reads each packet with three recv() calls (type byte, length bytes, body), each after its own
    select(), and builds a lock for every received message: at thousands of messages a second that is
    most of a receiver's cost (the bridge, issue #15). This client reads what the socket has, 64 KiB at a
    time, handles every whole packet in it before it goes back to select(), builds received messages
    without the lock, and sends many PUBACKs as one write (ack_many). Packets and their order are
    unchanged; paho's own handlers decode and dispatch them (QoS 2 and debug logging take paho's path).

    on_read_done, if set, is called on the network thread after each read's whole packets were handled
    (MqttSession hands over what it collected then)."""

    on_read_done: Callable[[], None] | None = None
    _fast = False  # PUBLISH decoded here (loop_read decides)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = bytearray()
        self._rpos = 0
        # paho.mqtt._packet decodes received packets (PUBLISH, CONNACK, SUBACK...) with this name; the
        # subclass behaves the same, only faster
        _packet.Properties = _SharedTableProperties  # type: ignore[misc]

    # -- reading ------------------------------------------------------------------------------
    def _fill(self) -> MQTTErrorCode:
        """One recv() into the buffer."""
        try:
            data = self._sock_recv(RECV_SIZE)  # paho's: the socket, TLS or websocket
        except BlockingIOError:
            return MQTTErrorCode.MQTT_ERR_AGAIN
        except OSError as err:
            self._easy_log(mqtt.MQTT_LOG_ERR, "failed to receive on socket: %s", err)
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if not data:
            return MQTTErrorCode.MQTT_ERR_CONN_LOST
        if self._rpos:
            del self._rbuf[:self._rpos]
            self._rpos = 0
        self._rbuf += data
        with self._msgtime_mutex:
            self._last_bytes_received = time.monotonic()
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _packet_read(self) -> MQTTErrorCode:
        """Handle the buffer's next whole packet; MQTT_ERR_AGAIN if it holds none."""
        buf, start = self._rbuf, self._rpos
        end = len(buf)
        i, length, shift = start + 1, 0, 0
        while True:  # the fixed header's remaining length: 1 to 4 bytes of 7 bits
            if i >= end:
                return MQTTErrorCode.MQTT_ERR_AGAIN
            byte = buf[i]
            length |= (byte & 0x7F) << shift
            i += 1
            if not byte & 0x80:
                break
            shift += 7
            if shift >= 28:
                return MQTTErrorCode.MQTT_ERR_PROTOCOL
        if i + length > end:
            return MQTTErrorCode.MQTT_ERR_AGAIN
        self._rpos = i + length
        command, body = buf[start], buf[i:i + length]
        try:
            if command & 0xF6 in (0x30, 0x32) and self._fast:  # PUBLISH at QoS 0 or 1: most packets
                return self._handle_publish_fast(command, body)
            # what paho's handlers read (PINGREQ and PINGRESP look at remaining_length)
            self._in_packet = {"command": command, "have_remaining": 1, "remaining_count": [],
                               "remaining_mult": 1, "remaining_length": length, "packet": body,
                               "to_process": 0, "pos": 0}
            return self._packet_handle()
        except MalformedPacket as exc:
            self._easy_log(mqtt.MQTT_LOG_DEBUG, "Received malformed packet: %s", exc)
            return MQTTErrorCode.MQTT_ERR_PROTOCOL

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        # one recv(), then every whole packet in the buffer; paho's select() comes back for more
        if self._sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        # paho's own path when someone reads its debug log (a line per packet) or filters by topic
        self._fast = (self.on_log is None and not self._on_message_filtered._root._children
                      and (self._logger is None or not self._logger.isEnabledFor(logging.DEBUG)))
        rc = self._fill()
        if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return self._loop_rc_handle(rc)
        while self._sock is not None:
            rc = self._packet_read()
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                break
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                return self._loop_rc_handle(rc)
        if self.on_read_done is not None:
            self.on_read_done()
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _sock_close(self) -> None:
        self._rbuf, self._rpos = bytearray(), 0  # a new connection starts with an empty buffer
        super()._sock_close()

    def _handle_publish_fast(self, command: int, body: bytearray) -> MQTTErrorCode:
        """A QoS 0/1 PUBLISH, decoded as paho's _packet.decode_publish does (a v5 PUBLISH without
        properties gets properties None), to on_message; PUBACK unless manual_ack."""
        qos = (command & 0x06) >> 1
        try:
            pos = 2 + ((body[0] << 8) | body[1])
            topic = bytes(body[2:pos])
            mid = 0
            if qos:
                mid = (body[pos] << 8) | body[pos + 1]
                pos += 2
            properties = None
            if self._protocol == mqtt.MQTTv5:
                if body[pos]:  # the properties' length
                    properties = _SharedTableProperties(PacketTypes.PUBLISH)
                    pos += properties.unpack(body[pos:])[1]
                else:
                    pos += 1
            elif not topic:
                raise MalformedPacket("topic can't be empty in MQTTv3")
            if pos > len(body):
                raise MalformedPacket("PUBLISH shorter than its header")
        except _packet.DECODE_ERRORS as err:
            raise MalformedPacket(str(err)) from err
        self._handle_on_message(_ReceivedMessage(mid, topic, qos, bool(command & 0x01), bool(command & 0x08),
                                                 bytes(body[pos:]), properties))
        if qos and not self._manual_ack:
            return self._send_puback(mid)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def _handle_on_message(self, message: mqtt.MQTTMessage) -> None:
        # paho matches every message against the per-topic callbacks (message_callback_add) first, with
        # a recursive generator; with none registered (MqttSession registers none) straight to on_message
        if self._on_message_filtered._root._children or self.on_message is None:
            super()._handle_on_message(message)
            return
        with self._in_callback_mutex:
            try:
                self.on_message(self, self._userdata, message)
            except Exception as err:
                self._easy_log(mqtt.MQTT_LOG_ERR, "Caught exception in on_message: %s", err)
                if not self.suppress_exceptions:
                    raise

    # -- acknowledging ------------------------------------------------------------------------
    def ack_many(self, mids: list[int]) -> None:
        """PUBACK (manual ack, QoS 1) for many messages as one packet write, and one wake-up of the
        network thread, instead of one of each per message."""
        if mids:
            data = b"".join([_PUBACK.pack(mqtt.PUBACK, 2, mid) for mid in mids])
            self._packet_queue(mqtt.PUBACK, data, 0, 0)


def apply_credentials(client: mqtt.Client, settings: dict[str, Any]) -> None:
    """The broker settings' user name, password and TLS (a config's `mqtt:` block) on a paho client."""
    if settings.get("username"):
        client.username_pw_set(settings["username"], settings.get("password"))
    tls = settings.get("tls")
    if tls:
        client.tls_set(
            ca_certs=tls.get("ca"),
            certfile=tls.get("cert"),
            keyfile=tls.get("key"),
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
        client.tls_insecure_set(bool(tls.get("insecure")))


class MqttSession:
    def __init__(
        self,
        settings: dict[str, Any],
        client_id: str,
        inbox: queue.Queue,
        *,
        will: Will | None = None,
        manual_ack: bool = False,
        max_inflight: int = 100,
        messages: queue.Queue | None = None,
        receive_maximum: int | None = None,
        max_waiting: int = 500,
        qos0_wait: float = 0.2,
        buffered_reads: bool = False,
        batched: bool = False,
    ) -> None:
        """batched (with buffered_reads, without messages): the messages of one socket read go on the inbox
        as one list[Message], so a busy owner takes them with one queue operation instead of one each."""
        self.settings = settings
        self.inbox = inbox
        self.messages = messages  # inbound messages; control records go to inbox
        self.receive_maximum = receive_maximum
        self.max_waiting, self.qos0_wait = max_waiting, qos0_wait
        self.dropped_qos0 = 0
        self._stopping = False
        self.connected = False
        self.connection = 0  # counts successful connects
        self.connected_since_ms: int | None = None
        self.failures = ConnectFailures(log, f"{settings['host']}:{settings['port']}")
        self.client = (BufferedReadClient if buffered_reads else mqtt.Client)(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=manual_ack,
        )
        self.client.max_inflight_messages_set(max_inflight)
        # Owners publish only while connected; this bounds what a long outage can pile up in paho.
        self.client.max_queued_messages_set(10_000)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.enable_logger(PAHO_LOG)  # paho's own warnings and errors, in our log
        apply_credentials(self.client, settings)
        if will is not None:
            self.client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_connect_fail = self._on_connect_fail
        self._batch: list[Message] | None = None
        if batched:
            if not isinstance(self.client, BufferedReadClient) or messages is not None:
                raise ValueError("batched needs buffered_reads and no messages queue")
            self._batch = []
            self.client.on_read_done = self._hand_over_batch

    # -- paho callbacks: hand over, nothing else --------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.failures.failed(*classify_refusal(reason_code))
            return
        self.failures.succeeded()
        self.connected_since_ms = int(time.time() * 1000)
        set_nodelay(client)
        if self.messages is not None:
            small_receive_buffer(client)
        self.connection += 1  # before any message of this connection is handed over
        self.connected = True
        self._put(Connected(bool(flags.session_present)))

    def _on_connect_fail(self, client, userdata) -> None:
        # paho calls this inside its `except OSError` around the connect: the exception is the cause
        self.failures.failed(*classify(sys.exc_info()[1], tls=bool(self.settings.get("tls"))))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was = self.connected
        self.connected = False
        self.connected_since_ms = None
        if was:
            self._put(Disconnected(str(reason_code)))

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        refused = str(reason_code) if reason_code is not None and reason_code.is_failure else None
        self._put(Published(mid, refused))

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        self._put(Subscribed(mid, tuple(rc.value for rc in reason_codes)))

    def _put(self, record: Any) -> None:
        self._hand_over_batch()  # messages read before this record are handed over before it
        self.inbox.put(record)

    def _hand_over_batch(self) -> None:
        if self._batch:
            self.inbox.put(self._batch)
            self._batch = []

    def _on_message(self, client, userdata, msg) -> None:
        props = msg.properties
        rt = getattr(props, "ResponseTopic", None) if props is not None else None
        cd = getattr(props, "CorrelationData", None) if props is not None else None
        message = Message(msg.topic, bytes(msg.payload), msg.qos, bool(msg.retain), msg.mid, rt, cd, msg,
                          self.connection)
        if self._batch is not None:
            self._batch.append(message)  # handed over when this read is done (_hand_over_batch)
        else:
            self._hand_over(message)

    def _hand_over(self, message: Message) -> None:
        if self.messages is None:
            self.inbox.put(message)
            return
        if self.messages.qsize() >= self.max_waiting:
            deadline = time.monotonic() + self.qos0_wait
            while self.messages.qsize() >= self.max_waiting:  # back-pressure: paho reads no further
                if self._stopping:
                    return  # unacknowledged: the broker sends it to our next session
                if message.qos == 0 and time.monotonic() >= deadline:
                    self.dropped_qos0 += 1
                    if self.dropped_qos0 in (1, 10, 100) or self.dropped_qos0 % 10_000 == 0:
                        log.warning("%d QoS 0 message(s) dropped: owner not keeping up", self.dropped_qos0)
                    return
                time.sleep(0.002)
        self.messages.put(message)
        if self.messages.qsize() == 1:  # it was empty: the owner may be asleep on its inbox
            self.inbox.put(None)

    # -- owner's API ------------------------------------------------------------
    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = int(self.settings.get("session_expiry", 3600))
        if self.receive_maximum:
            props.ReceiveMaximum = self.receive_maximum
        self.client.connect_async(
            self.settings["host"],
            int(self.settings["port"]),
            keepalive=int(self.settings.get("keepalive", 30)),
            clean_start=False,
            properties=props,
        )
        self.client.loop_start()

    def subscribe(self, topics: list[str], qos: int = 1) -> int | None:
        """Subscribe; the broker's answer arrives as Subscribed with the returned mid."""
        if not topics:
            return None
        rc, mid = self.client.subscribe([(t, qos) for t in topics])
        return mid if rc == MQTTErrorCode.MQTT_ERR_SUCCESS else None

    def unsubscribe(self, topics: list[str]) -> int | None:
        """Drop subscriptions of our session (a bridge taking over a dead peer's session stops its share)."""
        if not topics:
            return None
        rc, mid = self.client.unsubscribe(topics)
        return mid if rc == MQTTErrorCode.MQTT_ERR_SUCCESS else None

    def publish(
        self,
        topic: str,
        payload: bytes,
        qos: int = 1,
        retain: bool = False,
        response_to: tuple[str, bytes | None] | None = None,
    ) -> int | None:
        """Publish; returns the message id (its PUBACK arrives as Published) or None if not sent."""
        props = None
        if response_to is not None and response_to[1] is not None:
            props = Properties(PacketTypes.PUBLISH)
            props.CorrelationData = response_to[1]
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return None
        return info.mid

    def ack(self, message: Message) -> bool:
        """Acknowledge a message received with manual_ack; False if it cannot be (any more).

        After a reconnect the broker re-sends unacknowledged messages under their old packet ids
        and may reuse the ids of acknowledged ones: acknowledging a message of an earlier
        connection could release a different, not yet stored message. So only messages of the
        current connection are acknowledged; the broker re-sends the others, and that copy is.
        """
        if message.qos == 0 or message.connection != self.connection or not self.connected:
            return False
        self.client.ack(message.mid, message.qos)
        return True

    def ack_many(self, messages: Iterable[Message]) -> int:
        """ack() for many messages, their PUBACKs in one write (BufferedReadClient); returns how many were
        acknowledged (the others as ack() would refuse them)."""
        if not self.connected:
            return 0
        connection = self.connection
        mids = [m.mid for m in messages if m.qos == 1 and m.connection == connection]
        if isinstance(self.client, BufferedReadClient):
            self.client.ack_many(mids)
        else:
            for mid in mids:
                self.client.ack(mid, 1)
        return len(mids)

    def stop(self, final: list[tuple[str, bytes, bool]] | None = None, timeout: float = 3.0,
             end_session: bool = False) -> None:
        """Publish the final retained messages (e.g. status offline), then disconnect cleanly;
        end_session: the broker deletes our session (MQTT v5 session expiry 0 on DISCONNECT)."""
        self._stopping = True  # a callback waiting for room in `messages` gives up
        if self.connected:
            for topic, payload, retain in final or []:
                try:
                    info = self.client.publish(topic, payload, qos=1, retain=retain)
                    info.wait_for_publish(timeout)
                except (RuntimeError, ValueError):
                    pass
        props = None
        if end_session:
            props = Properties(PacketTypes.DISCONNECT)
            props.SessionExpiryInterval = 0
        self.client.disconnect(properties=props)
        stop_loop(self.client)
