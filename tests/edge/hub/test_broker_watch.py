"""The hub telling people its broker is unreachable (edge/hub/broker_watch.py): the pure rule here, the hub
with a real Mosquitto stopped and started in tests/edge/hub/test_dispatch.py."""

from __future__ import annotations

from edge.hub.broker_watch import BrokerWatch

T0_MS = 1_764_547_200_000


def test_a_broker_down_past_the_grace_is_told_once_then_its_return():
    w = BrokerWatch(grace_s=120, down_since=0.0, down_since_ms=T0_MS)
    assert w.up() is None  # the first connection is not news
    w.down(1000.0, T0_MS + 1_000_000)
    assert not w.due(1119.0)
    assert w.due(1120.0) and not w.due(1500.0)  # once per outage
    w.down(1600.0, T0_MS + 1_600_000)  # a failed reconnect changes nothing: it is the same outage
    assert w.down_since == 1000.0
    assert w.up() == T0_MS + 1_000_000  # broker_online: since then
    assert w.up() is None


def test_a_restart_within_the_grace_is_not_news():
    w = BrokerWatch(grace_s=120, down_since=0.0, down_since_ms=T0_MS)
    w.up()
    w.down(1000.0, T0_MS)
    assert not w.due(1030.0)
    assert w.up() is None
    assert not w.due(5000.0)


def test_a_hub_that_never_reaches_its_broker_says_so():
    w = BrokerWatch(grace_s=120, down_since=0.0, down_since_ms=T0_MS)
    assert not w.due(119.0)
    assert w.due(121.0)
    assert w.up() == T0_MS
