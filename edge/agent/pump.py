"""The outbox pump: moves stored rows to the broker and deletes them once the broker has them.

One owner (the agent's main loop) calls it; it only uses the session's publish. A row is
deleted only after its PUBACK (``published``); a PUBACK with an error parks the row on disk
(an ACL or quota problem is fixed by people) and it is offered again every
PARKED_RETRY_SECONDS; messages unacknowledged for STALL_SECONDS are sent again. Readings and
replies share the window so that neither a command flood nor a backlog of readings holds
back the other.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from edge.agent.throttle import throttled
from edge.mqtt.session import Published
from edge.store.outbox import Outbox

log = throttled(logging.getLogger(__name__))

PUMP_WINDOW = 100  # messages in flight to the broker at once
DATA_RESERVE = 10  # of which replies leave this many to readings and events
PARKED_RETRY_SECONDS = 300.0  # outbox rows the broker refused are offered again this often
STALL_SECONDS = 60.0  # in-flight messages unacknowledged this long are sent again


class OutboxPump:
    def __init__(self, outbox: Outbox, session: Any, counters: dict[str, int]) -> None:
        self.outbox, self.session, self.counters = outbox, session, counters
        self.inflight: dict[int, tuple[int, float]] = {}  # mid -> (outbox row id, sent at)
        self._sent_upto = {False: 0, True: 0}  # last row sent: readings and events, replies
        self._inflight_replies: set[int] = set()  # mids of replies among inflight
        self.parked: set[int] = set()  # outbox rows the broker refused (PUBACK with an error)
        self._next_parked_retry = 0.0
        self.done_rows: list[int] = []  # outbox rows the broker has, not yet deleted (storage trouble)

    def published(self, item: Published) -> None:
        """A PUBACK: the row is done (deleted by ``delete_done``), or parked when the broker refused it."""
        entry = self.inflight.pop(item.mid, None)
        self._inflight_replies.discard(item.mid)
        if entry is None:
            return
        if item.refused is None:
            self.done_rows.append(entry[0])
            return
        if not self.parked:
            log.error("broker refused an outbox message (%s); keeping it and retrying every %.0f s",
                      item.refused, PARKED_RETRY_SECONDS)
        self.parked.add(entry[0])
        self.counters["publish_refused"] += 1

    def delete_done(self, may_write: bool) -> None:
        """Delete the rows the broker has; kept for a later turn when the disk refuses (they are not
        sent again meanwhile)."""
        if not self.done_rows or not may_write:
            return
        rows, self.done_rows = self.done_rows, []
        try:
            self.outbox.ack(rows)
        except Exception as exc:
            self.done_rows = rows + self.done_rows
            log.error("could not delete %d delivered outbox rows (%s); trying again", len(rows), exc)

    def reconnected(self) -> None:
        # paho sends the unacknowledged ones again now: their clock for the stall check restarts
        self.inflight = {mid: (row, time.monotonic()) for mid, (row, _) in self.inflight.items()}
        self._next_parked_retry = time.monotonic() + 5.0

    def pump(self) -> None:
        """Send outbox rows while the broker is there and the window has room."""
        if not self.session.connected:
            return
        room = PUMP_WINDOW - len(self.inflight)
        if room <= 0:
            self._resend_if_stalled()
            return
        # Two streams share the window: a backlog of replies (a command flood) must not hold back
        # readings and health, nor a backlog of readings (after an outage) the answers to commands.
        data = self.outbox.pending(self._sent_upto[False], room, replies=False)
        # replies never fill the window: readings (health) always find room, whatever is queued ahead
        cap = min(room, PUMP_WINDOW - DATA_RESERVE - len(self._inflight_replies))
        answers = self.outbox.pending(self._sent_upto[True], cap, replies=True) if cap > 0 else []
        take = min(len(data), max(room // 2, room - len(answers)))  # half each; unused room to the other
        for row in data[:take] + answers[: room - take]:
            mid = self.session.publish(
                row.topic, row.payload, qos=row.qos, response_to=respond_to(row.topic, row.correlation)
            )
            if mid is None:
                return
            self.inflight[mid] = (row.id, time.monotonic())
            is_reply = row.kind == "reply"
            if is_reply:
                self._inflight_replies.add(mid)
            self._sent_upto[is_reply] = max(self._sent_upto[is_reply], row.id)

    def _resend_if_stalled(self) -> None:
        oldest = min(sent for _, sent in self.inflight.values())
        if time.monotonic() - oldest > STALL_SECONDS:
            log.warning("%d messages unacknowledged for %.0f s: sending them again", len(self.inflight),
                        STALL_SECONDS)
            self.inflight.clear()
            self._inflight_replies.clear()
            self._sent_upto = {False: 0, True: 0}

    def retry_parked(self) -> None:
        if not self.parked or not self.session.connected or time.monotonic() < self._next_parked_retry:
            return
        self._next_parked_retry = time.monotonic() + PARKED_RETRY_SECONDS
        rows = self.outbox.rows(sorted(self.parked))
        self.parked.clear()  # a row refused again is parked again
        for row in rows:
            mid = self.session.publish(
                row.topic, row.payload, qos=row.qos, response_to=respond_to(row.topic, row.correlation)
            )
            if mid is not None:
                self.inflight[mid] = (row.id, time.monotonic())


def respond_to(topic: str, correlation: bytes | None) -> tuple[str, bytes | None] | None:
    return (topic, correlation) if correlation is not None else None
