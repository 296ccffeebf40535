"""Bridges of one share group watch each other, so a dead bridge's share is not withheld: pure decisions.

Mosquitto (2.0) keeps a disconnected member's persistent session in the shared group and goes on handing
it its share of the stream until the session expires: with one of two bridges killed, about half the
stream waits in the dead session (issue #15: 3,686 of 6,000 points until it came back). So every bridge
of a group publishes its state, retained, to ``campus-edge/bridges/{group}/{client_id}``: ``online`` when
it connects, ``offline`` when it stops and, as its MQTT will, when it dies (kill -9, power, network).
When a peer has been offline for a few seconds (app.py, PEER_GRACE_SECONDS: a restart is not a death), ONE
live bridge (the first client id in sorted order, so they agree without
talking) connects with the dead peer's client id and takes its session over (app.py, ``adopt``):
it unsubscribes the session from the group (the broker stops handing it a share), writes what the
session holds (queued and unacknowledged messages, re-sent by the broker), acknowledges it, clears the
peer's retained state and ends the session (session expiry 0). A point written twice (the dead bridge
wrote a batch but died before acknowledging it) overwrites itself in the database.
"""

from __future__ import annotations

import json

STATUS_ROOT = "campus-edge/bridges"
ONLINE, OFFLINE = "online", "offline"


def status_topic(group: str, client_id: str) -> str:
    return f"{STATUS_ROOT}/{group}/{client_id}"


def status_filter(group: str) -> str:
    return f"{STATUS_ROOT}/{group}/+"


def status_payload(state: str, ts_ms: int) -> bytes:
    return json.dumps({"state": state, "ts": ts_ms}, separators=(",", ":")).encode()


def parse_status(topic: str, payload: bytes, group: str) -> tuple[str, str | None] | None:
    """(client id, state) of a peer's retained state; state None when it was cleared (taken over);
    None for a topic or payload that is not a peer state."""
    prefix = f"{STATUS_ROOT}/{group}/"
    if not topic.startswith(prefix) or "/" in topic[len(prefix):] or len(topic) == len(prefix):
        return None
    peer = topic[len(prefix):]
    if not payload:
        return peer, None
    try:
        state = json.loads(payload).get("state")
    except (ValueError, AttributeError):
        return None
    return (peer, state) if state in (ONLINE, OFFLINE) else None


def should_adopt(peer: str, states: dict[str, str | None], me: str) -> bool:
    """True if `me` is the one live bridge that takes over `peer`'s session: the peer is offline and
    `me` is the first, in sorted order, of the bridges online (which includes `me`)."""
    if peer == me or states.get(peer) != OFFLINE:
        return False
    live = sorted({c for c, s in states.items() if s == ONLINE} | {me})
    return live[0] == me
