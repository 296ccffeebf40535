from edge.mqtt.topics import Inbound, Topics, parse_data_topic, parse_inbound

T = Topics("campus", "mh-primary", "classroom-301")


def test_topic_names_follow_the_contract() -> None:
    assert T.status == "campus/mh-primary/classroom-301/status"
    assert T.device("ac-301", "set") == "campus/mh-primary/classroom-301/ac-301/set"
    assert T.group_set("after-hours") == "campus/mh-primary/group/after-hours/set"
    assert T.subscriptions() == [
        "campus/mh-primary/classroom-301/+/set",
        "campus/mh-primary/group/+/set",
        "campus/mh-primary/classroom-301/cmd",
    ]


def test_inbound_topics_are_parsed_and_odd_ids_refused() -> None:
    assert parse_inbound(T, "campus/mh-primary/classroom-301/ac-301/set") == Inbound("device", "ac-301")
    assert parse_inbound(T, "campus/mh-primary/group/lights/set") == Inbound("group", "lights")
    assert parse_inbound(T, "campus/mh-primary/classroom-301/cmd") == Inbound("node", "classroom-301")
    assert parse_inbound(T, "campus/mh-primary/classroom-301/AC 301/set") is None
    assert parse_inbound(T, "campus/mh-primary/classroom-301/a/b/set") is None


def test_data_topics() -> None:
    d = parse_data_topic("campus/s/n/meter-1/telemetry")
    assert (d.site, d.node, d.device, d.leaf) == ("s", "n", "meter-1", "telemetry")
    assert parse_data_topic("campus/s/n/Bad!/telemetry") is None
