"""Which live bridge takes over a dead peer's session (edge/bridge/peers.py): pure vectors."""

from edge.bridge.peers import OFFLINE, ONLINE, parse_status, should_adopt, status_payload, status_topic


def test_the_first_live_bridge_in_sorted_order_takes_over_and_nobody_else():
    states = {"b-1": OFFLINE, "b-2": ONLINE, "b-3": ONLINE}
    assert should_adopt("b-1", states, "b-2") and not should_adopt("b-1", states, "b-3")
    assert not should_adopt("b-2", states, "b-3")  # a live peer is never taken over
    assert not should_adopt("b-1", {"b-1": None}, "b-2")  # already taken over (state cleared)
    assert should_adopt("b-1", {"b-1": OFFLINE}, "b-9")  # the only live one: me, even unseen in states
    assert not should_adopt("b-2", {"b-2": OFFLINE}, "b-2")  # never myself


def test_peer_states_round_trip_and_foreign_topics_are_ignored():
    topic = status_topic("district", "ce-bridge-a")
    assert parse_status(topic, status_payload(ONLINE, 1), "district") == ("ce-bridge-a", ONLINE)
    assert parse_status(topic, status_payload(OFFLINE, 0), "district") == ("ce-bridge-a", OFFLINE)
    assert parse_status(topic, b"", "district") == ("ce-bridge-a", None)
    assert parse_status(topic, b"not json", "district") is None
    assert parse_status(topic, b'{"state": "dancing"}', "district") is None
    assert parse_status(topic, b"[1]", "district") is None
    assert parse_status(status_topic("other", "x"), status_payload(ONLINE, 1), "district") is None
    assert parse_status("campus-edge/bridges/district/a/b", status_payload(ONLINE, 1), "district") is None
    assert parse_status("campus-edge/bridges/district/", status_payload(ONLINE, 1), "district") is None
