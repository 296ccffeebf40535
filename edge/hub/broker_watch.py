"""Is the hub's broker reachable? Every alert, state and command passes through it, so a broker that is
down (or hung: Mosquitto 2.0.11 can hang on a TLS uplink, docs/district.md) leaves the whole campus
silent while each agent keeps its readings and events in its outbox. The hub's notices do not need the
broker (they go out over HTTP and mail), so the hub says so: after ``grace_s`` without a connection
(a broker restart takes seconds, and the hub's own first connection too) one ``broker_offline`` entry,
and ``broker_online`` once it is back. Pure: the hub's loop feeds it times and connection changes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class BrokerWatch:
    grace_s: float
    down_since: float  # monotonic seconds: the hub started unconnected
    down_since_ms: int  # the same moment, wall clock (for people)
    connected: bool = False
    told: bool = False  # a broker_offline entry was made for this outage

    def up(self) -> int | None:
        """Connected. If people were told of this outage, when it began (ms): a broker_online is due."""
        self.connected = True
        if not self.told:
            return None
        self.told = False
        return self.down_since_ms

    def down(self, now: float, now_ms: int) -> None:
        if self.connected:
            self.connected = False
            self.down_since, self.down_since_ms = now, now_ms

    def due(self, now: float) -> bool:
        """Down for longer than the grace and nobody told yet: make the broker_offline entry now."""
        if self.connected or self.told or now - self.down_since < self.grace_s:
            return False
        self.told = True
        return True
