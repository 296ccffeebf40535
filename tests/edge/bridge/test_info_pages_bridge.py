"""A large node's paged info (10,000 devices): the bridge knows the kind of a device on the last page."""

from edge.bridge import history
from edge.mqtt.payloads import info_pages
from tests.conftest import wait_for
from tests.edge.bridge.support import T0, telemetry

BASE = "campus/school-1/big-node"


def test_kinds_of_every_page_are_known(run_bridge, mqtt_probe):
    rb = run_bridge()
    probe = mqtt_probe()
    devices = [{"id": f"m{i:05d}", "kind": "electricity_meter", "driver": "modbus"} for i in range(9_999)]
    devices.append({"id": "w-last", "kind": "water_meter", "driver": "pulse"})
    pages = info_pages("1.0", 3, T0, devices)
    assert len(pages) > 2 and all(d["id"] != "w-last" for d in pages[0]["devices"])
    for p in pages[1:]:  # the pages first, as a broker may hand retained messages over
        probe.publish(f"{BASE}/info/{p['page']}", p, retain=True)
    probe.publish(f"{BASE}/info", pages[0], retain=True)
    wait_for(lambda: len(rb.bridge.kinds.get("school-1/big-node", {})) == 10_000, what="all 10,000 kinds")
    probe.publish(f"{BASE}/w-last/telemetry", telemetry(1, flow_lpm=3.5))

    def got():
        return history.query(rb.cfg["sink"]["path"], "school-1", "big-node", "w-last", T0 - 1, T0 + 10**6)

    wait_for(got, what="the last page's device written")
    assert got()[0].measurement == "water_meter", "kind from page n, not `unknown`"
