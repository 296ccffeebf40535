"""Issue #9 item 8: every awkward character in a name, through the bridge, into the real VictoriaMetrics
and the SQLite sink and back unchanged; what line protocol cannot carry unchanged is refused, counted and
logged, and the rest of its message is written. A number beyond float range drops only that value."""

import json
import sqlite3

import pytest

from tests.conftest import wait_for
from tests.edge.bridge.support import T0, influx_sink, info, vm_export

pytestmark = pytest.mark.adversarial

BASE = "campus/s1/n1"
# names each reader must take back exactly as sent
KEPT = ["plain", "sp ace", "c,m", "e=q", "a,b=c d", "中文°C", "back\\slash", "x\\y\\z", "tab-less_ok.1"]
# names no spelling in line protocol carries unchanged to every reader (edge/bridge/lineproto.py)
REFUSED = ["trail\\", "two\\\\back", "q\"x", "a\\,b", "a\\ b", "a\\=b", "new\nline", "", "_reserved", "time"]
TAGS_KEPT = ["a b,c=d", "中文", "mid\\dle"]
TAGS_REFUSED = ["end\\", "q\"t", "cr\rx", ""]


def _values() -> dict:
    values = {name: float(i + 1) for i, name in enumerate(KEPT)}
    for name in REFUSED:
        values[name] = 99.0
    return values


def _sqlite(path) -> dict[tuple[str, str], float]:
    with sqlite3.connect(path) as db:
        return {(device, field): value for device, field, value
                in db.execute("SELECT device, field, value FROM points")}


def _sqlite_tags(path, device: str) -> list[str]:
    with sqlite3.connect(path) as db:
        return [json.loads(t).get("reason") for (t,) in
                db.execute("SELECT DISTINCT tags FROM points WHERE device = ?", (device,))]


@pytest.mark.parametrize("sink", ["victoria", "sqlite"])
def test_awkward_names_round_trip_or_are_refused(sink, run_bridge, mqtt_probe, request, caplog):
    vm = request.getfixturevalue("victoria") if sink == "victoria" else None
    rb = run_bridge(influx_sink(vm) if vm else None, event_tags=["reason"])
    probe = mqtt_probe()
    probe.publish(f"{BASE}/info", info(("m1", "electricity_meter"), ("m2", "electricity_meter")), retain=True)
    probe.publish(f"{BASE}/m1/telemetry", {"ts": T0, "seq": 1, "values": _values()})
    # 10**400 is valid JSON but no float: only that value goes
    probe.publish(f"{BASE}/m2/telemetry", json.dumps({"ts": T0, "seq": 1, "values": {"huge": 10**400,
                                                                                      "ok": 2.5}}))
    for i, reason in enumerate(TAGS_KEPT + TAGS_REFUSED):
        probe.publish(f"{BASE}/t{i}/event", {"ts": T0, "seq": 1, "type": "leak", "reason": reason, "v": 1})
    n_events = len(TAGS_KEPT) + len(TAGS_REFUSED)
    wait_for(lambda: rb.counters.get("written", 0) >= 2 + n_events, 20, "every message written")
    assert rb.counters.get("bad_messages", 0) == 0 and rb.counters.get("errors", 0) == 0
    assert rb.counters["bad_values"] == len(REFUSED) + 1 + len(TAGS_REFUSED)
    assert "dropped" in caplog.text and "cannot be written unchanged" in caplog.text

    if vm:
        series = vm_export(vm, '{site="s1"}')
        got = {(s["metric"]["device"], s["metric"]["__name__"]): s["values"] for s in series}
        m1 = {name.removeprefix("electricity_meter_"): v for (d, name), v in got.items() if d == "m1"}
        assert m1 == {name: [float(i + 1)] for i, name in enumerate(KEPT)}
        assert got[("m2", "electricity_meter_ok")] == [2.5] and len([k for k in got if k[0] == "m2"]) == 1
        reasons = {s["metric"]["device"]: s["metric"].get("reason") for s in series
                   if s["metric"]["__name__"] == "event_v"}
    else:
        path = rb.cfg["sink"]["path"]
        rows = _sqlite(path)
        want = {n: float(i + 1) for i, n in enumerate(KEPT)}
        assert {f: v for (d, f), v in rows.items() if d == "m1"} == want
        assert {f: v for (d, f), v in rows.items() if d == "m2"} == {"ok": 2.5}
        reasons = {f"t{i}": _sqlite_tags(path, f"t{i}")[0] for i in range(n_events)}
    assert reasons == {f"t{i}": r for i, r in enumerate(TAGS_KEPT)} | \
        {f"t{len(TAGS_KEPT) + i}": None for i in range(len(TAGS_REFUSED))}
