"""MQTT contract payloads to points: pure, no broker."""

import json

import pytest

from edge.bridge import decode
from edge.bridge.decode import BadMessage
from edge.bridge.lineproto import encode
from edge.mqtt.topics import parse_data_topic

TOPIC = parse_data_topic("campus/school-1/node-1/m1/telemetry")
TS = 1_764_000_000_123
MAX = 65536


def j(obj) -> bytes:
    return json.dumps(obj).encode()


def test_telemetry_point_uses_kind_tags_and_float_fields():
    tel = decode.parse_telemetry(j({"ts": TS, "seq": 7, "values": {"energy_kwh": 12, "power_w": 1.5}}), MAX)
    point = decode.telemetry_point(TOPIC, tel, "electricity_meter")
    assert encode(point) == ("electricity_meter,device=m1,node=node-1,site=school-1 "
                             f"energy_kwh=12.0,power_w=1.5 {TS}")


def test_telemetry_bad_values_are_dropped_and_counted():
    payload = (b'{"ts": %d, "values": {"ok": 1, "nan": NaN, "s": "12", "b": true, "_r": 1, "inf": Infinity}}'
               % TS)
    tel = decode.parse_telemetry(payload, MAX)
    assert tel.values == (("ok", 1.0),) and tel.bad_values == 5


@pytest.mark.parametrize("payload", [
    b"not json", b"\xff\xfe", b"[1, 2]", b"{}", j({"ts": TS}), j({"ts": TS, "values": [1]}),
    j({"ts": "yesterday", "values": {"a": 1}}), j({"ts": 12, "values": {"a": 1}}),  # seconds, not ms
    j({"ts": TS, "values": {"a": "x"}}), b'{"ts": %d, "values": {"a": NaN}}' % TS,
    j({"ts": TS, "values": {}}), j({"ts": True, "values": {"a": 1}}),
    b'{"ts": %d, "values": {"a": 1}, "pad": "%s"}' % (TS, b"x" * 70000),
])
def test_telemetry_refused(payload):
    with pytest.raises(BadMessage):
        decode.parse_telemetry(payload, MAX)


def test_event_keeps_numbers_and_seq_drops_text():
    d = decode.decode_event(TOPIC, j({"ts": TS, "seq": 3, "type": "fever", "temp_c": 38.4, "gate": "north",
                                      "masked": False, "note": None}), MAX)
    assert encode(d.point) == (f"event,device=m1,node=node-1,site=school-1,type=fever "
                               f"seq=3i,temp_c=38.4,masked=0.0 {TS}")


def test_event_text_fields_named_as_tags_become_tags():
    obj = {"ts": TS, "seq": 1, "type": "leak", "reason": "night_flow", "min_night_flow_lpm": 2.5, "note": "x"}
    d = decode.decode_event(TOPIC, j(obj), MAX, tag_fields=("reason", "device"))
    assert encode(d.point) == (f"event,device=m1,node=node-1,reason=night_flow,site=school-1,type=leak "
                               f"seq=1i,min_night_flow_lpm=2.5 {TS}")


def test_event_without_numbers_still_has_a_field_and_odd_type_is_escaped():
    d = decode.decode_event(TOPIC, j({"ts": TS, "type": "door open, north"}), MAX)
    assert encode(d.point).endswith(r"type=door\ open\,\ north count=1.0 " + str(TS))


@pytest.mark.parametrize("obj", [{"ts": TS}, {"ts": TS, "type": ""}, {"ts": TS, "type": 5},
                                 {"ts": TS, "type": "a\nb"}, {"type": "x"},
                                 {"ts": TS, "type": "x", "seq": -1}])
def test_event_refused(obj):
    with pytest.raises(BadMessage):
        decode.decode_event(TOPIC, j(obj), MAX)


def test_relay_state():
    d = decode.decode_state(TOPIC, j({"on": True, "ts": TS, "cause": "command"}), MAX)
    assert encode(d.point) == f"state,cause=command,device=m1,node=node-1,site=school-1 on=1.0 {TS}"
    with pytest.raises(BadMessage):
        decode.decode_state(TOPIC, j({"on": "yes", "ts": TS}), MAX)
    with pytest.raises(BadMessage):
        decode.decode_state(TOPIC, j({"on": True}), MAX)


def test_other_devices_states_are_not_relay_states():
    meter = {"ts": TS, "online": True, "values": {"energy_kwh": 12.5}}
    assert decode.decode_state(TOPIC, j(meter), MAX) is None
    assert decode.decode_state(TOPIC, j({"online": False, "error": "timeout"}), MAX) is None
    assert decode.decode_state(TOPIC, b"", MAX) is None
    with pytest.raises(BadMessage):
        decode.decode_state(TOPIC, b"garbage", MAX)


def test_info_kinds():
    kinds = decode.parse_info(j({"devices": [{"id": "m1", "kind": "electricity_meter"}, {"id": "Bad Id"},
                                             {"id": "r1", "kind": "Weird Kind"}, "junk"]}), MAX)
    assert kinds == {"m1": "electricity_meter", "r1": "unknown"}
    assert decode.parse_info_topic("campus/s/n/info") == ("s", "n")
    assert decode.parse_info_topic("campus/S S/n/info") is None


def test_a_number_beyond_float_range_drops_only_itself():
    tel = decode.parse_telemetry(j({"ts": TS, "values": {"huge": 10**400, "trail\\": 1, "ok": 2.5}}), MAX)
    assert tel.values == (("ok", 2.5),) and tel.bad_values == 2 and tel.refused == ("huge", "trail\\")
    event = {"ts": TS, "type": "leak", "huge": -(10**400), "v": 1, "reason": "x\\"}
    ev = decode.decode_event(TOPIC, j(event), MAX, ("reason",))
    assert dict(ev.point.fields) == {"v": 1.0} and ev.refused == ("huge", "reason")
    assert "reason" not in dict(ev.point.tags)


@pytest.mark.parametrize("event", [{"type": "q\"x"}, {"type": "end\\"}, {"type": "leak", "seq": 2**63}])
def test_events_that_cannot_be_written_unchanged_are_bad_messages(event):
    with pytest.raises(BadMessage):
        decode.decode_event(TOPIC, j({"ts": TS, **event}), MAX)
