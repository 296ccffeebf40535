"""Repair requests that follow their device and tell people every step: a real hub on a real Mosquitto, a
real agent driving a relay on gpiozero's mock pins, the local webhook server (simulators/robots.py) as
the logistics office's channel, the CLI as a child process on the same journal."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from edge.broker import Mosquitto
from edge.hub.notify.texts import render
from edge.hub.upkeep import relays, service
from tests.conftest import wait_for
from tests.edge.hub.support import SITE, RunningHub, hub_raw_config, info, run_cli

TZ = ZoneInfo("Asia/Shanghai")  # the test hub's zone
NOW = lambda: int(time.time() * 1000)  # noqa: E731
RULES = [{"events": ["repair_request", "repair_update"], "channels": ["logistics"]}]


def _hub(broker: Mosquitto, tmp_path: Path, robots, rules: list | None = None,
         **upkeep: Any) -> tuple[RunningHub, Path]:
    channel = {"id": "logistics", "type": "webhook", "url": robots.webhook_url()}
    raw = hub_raw_config(broker, tmp_path, language="zh-CN", channels=[channel], rules=rules or RULES,
                         upkeep={"check_seconds": 0.1, **upkeep})
    path = tmp_path / "hub.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return RunningHub(raw), path


def _said(robots, *words: str) -> list[str]:
    """The webhook notices that contain every word (their plain text)."""
    return [str(m.body) for m in robots.messages("webhook") if all(w in str(m.body) for w in words)]


def _hm(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, TZ).strftime("%H:%M")


def test_judging_a_switch_command() -> None:
    err = {"ok": False, "error": "relay could not be switched: pin 17 is broken"}
    assert relays.judge("on", err, True) == (True, err["error"])
    assert relays.judge("toggle", {"ok": False, "error": "relay could not be read: i2c"}, None)[0] is True
    assert relays.judge("on", None, True) == (True, "no reply (timeout)")
    assert relays.judge("on", None, None)[0] is True  # never heard of the node: counts
    assert relays.judge("on", None, False) is None  # its node is offline: node_offline tells that story
    for other in ("command expired 20 ms ago; not executed", "pulse of 9 s is longer than the limit of 5 s",
                  "storage cannot record the command (disk full); not executed"):
        assert relays.judge("on", {"ok": False, "error": other}, True) is None
    assert relays.judge("on", {"ok": True, "state": {"on": True}}, True) == (False, "")
    assert relays.judge("off", {"ok": True, "state": {"on": True}}, True)[0] is True  # reads back wrong
    assert relays.judge("toggle", {"ok": True, "state": {"on": False}}, True) == (False, "")


def test_a_relay_not_answering_opens_one_request_that_closes_when_it_answers(
        broker: Mosquitto, tmp_path: Path, run_agent, pin_factory, robots) -> None:
    rh, _ = _hub(broker, tmp_path, robots, auto_repair={"relay_failures": 3})
    try:
        agent = run_agent([{"id": "uv-lamp", "kind": "relay", "driver": "gpio", "pin": 17,
                            "name": "三楼紫外灯"}], node="relays")
        wait_for(lambda: any(d["id"] == "uv-lamp" for n in rh.hub.nodes() for d in n["devices"]), 15,
                 "the agent's info at the hub")
        assert rh.hub.command(SITE, "relays", "uv-lamp", "on")["ok"]
        pin = pin_factory.pin(17)

        def broken(value: Any) -> None:
            raise OSError("GPIO17 does not drive (simulated broken relay board)")

        pin._set_state = broken  # the board breaks: the agent answers that it could not switch it
        for i in range(4):
            reply = rh.hub.command(SITE, "relays", "uv-lamp", "off" if i % 2 == 0 else "on", timeout=5)
            assert not reply["ok"] and reply["error"].startswith("relay could not be switched")
            if i == 1:  # two failures: below relay_failures, nothing opened yet
                time.sleep(0.5)
                assert not service.repairs(rh.journal)
        req = wait_for(lambda: service.repairs(rh.journal, state="open"), 10, "a request for the relay")
        time.sleep(0.5)  # the fourth failure must not open a second one
        reqs = service.repairs(rh.journal)
        assert len(reqs) == 1 and reqs[0]["fault"] == "relay_unanswered" and reqs[0]["device"] == "uv-lamp"
        req = req[0]
        assert req["place"] == "三楼紫外灯" and req["by"] == "系统自动"
        assert "继电器" in req["description"] and "连续 3 次失败" in req["description"]
        assert "does not drive" in req["description"]
        wait_for(lambda: _said(robots, "继电器", "三楼紫外灯"), 10, "the logistics office told")

        del pin._set_state  # repaired (a loose wire): the next command works
        back_ms = NOW()
        assert rh.hub.command(SITE, "relays", "uv-lamp", "off")["ok"]
        r = wait_for(lambda: [x for x in service.repairs(rh.journal) if x["state"] == "recovered"], 10,
                     "the request closed as recovered")[0]
        assert r["recovered_ms"] >= back_ms - 1000 and "自动恢复" in r["note"]
        assert r["id"] == req["id"] and not service.repairs(rh.journal, state="open")  # kept on record
        said = wait_for(lambda: _said(robots, "报修进度", "自动恢复", "已自动关闭"), 10, "the recovery told")
        assert _hm(r["recovered_ms"]) in said[0]  # in the hub's local time
        alert = rh.journal.alerts(types="repair_request")[0]
        assert alert.state == "closed"  # the request's own alert is done: no escalation
        agent.stop()
    finally:
        rh.stop()


def test_a_relay_its_agent_cannot_switch_opens_a_request_that_follows_it_back(
        broker: Mosquitto, tmp_path: Path, run_agent, pin_factory, robots, mqtt_probe) -> None:
    """No command waits for the end of a pulse: the agent tells the fault itself (once, although it
    retries the end every turn), the hub opens the request at once and closes it when the relay is back."""
    rules = [*RULES, {"events": ["relay_fault", "relay_ok"], "channels": ["logistics"]}]
    rh, _ = _hub(broker, tmp_path, robots, rules=rules)
    try:
        agent = run_agent([{"id": "uv-lamp", "kind": "relay", "driver": "gpio", "pin": 17,
                            "name": "三楼紫外灯"}], node="relays")
        wait_for(lambda: any(d["id"] == "uv-lamp" for n in rh.hub.nodes() for d in n["devices"]), 15,
                 "the agent's info at the hub")
        probe = mqtt_probe([f"{agent.base}/uv-lamp/event"])
        pin = pin_factory.pin(17)
        assert rh.hub.command(SITE, "relays", "uv-lamp", "pulse", seconds=1.0)["ok"] and pin.state

        def broken(value: Any) -> None:
            raise OSError("GPIO17 does not drive (simulated broken relay board)")

        pin._set_state = broken  # the board breaks during the pulse: its end cannot switch the lamp off
        req = wait_for(lambda: service.repairs(rh.journal, state="open"), 10, "a request for the relay")[0]
        assert req["fault"] == "relay_unanswered" and req["device"] == "uv-lamp" and req["by"] == "系统自动"
        assert "短时启动结束时未能关闭" in req["description"] and "does not drive" in req["description"]
        said = wait_for(lambda: _said(robots, "继电器故障", "三楼紫外灯"), 10, "the fault told")
        assert "短时启动结束时未能关闭：OSError: GPIO17 does not drive" in said[0]
        time.sleep(0.5)  # the agent tries the pulse's end again every turn: still one event, one request
        faults = [m for m in probe.json_on(f"{agent.base}/uv-lamp/event") if m["type"] == "relay_fault"]
        assert len(faults) == 1 and faults[0]["cause"] == "pulse_end" and faults[0]["action"] == "off"
        assert len(service.repairs(rh.journal)) == 1 and pin.state  # the lamp is still on
        alert = rh.journal.alerts(types="relay_fault")[0]
        assert render(alert, "en", TZ).headline == (
            f"[Relay fault] 三楼紫外灯 {_hm(alert.ts_ms)} the end of a pulse could not switch off the relay: "
            "OSError: GPIO17 does not drive (simulated broken relay board); please have it checked")

        del pin._set_state  # mended: the next try switches it off, the agent says so
        ok = probe.wait_json(f"{agent.base}/uv-lamp/event", lambda m: m["type"] == "relay_ok")
        assert ok["cause"] == "pulse_end" and "does not drive" in ok["previous"] and not pin.state
        r = wait_for(lambda: service.repairs(rh.journal, state="recovered"), 10, "the request recovered")[0]
        assert r["id"] == req["id"] and r["recovered_ms"] == ok["ts"]
        wait_for(lambda: _said(robots, "报修进度", "自动恢复", "已自动关闭"), 10, "the recovery told")
        wait_for(lambda: _said(robots, "继电器恢复", "已恢复正常开关"), 10, "relay_ok told")
        assert rh.journal.alerts(types="relay_ok")[0].state == "closed"  # news, nothing to follow up
    finally:
        rh.stop()


def test_every_step_is_told_and_automatic_requests_follow_their_device(
        broker: Mosquitto, tmp_path: Path, mqtt_probe, robots) -> None:
    rh, cfg_file = _hub(broker, tmp_path, robots, auto_repair={"meter_offline_hours": 0,
                                                                "camera_fault_minutes": 0})
    try:
        # by hand: accept (CLI), cannot fix now (console/service), fixed: each one a notice
        rid = service.add_repair(rh.journal, rh.cfg, "二楼女卫生间", "水龙头漏水", "李老师")["id"]
        wait_for(lambda: _said(robots, "水龙头漏水", "李老师"), 10, "the report told")
        r = run_cli("hub", "repair", "accept", str(rid), "--by", "后勤王", "-c", str(cfg_file))
        assert r.returncode == 0, r.stderr
        acc = service.get_repair(rh.journal, rid)
        said = wait_for(lambda: _said(robots, "受理", "后勤王", f"报修单 {rid}"), 10, "the acceptance told")
        assert "水龙头漏水" in said[0] and _hm(acc["accepted_ms"]) in said[0]
        assert rh.journal.alerts(types="repair_request")[0].state == "acknowledged"  # no escalation now
        service.step_repair(rh.journal, rid, "defer", "后勤王", reason="等配件", expected_date="2026-12-20",
                            cfg=rh.cfg)
        wait_for(lambda: _said(robots, "暂无法修复：等配件", "预计 2026-12-20"), 10, "the deferral told")
        service.step_repair(rh.journal, rid, "fix", "张师傅", note="换阀芯", cfg=rh.cfg)
        wait_for(lambda: _said(robots, "由 张师傅 修复"), 10, "the fix told")
        assert rh.journal.alerts(types="repair_request")[0].state == "closed"
        upd = {a.fields["step"]: a for a in rh.journal.alerts(types="repair_update")}
        assert set(upd) == {"accept", "defer", "fix"} and all(a.state == "closed" for a in upd.values())
        en = render(upd["defer"], "en", TZ).headline  # the same alert in English, local time
        assert en == (f"[Repair update] 二楼女卫生间 request {rid} (水龙头漏水) cannot be fixed now: 等配件; "
                      f"expected by 2026-12-20 (后勤王, {_hm(upd['defer'].ts_ms)})")
        assert "fixed by 张师傅" in render(upd["fix"], "en", TZ).headline

        # automatic: a meter back online closes its unanswered request as recovered; a camera request
        # already accepted stays open with a note, and the office hears of both
        probe = mqtt_probe()
        base = f"campus/{SITE}/meters"
        probe.publish(f"{base}/info", info(("water-1", "water_meter", "食堂水表")), retain=True)
        probe.publish(f"{base}/water-1/event", {"ts": NOW(), "seq": 1, "type": "meter_offline", "failures": 5,
                                                "last_error": "timeout"})
        probe.publish(f"campus/{SITE}/cams/yard/event", {"ts": NOW(), "seq": 1, "type": "camera_fault",
                                                         "reasons": ["moved"], "reason": "moved"})
        auto = wait_for(lambda: {x["fault"]: x for x in service.repairs(rh.journal, state="reported")}
                        if len(service.repairs(rh.journal, state="reported")) == 2 else None, 15,
                        "two automatic requests")
        cam = auto["camera_fault"]["id"]
        assert run_cli("hub", "repair", "accept", str(cam), "--by", "后勤王", "-c",
                       str(cfg_file)).returncode == 0
        online_ts = NOW()
        probe.publish(f"{base}/water-1/event", {"ts": online_ts, "seq": 2, "type": "meter_online",
                                                "offline_seconds": 120})
        probe.publish(f"campus/{SITE}/cams/yard/event", {"ts": online_ts, "seq": 2, "type": "camera_ok",
                                                         "previous": ["moved"], "after_seconds": 60})
        meter_id = auto["meter_offline"]["id"]
        meter = wait_for(lambda: [x for x in service.repairs(rh.journal, state="recovered")
                                  if x["id"] == meter_id], 15, "the meter's request recovered")[0]
        assert meter["recovered_ms"] == online_ts and meter["note"] == f"设备于 {_stamp(online_ts)} 自动恢复"
        camera = wait_for(lambda: [x for x in service.repairs(rh.journal)
                                   if x["id"] == cam and x["recovered_ms"]], 15, "the camera's note")[0]
        assert camera["state"] == "accepted" and "自动恢复" in camera["note"]  # a person closes it
        wait_for(lambda: _said(robots, "食堂水表", "自动恢复", "已自动关闭"), 10, "the meter's recovery told")
        wait_for(lambda: _said(robots, "自动恢复", "请确认后结单"), 10, "the camera's recovery told")
        r = run_cli("hub", "repair", "list", "--state", "recovered", "-c", str(cfg_file))
        assert r.returncode == 0 and "食堂水表" in r.stdout and "yard" not in r.stdout
    finally:
        rh.stop()


def _stamp(ts: int) -> str:
    return datetime.fromtimestamp(ts / 1000, TZ).strftime("%Y-%m-%d %H:%M")

