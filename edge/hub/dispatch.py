"""Sending the planned notices: one thread, one client per channel, durable rows, retries forever.

Every notice is a row in the journal's ``deliveries`` table, planned with its alert (edge/hub/rules.py)
in the alert's own transaction. This thread takes the rows that are due, per channel:

- an escalation whose alert is no longer ``new`` (someone acknowledged it) is cancelled, not sent;
- as many as the channel's rate limit allows go one by one; when more are due than its window has
  room for, the surplus goes as summary notices (one request each, naming up to 30 alerts, so every
  alert is named in a message; each alert marked delivered by its summary): none is dropped, the
  limit is kept;
- a row is marked sent only after the service confirmed it. A failure (service down, an error code,
  rate-limited) puts the channel's due rows back with a back-off (doubling, jittered, capped at
  ``delivery.max_retry_seconds``), forever; a permanent refusal (bad key, message refused for good)
  marks the rows ``failed``, logged as an error and kept visible;
- the hub killed between a send and its mark: the row is still pending and is sent again at the next
  start (at most once per alert, channel and stage unless the service never confirmed it).

A channel that keeps failing is logged as an error naming it, what it said and how many notices wait,
at most every ``ALARM_SECONDS``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from datetime import tzinfo
from typing import Any

from edge.hub.journal import Journal
from edge.hub.model import NEW, Alert
from edge.hub.rules import ESCALATE, pack

log = logging.getLogger(__name__)
ALARM_SECONDS = 300.0
IDLE_SECONDS = 1.0  # longest sleep: rows planned by the CLI's journal (no wake) are seen this fast


class ChannelState:
    def __init__(self, cid: str, channel: Any) -> None:
        self.id = cid
        self.channel = channel
        self.limit: tuple[int, float] | None = getattr(channel, "rate_limit", None)
        self.sent_at: deque[float] = deque()  # our own request times, for channels that keep none
        self.failures = 0  # in a row
        self.failing_since = 0.0
        self.last_error = ""
        self.last_alarm = 0.0
        self.counters: Counter[str] = Counter()

    def room(self) -> tuple[int, float] | None:
        """(requests the rate window still takes, seconds until it takes one more), or None: no limit.

        HTTP channels keep their own window (they know a snapshot is a second message); for others
        the requests this thread made are counted here."""
        own = getattr(self.channel, "room", None)
        if callable(own):
            return own()
        if self.limit is None:
            return None
        count, window = self.limit
        now = time.monotonic()
        while self.sent_at and self.sent_at[0] <= now - window:
            self.sent_at.popleft()
        wait = self.sent_at[0] + window - now if self.sent_at else 0.0
        return max(count - len(self.sent_at), 0), max(wait, 0.0)

    def cost(self, notice: Any) -> int:
        own = getattr(self.channel, "cost", None)
        return int(own(notice)) if callable(own) else 1

    def note_request(self, n: int = 1) -> None:
        if self.limit is not None and not callable(getattr(self.channel, "room", None)):
            now = time.monotonic()
            self.sent_at.extend([now] * n)


def _summary_lines() -> int:
    """Alerts one summary lists by name (the texts keep a summary within the robots' size limits)."""
    try:
        from edge.hub.notify.texts import SUMMARY_LINES
    except ImportError:
        return 30
    return int(SUMMARY_LINES)


def _notify_api() -> tuple[Callable, Callable, Callable, Callable]:
    from edge.hub.notify import make_channel, render, render_escalation, render_summary

    return make_channel, render, render_summary, render_escalation


class Dispatcher:
    def __init__(self, journal: Journal, channels: list[dict[str, Any]], language: str, tz: tzinfo | None,
                 delivery: dict[str, Any], *, make_channel: Callable | None = None,
                 render: Callable | None = None, render_summary: Callable | None = None,
                 render_escalation: Callable | None = None) -> None:
        self.journal = journal
        self.channel_cfgs = {c["id"]: c for c in channels}
        self.language = language
        self.tz = tz
        self.delivery = delivery
        # filled in by the delivery thread when not given (the channel modules load there)
        self._make: Any = make_channel
        self._render: Any = render
        self._summary: Any = render_summary
        self._escalation: Any = render_escalation
        self.per_summary = _summary_lines()
        self.channels: dict[str, ChannelState] = {}
        self.counters: Counter[str] = Counter()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        if self.channel_cfgs and None in (self._make, self._render, self._summary, self._escalation):
            make, render, summary, escalation = _notify_api()
            self._make, self._render = self._make or make, self._render or render
            self._summary, self._escalation = self._summary or summary, self._escalation or escalation
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="hub-dispatch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None

    def wake(self) -> None:
        """New rows were planned: look now."""
        self._wake.set()

    def status(self) -> dict[str, dict[str, Any]]:
        return {cid: {"failures": st.failures, "last_error": st.last_error, **st.counters}
                for cid, st in self.channels.items()}

    # -- the thread ---------------------------------------------------------------------------------
    def _run(self) -> None:
        for cid, cfg in self.channel_cfgs.items():  # the clients are created and owned here
            try:
                self.channels[cid] = ChannelState(cid, self._make(cfg))
            except Exception:
                log.exception("channel %s cannot be set up; its notices wait", cid)
        pending = self.journal.delivery_counts().get("pending", 0)
        if pending:
            log.info("resuming %d pending notice(s)", pending)
        while not self._stop.is_set():
            self._wake.clear()  # before the round: a wake during it makes the wait below return at once
            try:
                wait = self._round()
            except Exception:  # e.g. the disk is full: nothing was marked; try again shortly
                self.counters["errors"] += 1
                log.exception("dispatch round failed; retrying")
                wait = 2.0
            self._wake.wait(wait)
        for st in self.channels.values():
            close = getattr(st.channel, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.exception("closing channel %s failed", st.id)

    def _round(self) -> float:
        """Send what is due; returns how long to sleep."""
        now_ms = int(time.time() * 1000)
        rows = self.journal.due_deliveries(now_ms)
        by_channel: dict[str, list[tuple[int, int, str, int]]] = {}
        for did, aid, cid, stage, attempts in rows:
            by_channel.setdefault(cid, []).append((did, aid, stage, attempts))
        wait = IDLE_SECONDS
        for cid, items in by_channel.items():
            if self._stop.is_set():
                break
            st = self.channels.get(cid)
            if st is None:
                if cid not in self.channel_cfgs:
                    self.journal.mark_failed([i[0] for i in items], f"channel {cid!r} is not configured")
                    self.counters["failed"] += len(items)
                    log.error("%d notice(s) for channel %s marked failed: the channel is no longer in the "
                              "config", len(items), cid)
                continue  # configured but could not be set up: logged at start; they wait
            wait = min(wait, self._channel(st, items))
        nxt = self.journal.next_due_ms(after_ms=now_ms)  # rows due now were handled (or wait for room)
        if nxt is not None:
            wait = min(wait, max(0.0, (nxt - int(time.time() * 1000)) / 1000))
        return max(wait, 0.01)

    def _channel(self, st: ChannelState, items: list[tuple[int, int, str, int]]) -> float:
        todo: list[tuple[int, Alert, str]] = []
        cancelled = []
        for did, aid, stage, _ in items:
            alert = self.journal.get(aid)
            if alert is None or (stage == ESCALATE and alert.state != NEW):
                cancelled.append(did)
            else:
                todo.append((did, alert, stage))
        if cancelled:
            self.journal.mark_cancelled(cancelled, "acknowledged before the escalation was due")
            self.counters["cancelled"] += len(cancelled)
            st.counters["cancelled"] += len(cancelled)
        if not todo:
            return IDLE_SECONDS
        room = st.room()
        if room is not None and room[0] <= 0:
            return max(0.05, room[1])  # the window is full: come back when it has room
        notices = [self._notice(alert, stage) for _, alert, stage in todo]
        singles, summaries = pack([st.cost(n) for n in notices], None if room is None else room[0],
                                  self.per_summary)
        for (did, alert, _), notice in zip(todo[:singles], notices[:singles], strict=True):
            if not self._send(st, [did], notice, False, [alert]):
                return IDLE_SECONDS
        rest = todo[singles:]
        for k in range(summaries):
            chunk = rest[k * self.per_summary:(k + 1) * self.per_summary]
            notice = self._summary([a for _, a, _ in chunk], self.language, self.tz)
            if not self._send(st, [d for d, _, _ in chunk], notice, True, [a for _, a, _ in chunk]):
                return IDLE_SECONDS
        if singles + summaries * self.per_summary < len(todo):  # the rest waits for the window
            room = st.room()
            return max(0.05, room[1] if room else 0.05)
        return IDLE_SECONDS

    def _notice(self, alert: Alert, stage: str) -> Any:
        if stage == ESCALATE:
            minutes = max(0, round((time.time() * 1000 - (alert.received_ms or alert.ts_ms)) / 60_000))
            return self._escalation(alert, minutes, self.language, self.tz)
        return self._render(alert, self.language, self.tz)

    def _send(self, st: ChannelState, ids: list[int], notice: Any, summary: bool,
              alerts: list[Alert]) -> bool:
        st.note_request(st.cost(notice))
        try:
            result = st.channel.send(notice)
            ok, permanent = bool(result.ok), bool(getattr(result, "permanent", False))
            retry_after = getattr(result, "retry_after", None)
            detail = str(getattr(result, "detail", "") or "")
        except Exception as exc:  # a channel bug or an unexpected network error: retry, say so
            log.exception("channel %s raised while sending", st.id)
            ok, permanent, retry_after, detail = False, False, None, f"{type(exc).__name__}: {exc}"
        now_ms = int(time.time() * 1000)
        if ok:
            self.journal.mark_sent(ids, now_ms, summary, detail)
            key = "summarised" if summary else "sent"
            self.counters[key] += len(ids)
            st.counters[key] += len(ids)
            if summary:
                self.counters["summaries"] += 1
                log.info("channel %s: %d alert(s) sent as one summary (rate limit %s/%ss)", st.id, len(ids),
                         *(st.limit or ("-", "-")))
            if st.failures:
                log.warning("channel %s works again after %d failed attempt(s)", st.id, st.failures)
            st.failures = 0
            return True
        if permanent:
            self.journal.mark_failed(ids, detail)
            self.counters["failed"] += len(ids)
            st.counters["failed"] += len(ids)
            log.error("channel %s REFUSED alert(s) %s for good: %s -- they are marked failed; fix the "
                      "channel (URL, key, recipients) and resend from the console", st.id,
                      ", ".join(str(a.id) for a in alerts), detail[:300])
            return True  # the channel answered; the next notices may pass
        st.failures += 1
        if st.failures == 1:
            st.failing_since = time.time()
        st.last_error = detail[:300]
        d = self.delivery
        backoff = min(d["max_retry_seconds"], d["min_retry_seconds"] * 2 ** (st.failures - 1))
        backoff *= random.uniform(0.75, 1.0)  # jitter: many hubs do not hammer a recovering service together
        if retry_after:
            backoff = max(backoff, float(retry_after))
        # every due row of this channel waits for the same retry; the others are untouched
        due = [r[0] for r in self.journal.due_deliveries(now_ms) if r[2] == st.id]
        retry_ids = sorted(set(ids) | set(due))
        self.journal.mark_retry(retry_ids, now_ms + int(backoff * 1000), detail)
        self.counters["retried"] += len(ids)
        st.counters["retried"] += len(ids)
        self._alarm(st, len(retry_ids), backoff)
        return False

    def _alarm(self, st: ChannelState, waiting: int, backoff: float) -> None:
        now = time.monotonic()
        if st.failures < self.delivery["warn_after_failures"]:
            log.warning("channel %s failed (%s); %d notice(s) retried in %.0f s", st.id, st.last_error,
                        waiting, backoff)
            return
        if now - st.last_alarm < ALARM_SECONDS and st.last_alarm:
            return
        st.last_alarm = now
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(st.failing_since))
        log.error("channel %s has failed %d times in a row since %s (last: %s); %d notice(s) waiting, "
                  "retried every %.0f s at most -- check the service, its URL/key and the network", st.id,
                  st.failures, since, st.last_error, waiting, self.delivery["max_retry_seconds"])
