"""The alert lifecycle and the journal through the console's HTTP interface, as a form post sends it."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlparse

from tests.conftest import wait_for
from tests.edge.hub.web.support import GateCamera


def test_close_checks_the_reading_and_outcome_then_the_csv_has_it(run_console, mqtt_probe):
    rc = run_console()
    gate = GateCamera(mqtt_probe())
    gate.fever(38.6)
    alert = wait_for(lambda: (rc.hub.journal.alerts(types=["fever"]) or [None])[0], 10, "the alert")
    c, token = rc.login("duty")

    r = c.post(f"/alerts/{alert.id}/close", data={"csrf": token, "outcome": "sent_home", "reading_c": "50",
                                                 "next": "/gate"})
    assert r.status_code == 303
    assert parse_qs(urlparse(r.headers["location"]).query)["msg"] == ["复测体温应在 30 至 45 °C 之间"]
    r = c.post(f"/alerts/{alert.id}/close", data={"csrf": token, "outcome": "valve_closed", "next": "/gate"})
    assert "msg" in r.headers["location"]  # a leak's outcome does not fit a fever
    assert rc.hub.journal.get(alert.id).state == "new"

    as_json = {"accept": "application/json"}
    r = c.post(f"/alerts/{alert.id}/acknowledge", data={"csrf": token}, headers=as_json)
    assert r.json() == {"ok": True, "error": None}
    r = c.post(f"/alerts/{alert.id}/acknowledge", data={"csrf": token}, headers=as_json)
    assert r.status_code == 409 and r.json()["error"] == "该预警已被处理"
    r = c.post(f"/alerts/{alert.id}/close", data={"csrf": token, "outcome": "parents_called",
                                                 "reading_c": "37,9", "note": "母亲已接回"})
    assert r.status_code == 303 and rc.hub.journal.get(alert.id).state == "closed"

    body = c.get("/alerts.csv?type=fever").content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert rows[0][:9] == ["编号", "时间", "类型", "位置", "数值", "状态", "处理结果", "复测体温", "操作人"]
    assert rows[1][2:9] == ["发热预警", "东门", "38.6 °C", "已关闭", "已通知家长", "37.9", "duty"]
    en = list(csv.reader(io.StringIO(c.get("/alerts.csv?lang=en").content.decode("utf-8")[1:])))
    assert en[1][2] == "Fever" and en[1][6] == "Parents called"

    assert c.get("/alerts?type=leak").text.count("data-alert-id") == 0
    assert c.get("/alerts?place=test-site/gate-east/cam-east").text.count("data-alert-id") == 1
    assert c.get("/alerts?from=2000-01-01&to=2000-01-02").text.count("data-alert-id") == 0
    png = c.get(f"/alerts/{alert.id}/snapshot.png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_a_switch_to_a_stopped_agent_reports_the_timeout_and_audits_it(run_console, run_agent):
    rc = run_console(web={"command_timeout_seconds": 1})
    agent = run_agent([{"id": "ac-301", "kind": "relay", "driver": "gpio", "pin": 17, "name": "301 空调"}],
                      node="classroom-301")
    wait_for(lambda: any(d.get("state") for n in rc.hub.nodes() for d in n["devices"]), 10,
             "the relay's state")
    c, token = rc.login("logistics")
    body = {"site": "test-site", "node": "classroom-301", "device": "ac-301", "action": "on"}
    r = c.post("/api/switch", json=body, headers={"x-csrf-token": token})
    assert r.json()["result"] == "ok" and r.json()["message"] == "设备已执行"
    agent.stop()
    r = c.post("/api/switch", json=body, headers={"x-csrf-token": token})
    assert r.status_code == 200
    reply = r.json()
    assert (reply["ok"], reply["result"], reply["message"]) == (False, "timeout", "设备未回复（超时）")
    results = [(e.user, e.target, e.result) for e in rc.console.audit.entries(("switch",))]
    assert results == [("logistics", "test-site/classroom-301/ac-301", "timeout"),
                       ("logistics", "test-site/classroom-301/ac-301", "ok")]
    page = c.get("/appliances").text
    assert "设备未回复（超时）" in page and "设备已执行" in page


def test_a_group_switch_counts_a_silent_member_as_not_done(run_console, run_agent):
    rc = run_console(web={"command_timeout_seconds": 2})
    run_agent([{"id": "ac-301", "kind": "relay", "driver": "gpio", "pin": 17, "groups": ["evening"]}],
              node="classroom-301")
    relay = {"id": "ac-302", "kind": "relay", "driver": "gpio", "pin": 18, "groups": ["evening"]}
    silent = run_agent([relay], node="classroom-302")
    wait_for(lambda: sum(1 for n in rc.hub.nodes() for d in n["devices"] if d.get("state")) == 2, 10,
             "both relays' states")
    silent.stop()
    c, token = rc.login("logistics")
    r = c.post("/api/switch-group", json={"site": "test-site", "group": "evening", "action": "off"},
               headers={"x-csrf-token": token})
    reply = r.json()
    assert (reply["ok"], reply["result"], reply["message"]) == (False, "ok 1/2", "1/2 台已执行")
    [entry] = rc.console.audit.entries(("switch_group",))
    assert (entry.target, entry.result) == ("test-site/group/evening", "ok 1/2")
