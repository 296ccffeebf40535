"""Maintenance and repair requests through the real hub: a real Mosquitto, agent-shaped messages, a local
webhook server for the notifications, the CLI as a child process on the same journal."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from openpyxl import load_workbook

from edge.broker import Mosquitto
from edge.hub.upkeep import service
from tests.conftest import wait_for
from tests.edge.hub.support import SITE, RunningHub, hub_raw_config, info, run_cli

NOW = lambda: int(time.time() * 1000)  # noqa: E731


@pytest.fixture
def hub_env(broker: Mosquitto, tmp_path: Path, robots) -> Iterator[Callable[..., tuple[RunningHub, Path]]]:
    running: list[RunningHub] = []

    def start(raw: dict[str, Any] | None = None, **extra: Any) -> tuple[RunningHub, Path]:
        if raw is None:
            channel = {"id": "logistics", "type": "webhook", "url": robots.webhook_url()}
            raw = hub_raw_config(broker, tmp_path, language="zh-CN", channels=[channel],
                                 rules=[{"events": ["maintenance_due", "repair_request"],
                                         "channels": ["logistics"]}], **extra)
        path = tmp_path / "hub.yaml"
        path.write_text(yaml.safe_dump(raw, allow_unicode=True))
        rh = RunningHub(raw)
        running.append(rh)
        return rh, path

    yield start
    for rh in running:
        rh.stop()


MAINTENANCE = [
    {"id": "dispenser-3f", "name": "三楼东饮水机", "meter": {"node": "meters", "device": "water-3f"},
     "tasks": [{"id": "filter", "name": "更换滤芯", "every_litres": 100, "every_days": 90}]},
    {"id": "uv-3f", "name": "三楼紫外灯", "relay": {"node": "relays", "device": "uv-lamp"},
     "tasks": [{"id": "lamp", "name": "更换紫外灯管", "every_on_hours": 1}]},
    {"id": "extinguisher-1f", "name": "一楼灭火器", "tasks": [{"id": "inspect", "every_days": 30}]},
]


def _telemetry(probe, volume: float, seq: int, ts: int) -> None:
    probe.publish(f"campus/{SITE}/meters/water-3f/telemetry", {"ts": ts, "seq": seq,
                                                               "values": {"volume_m3": volume}})


def test_usage_due_reminders_restart_service_and_term_report(hub_env, mqtt_probe, robots, tmp_path) -> None:
    upkeep = {"remind_hours": 0.001, "check_seconds": 0.1}
    rh, cfg = hub_env(maintenance=MAINTENANCE, upkeep=upkeep)
    raw = yaml.safe_load(cfg.read_text())
    probe = mqtt_probe()
    probe.publish(f"campus/{SITE}/meters/info", info(("water-3f", "water_meter", "三楼水表")), retain=True)
    t = NOW() - 60_000
    _telemetry(probe, 10.000, 1, t)
    _telemetry(probe, 10.050, 2, t + 1000)  # 50 L
    _telemetry(probe, 10.050, 2, t + 1000)  # a redelivery: nothing
    _telemetry(probe, 0.010, 3, t + 2000)  # meter replaced: a reset, not -10,040 L
    _telemetry(probe, 0.070, 4, t + 3000)  # 60 L: 110 L in all
    # the UV lamp's relay has been on for two hours (its retained state says since when)
    probe.publish(f"campus/{SITE}/relays/uv-lamp/state", {"on": True, "ts": NOW() - 2 * 3_600_000,
                                                          "cause": "schedule"}, retain=True)

    due = wait_for(lambda: {a.device: a for a in rh.journal.alerts(types="maintenance_due")}
                   if len(rh.journal.alerts(types="maintenance_due")) >= 2 else None, 15, "both tasks due")
    assert set(due) == {"dispenser-3f", "uv-3f"}
    filt = due["dispenser-3f"]
    assert filt.place == "三楼东饮水机" and filt.fields["reasons"] == ["litres"]
    assert round(filt.fields["litres"]) == 110
    assert "更换滤芯到期" in filt.fields["detail"] and "110 L" in filt.fields["detail"]
    assert due["uv-3f"].fields["on_hours"] >= 2
    sent = wait_for(lambda: robots.messages("webhook") if len(robots.messages("webhook")) >= 2 else None, 15,
                    "the logistics office's notices")
    assert any("维保到期" in str(m.body) for m in sent)
    # not serviced: raised again after remind_hours, as a numbered reminder
    wait_for(lambda: [a for a in rh.journal.alerts(types="maintenance_due", device="dispenser-3f")
                      if a.fields["reminder"] >= 1], 15, "a reminder")
    assert not rh.journal.alerts(types="maintenance_due", device="extinguisher-1f")

    rh.stop()  # a hub restart while the lamp is on: its on-time goes on counting
    rh, _ = hub_env(raw)
    view = {i["id"]: i for i in service.maintenance_view(rh.journal, rh.cfg, rh.hub.tz)}
    assert view["uv-3f"]["on"] and view["uv-3f"]["on_hours"] >= 2
    assert round(view["dispenser-3f"]["litres"]) == 110 and view["dispenser-3f"]["resets"] == 1

    r = run_cli("hub", "service", "dispenser-3f", "filter", "--by", "张师傅", "--parts", "PP棉滤芯 x1",
                "--note", "换芯", "-c", str(cfg))
    assert r.returncode == 0, r.stderr
    assert "on_time" in r.stdout
    view = {i["id"]: i for i in service.maintenance_view(rh.journal, rh.cfg, rh.hub.tz)}
    filt_task = view["dispenser-3f"]["tasks"][0]
    assert not filt_task["status"].due and filt_task["status"].litres == 0
    assert filt_task["last_service_by"] == "张师傅"
    assert all(a.state == "closed" for a in rh.journal.alerts(types="maintenance_due", device="dispenser-3f"))
    _telemetry(probe, 0.090, 5, NOW())  # 20 L after the service
    wait_for(lambda: round(service.maintenance_view(rh.journal, rh.cfg, rh.hub.tz)[0]["tasks"][0]["status"]
                           .litres) == 20, 10, "usage counted from the service on")

    r = run_cli("hub", "maintenance", "-c", str(cfg))
    assert r.returncode == 0 and "dispenser-3f" in r.stdout and "DUE" in r.stdout  # the lamp still is
    r = run_cli("hub", "service", "dispenser-3f", "nope", "--by", "x", "-c", str(cfg))
    assert r.returncode == 2 and "no task 'nope'" in r.stderr

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()  # the hub's zone
    r = run_cli("hub", "upkeep-report", "--from", today, "--to", today, "-c", str(cfg))
    assert r.returncode == 0, r.stderr
    assert "按时完成" in r.stdout and "未完成" in r.stdout and "张师傅" in r.stdout and "PP棉滤芯" in r.stdout
    assert "一楼灭火器" in r.stdout and "未到期" in r.stdout
    out = tmp_path / "term.xlsx"
    r = run_cli("hub", "upkeep-report", "--from", today, "--to", today, "--format", "xlsx", "-o", str(out),
                "-c", str(cfg))
    assert r.returncode == 0, r.stderr
    wb = load_workbook(io.BytesIO(out.read_bytes()))
    cells = [c.value for ws in wb for row in ws.iter_rows() for c in row]
    assert "三楼紫外灯" in cells and "张师傅" in cells


def test_repair_requests_by_hand_and_from_device_faults(hub_env, mqtt_probe, robots) -> None:
    upkeep = {"check_seconds": 0.1, "auto_repair": {"meter_offline_hours": 0.0005,
                                                    "camera_offline_minutes": 10, "camera_fault_minutes": 0}}
    rh, cfg = hub_env(upkeep=upkeep)
    r = run_cli("hub", "repair", "add", "--place", "二楼女卫生间", "--description", "水龙头漏水",
                "--by", "李老师", "-c", str(cfg))
    assert r.returncode == 0, r.stderr
    msg = wait_for(lambda: robots.messages("webhook"), 15, "the logistics office told")
    assert "水龙头漏水" in str(msg[0].body) and "李老师" in str(msg[0].body)
    r = run_cli("hub", "repair", "defer", "1", "--by", "后勤王", "-c", str(cfg))
    assert r.returncode == 2  # a deferral needs its reason and expected date (argparse)
    r = run_cli("hub", "repair", "defer", "1", "--by", "后勤王", "--reason", "等配件", "--expected-date",
                "2026-12-20", "-c", str(cfg))
    assert r.returncode == 0, r.stderr
    assert run_cli("hub", "repair", "fix", "1", "--by", "后勤王", "-c", str(cfg)).returncode == 0
    r = run_cli("hub", "repair", "fix", "1", "--by", "后勤王", "-c", str(cfg))
    assert r.returncode == 2 and "is fixed" in r.stderr
    rep = service.get_repair(rh.journal, 1)
    assert rep["state"] == "fixed" and rep["reason"] == "等配件" and rep["deferred_ms"] <= rep["fixed_ms"]

    probe = mqtt_probe()
    base = f"campus/{SITE}/meters"
    probe.publish(f"{base}/info", info(("water-1", "water_meter", "食堂水表")), retain=True)
    t = NOW()
    probe.publish(f"{base}/water-1/event", {"ts": t, "seq": 1, "type": "meter_offline", "failures": 5,
                                            "last_error": "timeout"})
    opened = wait_for(lambda: [x for x in service.repairs(rh.journal) if x["fault"] == "meter_offline"], 15,
                      "a request opened for the offline meter")
    assert opened[0]["place"] == "食堂水表" and "timeout" in opened[0]["description"]
    assert opened[0]["by"] == "系统自动"
    probe.publish(f"{base}/water-1/event", {"ts": t + 5, "seq": 2, "type": "meter_offline", "failures": 9,
                                            "last_error": "timeout"})
    # a camera fault from the patrol opens one at once; a thermal camera back within its delay opens none
    probe.publish(f"campus/{SITE}/cams/yard/event", {"ts": t, "seq": 1, "type": "camera_fault",
                                                     "reasons": ["moved"], "reason": "moved"})
    probe.publish(f"campus/{SITE}/gate/cam-e/event", {"ts": t, "seq": 1, "type": "camera_offline",
                                                      "error": "usb"})
    probe.publish(f"campus/{SITE}/gate/cam-e/event", {"ts": t + 9, "seq": 2, "type": "camera_online"})
    wait_for(lambda: [x for x in service.repairs(rh.journal) if x["fault"] == "camera_fault"], 15,
             "a request for the camera fault")
    wait_for(lambda: rh.hub.counters["events"] >= 5, 10, "every event handled")
    time.sleep(1.5)  # longer than the meter's delay: a second request would be open by now
    by_fault = [x["fault"] for x in service.repairs(rh.journal, state="open")]
    assert sorted(by_fault) == ["camera_fault", "meter_offline"]
    assert rh.journal.db.query("SELECT COUNT(*) FROM repair_pending")[0][0] == 0
    assert len(rh.journal.alerts(types="repair_request")) == 3
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()  # the hub's zone
    r = run_cli("hub", "upkeep-report", "--from", today, "--to", today, "--format", "csv", "-c", str(cfg))
    assert r.returncode == 0 and "暂缓" not in r.stdout and "已修复" in r.stdout and "分钟" in r.stdout
