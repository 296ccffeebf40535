"""Line protocol byte vectors (escaping per the InfluxDB line protocol reference), the buffer's JSON form."""

import pytest

from edge.bridge.lineproto import LineProtocolError, Point, encode, encode_batch, from_json, to_json


def pt(measurement="electricity_meter", tags=(("site", "s1"),), fields=(("power_w", 1.5),), ts=1700000000123):
    return Point(measurement, tags, fields, ts)


@pytest.mark.parametrize("point, line", [
    (pt(), "electricity_meter,site=s1 power_w=1.5 1700000000123"),
    # tags sorted by key; ints with i, floats shortest round trip, booleans
    (pt(tags=(("site", "s"), ("device", "m1"), ("node", "n")),
        fields=(("a", 2), ("b", 2.0), ("c", True), ("d", False), ("e", 1e20), ("f", -0.1))),
     "electricity_meter,device=m1,node=n,site=s a=2i,b=2.0,c=true,d=false,e=1e+20,f=-0.1 1700000000123"),
    # measurement: comma and space escaped, '=' is not
    (pt(measurement="my meas,x=y"), r"my\ meas\,x=y,site=s1 power_w=1.5 1700000000123"),
    # tag keys/values and field keys: comma, equals, space
    (pt(tags=(("ty pe", "a,b=c d"),), fields=(("temp c,x=1", 3.0),)),
     r"electricity_meter,ty\ pe=a\,b\=c\ d temp\ c\,x\=1=3.0 1700000000123"),
    # a backslash before an ordinary character is literal (both readers keep it); unicode passes through
    (pt(tags=(("site", "a\\b"),), fields=(("t°C", 1.0), ("back\\slash", 2.0))),
     "electricity_meter,site=a\\b t°C=1.0,back\\slash=2.0 1700000000123"),
    # string field values: quotes and backslashes escaped
    (pt(fields=(("note", 'say "hi" \\o/'),)),
     'electricity_meter,site=s1 note="say \\"hi\\" \\\\o/" 1700000000123'),
])
def test_encode_vectors(point, line):
    assert encode(point) == line


@pytest.mark.parametrize("point", [
    pt(fields=()),                                  # no field
    pt(fields=(("x", float("nan")),)),
    pt(fields=(("x", float("inf")),)),
    pt(fields=(("a\nb", 1.0),)),                    # a newline cannot be escaped
    pt(fields=(("_field", 1.0),)),                  # reserved by InfluxDB 2
    pt(fields=(("time", 1.0),)),
    pt(tags=(("site", ""),)),                       # empty tag value
    pt(measurement=""),
    pt(fields=(("x", None),)),
    pt(ts=1.5),
    # names no reader takes back unchanged: a trailing backslash, one before a special character or
    # another backslash, a quote (VictoriaMetrics loses the field and all after it)
    pt(fields=(("trail\\", 1.0),)),
    pt(fields=(("a\\\\b", 1.0),)),
    pt(fields=(("a\\,b", 1.0),)),
    pt(fields=(("a\\ b", 1.0),)),
    pt(fields=(("a\\=b", 1.0),)),
    pt(fields=(('q"x', 1.0),)),
    pt(tags=(("site", "end\\"),)),
    pt(tags=(("site", 'q"x'),)),
    pt(tags=(("a\\", "x"),)),
    pt(measurement='m"x'),
    pt(fields=(("x", 2**63),)),                     # beyond InfluxDB's 64-bit integers
])
def test_encode_refuses(point):
    with pytest.raises(LineProtocolError):
        encode(point)


def test_batch_is_newline_separated_utf8():
    assert encode_batch([pt(ts=1), pt(ts=2)]) == b"electricity_meter,site=s1 power_w=1.5 1\n" \
                                                 b"electricity_meter,site=s1 power_w=1.5 2"


def test_json_round_trip_keeps_types():
    points = [pt(fields=(("i", 3), ("f", 3.0), ("b", True), ("s", "x"))), pt(tags=(), ts=5)]
    back = from_json(to_json(points))
    assert back == points
    assert [type(v) for _, v in back[0].fields] == [int, float, bool, str]
