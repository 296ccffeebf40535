"""systemd watchdog and status for a main loop (agent or bridge): alive only while every thread is.

The main loop calls ``tick()`` every turn. It beats the loop's own heartbeat and, every half
``WatchdogSec``, sends ``WATCHDOG=1`` only if no registered heartbeat (main loop, serial buses,
cameras, pulse meters: ``edge.heartbeat``) is overdue. A poller stuck in a blocking call therefore
stops the pings and systemd restarts the service (``Restart=always``); the stuck thread is logged
first (rate-limited), whether or not systemd watches. ``STATUS=`` carries a one-line summary
(connection, outbox depth, last connect error) that ``systemctl status`` shows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from edge.heartbeat import Heartbeats, Stuck
from edge.mqtt.connect_errors import describe_snapshot
from edge.sdnotify import Notifier

log = logging.getLogger(__name__)

STUCK_LOG_EVERY_S = 60.0
STATUS_EVERY_S = 5.0  # STATUS= is sent when it changes, at most this often


class Watchdog:
    def __init__(self, heartbeats: Heartbeats, notifier: Notifier | None = None,
                 clock: Callable[[], float] = time.monotonic, loop_limit_s: float = 60.0) -> None:
        self.heartbeats = heartbeats
        self.notifier = notifier or Notifier()
        self._clock = clock
        self._loop = heartbeats.register("main loop", loop_limit_s)
        wd = self.notifier.watchdog_seconds
        self.ping_every = wd / 2 if wd else None
        self._next_ping = 0.0
        self._next_status = 0.0
        self._last_status: str | None = None
        self._stuck_logged = -STUCK_LOG_EVERY_S
        self.pings = 0
        self.stuck: list[Stuck] = []

    def ready(self, status: str) -> None:
        self._loop.beat()
        self.notifier.ready(status)
        self._last_status = status
        if self.notifier.enabled:
            log.info("told systemd we are ready%s", f" (watchdog every {self.ping_every:g} s)"
                     if self.ping_every else "")

    def tick(self, status: Callable[[], str]) -> None:
        self._loop.beat()
        now = self._clock()
        if now >= self._next_status:
            self._next_status = now + STATUS_EVERY_S
            self.stuck = self.heartbeats.stuck()
            text = status()
            if self.stuck:
                text = "STUCK: " + "; ".join(map(str, self.stuck)) + " | " + text
                if now - self._stuck_logged >= STUCK_LOG_EVERY_S:
                    self._stuck_logged = now
                    log.error("thread(s) stopped making progress: %s; %s", "; ".join(map(str, self.stuck)),
                              "no watchdog pings: systemd will restart us" if self.ping_every
                              else "not under a systemd watchdog: restart the service")
            if text != self._last_status:
                self._last_status = text
                self.notifier.status(text)
        if self.ping_every is not None and now >= self._next_ping:
            self.stuck = self.heartbeats.stuck()
            if not self.stuck:
                self._next_ping = now + self.ping_every
                if self.notifier.watchdog():
                    self.pings += 1
            else:
                self._next_status = now  # say why at once

    def stopping(self) -> None:
        self._loop.close()
        self.notifier.stopping()


def agent_status(agent: Any) -> str:
    """The agent's one-line status: connection, outbox, last connect error."""
    s = agent.session
    m = agent.cfg["mqtt"]
    broker = f"{m['host']}:{m['port']}"
    if s.connected:
        link = f"connected to {broker}"
    else:
        err = describe_snapshot(s.failures.snapshot())
        link = f"not connected to {broker}" + (f" ({err})" if err else "")
    return f"{link}; outbox {len(agent.outbox)} waiting"


def bridge_status(bridge: Any) -> str:
    s = bridge.session
    m = bridge.cfg["mqtt"]
    broker = f"{m['host']}:{m['port']}"
    link = f"connected to {broker}" if s.connected else (
        f"not connected to {broker}" + (f" ({e})" if (e := describe_snapshot(s.failures.snapshot())) else ""))
    sink = "sink up" if bridge.sink_up else "sink DOWN"
    return f"{link}; {sink}; disk buffer {len(bridge.buffer)} point(s)"
