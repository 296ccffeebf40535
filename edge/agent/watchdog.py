"""The agent's watchdog hook: ``edge.watchdog`` plus the link state kept in the agent's database."""

from __future__ import annotations

import time
from typing import Any

from edge.sdnotify import Notifier
from edge.watchdog import Watchdog, agent_status


class AgentWatch:
    """The agent's hook: watchdog + status text + the link state kept in its database.

    The link state (connected since, last connect error) is written to the agent's key/value store
    only when it changes (connected, disconnected, a new cause; while failing at most once a minute, with
    the count of attempts), so ``campus-edge status -c`` can
    say why a node cannot reach its broker, even when the broker is the problem.
    """

    def __init__(self, agent: Any, notifier: Notifier | None = None) -> None:
        self.agent = agent
        beats = agent.resources.heartbeats
        beats.default_limit_s = (agent.cfg.get("watchdog") or {}).get("stall_seconds", beats.default_limit_s)
        self.watchdog = Watchdog(beats, notifier, loop_limit_s=beats.default_limit_s)
        self._link_key: tuple | None = None

    def ready(self) -> None:
        self.watchdog.ready(agent_status(self.agent))

    def tick(self) -> None:
        self.watchdog.tick(lambda: agent_status(self.agent))
        self._record_link()  # after the ping: a storage error here never holds the watchdog back

    def _record_link(self) -> None:
        s = self.agent.session
        snap = s.failures.snapshot()
        failing = bool(snap and snap["in_row"] > 0)
        # while failing, the count of attempts is refreshed at most once a minute (a few bytes, not a flood)
        minute = int(time.monotonic() // 60) if failing else None
        key = (s.connected, s.connected_since_ms, snap["cause"] if snap else None, failing, minute)
        if key == self._link_key:
            return
        m = self.agent.cfg["mqtt"]
        # A full disk must not stop the pings: the link record is a convenience for `status`, tried
        # again at the next change (the key is only kept once the write succeeded).
        try:
            self.agent.db.put("agent", "link", {
                "broker": f"{m['host']}:{m['port']}", "connected": s.connected,
                "connected_since": s.connected_since_ms, "last_error": snap,
                "updated": int(time.time() * 1000),
            })
        except Exception:
            return
        self._link_key = key

    def stopping(self) -> None:
        self.watchdog.stopping()
