"""What people read: each event type's text in zh-CN and en, from hand-made alerts (vectors)."""

# ruff: noqa: E501  (a vector is one line of text a person reads; kept whole to compare at a glance)

from __future__ import annotations

import pytest

from edge.hub.model import Alert
from edge.hub.notify.texts import (
    ALERT,
    ESCALATION,
    SUMMARY,
    headline,
    render,
    render_escalation,
    render_summary,
)
from tests.edge.hub.notify.support import TZ, fever, png, ts


def alert(type_: str, fields: dict, place: str, alert_id: int = 1, device: str = "dev") -> Alert:
    return Alert(alert_id, "mh-primary", "gate-east", device, type_, ts(7, 42), 1, fields, place=place)


# (type, fields, zh place, zh text, en place, en text)
VECTORS = [
    ("fever", {"temp_c": 38.14, "threshold_c": 37.3, "uncertainty_c": 0.3, "frames": 6},
     "东门", "【发热预警】东门 07:42 体温 38.1°C（阈值 37.3°C），请立即复测",
     "East gate", "[Fever] East gate 07:42 38.1 °C (threshold 37.3 °C): re-check now"),
    ("recheck", {"temp_c": 37.62, "reason": "eyes_covered"},
     "东门", "【需复测】东门 07:42 眼部被遮挡，额温约 37.6°C，请摘下眼镜后复测",
     "East gate", "[Re-check] East gate 07:42 eyes covered, forehead about 37.6 °C: re-screen without glasses"),
    ("recheck", {"temp_c": 37.71, "reason": "too_fast_hot", "site": "canthus"},
     "东门", "【需复测】东门 07:42 有学生快速通过，测得约 37.7°C，请拦下用手持体温计复测",
     "East gate", "[Re-check] East gate 07:42 a pupil ran past reading about 37.7 °C: stop them for a handheld "
     "check"),
    ("unscreened", {},
     "东门", "【未完成测温】东门 07:42 有人未完成测温即通过，请核查",
     "East gate", "[Not screened] East gate 07:42 someone passed without a temperature reading: please check"),
    ("leak", {"reason": "burst", "flow_lpm": 42.37, "limit_lpm": 30, "minutes": 5.2},
     "锅炉房水表", "【漏水告警】锅炉房水表 07:42 疑似爆管：流量 42.4 L/min 已持续 5 分钟（上限 30.0 L/min），请立即关阀",
     "Boiler room", "[Water leak] Boiler room 07:42 burst pipe: 42.4 L/min for 5 min (limit 30.0 L/min): "
     "close the valve now"),
    ("leak", {"reason": "night_flow", "min_night_flow_lpm": 1.234, "baseline_lpm": 0.2, "threshold_lpm": 0.45,
              "nights": 2},
     "宿舍楼", "【漏水告警】宿舍楼 07:42 夜间最小流量 1.23 L/min，连续 2 晚高于基线 0.20 L/min（阈值 0.45 L/min），"
     "疑似漏水，请检查",
     "Dormitory", "[Water leak] Dormitory 07:42 night flow 1.23 L/min above the usual 0.20 L/min "
     "(threshold 0.45 L/min) for 2 night(s): likely a leak, please check"),
    ("leak", {"reason": "continuous_flow", "hours": 24, "min_flow_lpm": 0.5},
     "教学楼", "【漏水告警】教学楼 07:42 连续 24 小时用水不断（最小 0.50 L/min），疑似水箱或暗管漏水，请检查",
     "Classroom block", "[Water leak] Classroom block 07:42 water has run for 24 hours without a break "
     "(at least 0.50 L/min): likely a cistern or hidden pipe leak, please check"),
    ("leak", {"reason": "no_zero_hour", "hours": 24, "min_flow_lpm": 0.5},
     "教学楼", "【漏水告警】教学楼 07:42 连续 24 小时用水不断（最小 0.50 L/min），疑似水箱或暗管漏水，请检查",
     "Classroom block", "[Water leak] Classroom block 07:42 water has run for 24 hours without a break "
     "(at least 0.50 L/min): likely a cistern or hidden pipe leak, please check"),
    ("leak", {"reason": "pressure_drop"},
     "教学楼", "【漏水告警】教学楼 07:42 疑似漏水（pressure_drop），请检查",
     "Classroom block", "[Water leak] Classroom block 07:42 possible leak (pressure_drop): please check"),
    ("after_hours_load", {"power_w": 5230.4, "baseload_w": 800.0, "threshold_w": 1500.0, "minutes": 30.0},
     "科学楼", "【非工作时间用电】科学楼 07:42 非工作时间功率 5230 W，超出基线 800 W（阈值 1500 W）已 30 分钟，"
     "请检查是否有设备未关",
     "Science block", "[After-hours power use] Science block 07:42 5230 W after hours, above the usual 800 W "
     "(threshold 1500 W) for 30 min: check for equipment left on"),
    ("meter_offline", {"failures": 3, "last_error": "timeout", "detail": "no answer"},
     "科学楼", "【电表/水表离线】科学楼 07:42 连续 3 次读数失败（timeout），请检查表计线路",
     "Science block", "[Meter offline] Science block 07:42 3 readings failed in a row (timeout): "
     "check the meter's wiring"),
    ("meter_online", {"offline_seconds": 600.4},
     "科学楼", "【电表/水表恢复】科学楼 07:42 恢复读数（离线约 10 分钟）",
     "Science block", "[Meter back online] Science block 07:42 readings are back (offline for about 10 min)"),
    ("camera_offline", {"error": "no frames for 10 s"},
     "东门", "【测温相机离线】东门 07:42 测温相机无画面（no frames for 10 s），此通道暂停测温，请人工测温",
     "East gate", "[Camera offline] East gate 07:42 the thermal camera is not delivering frames "
     "(no frames for 10 s): screen by hand until it is back"),
    ("camera_online", {},
     "东门", "【测温相机恢复】东门 07:42 测温相机恢复，自动测温继续",
     "East gate", "[Camera back online] East gate 07:42 the thermal camera is back: screening resumes"),
    ("node_offline", {},
     "东门节点", "【节点离线】东门节点 07:42 节点失去联系，其设备暂无数据和告警，请检查网络和电源",
     "Gate node", "[Node offline] Gate node 07:42 the node is unreachable: no data or alerts from its devices "
     "until it is back; check its network and power"),
    ("node_online", {},
     "东门节点", "【节点恢复在线】东门节点 07:42 节点恢复在线",
     "Gate node", "[Node back online] Gate node 07:42 the node is back online"),
    ("broker_offline", {"broker": "127.0.0.1:1883", "since_ms": 0, "minutes": 2.0},
     "", "【消息服务器无法连接】07:42 中心已 2 分钟连不上消息服务器 127.0.0.1:1883：全校的告警、数据和开关命令都无法"
     "送达（各节点先存着），请检查中心主机上的 mosquitto 服务",
     "", "[Broker unreachable] 07:42 the hub has not reached the broker 127.0.0.1:1883 for 2 min: no alert, "
     "reading or switch command of the campus gets through (the nodes keep theirs meanwhile); check the "
     "mosquitto service on the hub machine"),
    ("broker_online", {"broker": "127.0.0.1:1883", "since_ms": 0, "minutes": 12.5},
     "", "【消息服务器恢复】07:42 已重新连上消息服务器 127.0.0.1:1883（中断 12.5 分钟），各节点存下的告警和数据随后补到",
     "", "[Broker back] 07:42 the hub reaches the broker 127.0.0.1:1883 again (down 12.5 min); what the nodes "
     "kept meanwhile follows"),
    ("counter_reset", {"counter": "energy_kwh", "previous": 1523.4, "current": 0.2},
     "科学楼", "【计数器归零】科学楼 07:42 计数从 1523.4 变为 0.2（换表或溢出），请核对",
     "Science block", "[Counter reset] Science block 07:42 the counter went from 1523.4 to 0.2 "
     "(meter replaced or rolled over): please verify"),
    ("maintenance_due", {},
     "东门", "【维保到期】东门 07:42 已到保养周期，请安排维保",
     "East gate", "[Maintenance due] East gate 07:42 the service interval is reached: please schedule maintenance"),
    ("rule_action", {"action": "pulse", "target": "buzzer", "trigger": "fever"},
     "东门", "【联动动作】东门 07:42 已自动执行 短时启动（buzzer），由 发热预警 触发",
     "East gate", "[Automatic action] East gate 07:42 did pulse (buzzer) automatically, triggered by Fever"),
    ("storage_full", {"error": "database or disk is full"},
     "东门节点", "【存储空间已满】东门节点 07:42 本地存储已满，旧数据可能被丢弃，请清理或更换存储卡",
     "Gate node", "[Storage full] Gate node 07:42 local storage is full: old data may be dropped; "
     "free space or replace the card"),
    ("storage_reset", {"reason": "malformed database"},
     "东门节点", "【存储已重建】东门节点 07:42 本地数据库损坏后已重建，部分未上报数据可能丢失",
     "Gate node", "[Storage rebuilt] Gate node 07:42 the local database was damaged and rebuilt: "
     "some unsent data may be lost"),
    ("door_forced", {"door": 3, "blob": "x" * 100},
     "东门", "【事件】东门 07:42 door_forced：door=3",
     "East gate", "[Event] East gate 07:42 door_forced: door=3"),
]


@pytest.mark.parametrize("type_,fields,zh_place,zh,en_place,en", VECTORS, ids=[
    f"{v[0]}-{v[1].get('reason', '')}" for v in VECTORS])
def test_headline_each_type_both_languages(type_, fields, zh_place, zh, en_place, en):
    assert headline(alert(type_, fields, zh_place), "zh-CN", TZ) == zh
    assert headline(alert(type_, fields, en_place), "en", TZ) == en


def test_missing_figures_say_unknown_and_place_falls_back_to_device():
    a = Alert(3, "s", "n", "cam-east", "fever", ts(7, 42), 1, {"temp_c": 38.0}, place="")
    assert headline(a, "zh-CN", TZ) == "【发热预警】cam-east 07:42 体温 38.0°C（阈值 未知°C），请立即复测"
    node = Alert(4, "s", "gate-east", "", "node_offline", ts(7, 42), None, {})
    assert headline(node, "en", TZ).startswith("[Node offline] gate-east 07:42")


def test_local_time_follows_the_zone():
    from zoneinfo import ZoneInfo

    a = fever()
    assert " 07:42 " in headline(a, "zh-CN", TZ)
    assert " 23:42 " in headline(a, "zh-CN", ZoneInfo("UTC"))


def test_render_fever_notice_in_both_languages():
    snap = png()
    zh = render(fever(alert_id=17), "zh-CN", TZ, snapshot=snap)
    assert zh.kind == ALERT and zh.alert_ids == (17,) and zh.snapshot == snap
    assert zh.title == "【发热预警】东门"
    assert zh.text.splitlines() == [
        "【发热预警】东门 07:42 体温 38.1°C（阈值 37.3°C），请立即复测",
        "地点：东门",
        "时间：2026-12-01 07:42:05",
        "测量不确定度 ±0.3°C，6 帧",
        "设备：mh-primary / gate-east / cam",
        "告警编号：#17",
    ]
    assert zh.markdown.startswith("**【发热预警】东门 07:42 体温 38.1°C（阈值 37.3°C），请立即复测**\n> 地点：东门\n")
    en = render(fever(alert_id=17, place="East gate"), "en", TZ, snapshot=None)
    assert en.title == "[Fever] East gate" and en.snapshot is None
    assert en.text.splitlines()[1:3] == ["Place: East gate", "Time: 2026-12-01 07:42:05"]
    assert en.data["alerts"][0]["fields"]["temp_c"] == 38.14


def test_render_reads_the_snapshot_file_and_notes_a_missing_one(tmp_path):
    path = tmp_path / "17.png"
    path.write_bytes(png())
    assert render(fever(snapshot_path=str(path)), "zh-CN", TZ).snapshot == path.read_bytes()
    gone = render(fever(snapshot_path=str(tmp_path / "gone.png")), "en", TZ)
    assert gone.snapshot is None and gone.snapshot_missing
    assert "Thermal snapshot file missing (alert #17)" in gone.text


def test_snapshot_field_never_reaches_the_webhook_data():
    a = fever(snapshot_png="iVBORw0KGgo=")
    assert "snapshot_png" not in render(a, "en", TZ, snapshot=None).data["alerts"][0]["fields"]


def test_summary_lists_every_alert_in_time_order():
    alerts = [fever(alert_id=i) for i in (5, 3, 4)]
    leak = Alert(9, "mh-primary", "pump", "water", "leak", ts(7, 50), 2,
                 {"reason": "burst", "flow_lpm": 40.0, "limit_lpm": 30, "minutes": 5}, place="锅炉房")
    n = render_summary([*alerts, leak], "zh-CN", TZ)
    assert n.kind == SUMMARY and n.alert_ids == (3, 4, 5, 9) and n.snapshot is None
    lines = n.text.splitlines()
    assert lines[0] == "【告警汇总】07:42–07:50 共 4 条告警"
    assert lines[1] == "#3 【发热预警】东门 07:42 体温 38.1°C（阈值 37.3°C），请立即复测"
    assert lines[4].startswith("#9 【漏水告警】锅炉房 07:50 疑似爆管")
    en = render_summary([*alerts, leak], "en", TZ)
    assert en.text.splitlines()[0] == "[Alert summary] 4 alerts, 07:42–07:50"
    assert len(en.data["alerts"]) == 4


def test_summary_of_many_stays_short_and_counts_the_rest():
    alerts = [fever(alert_id=i) for i in range(1, 101)]
    n = render_summary(alerts, "zh-CN", TZ)
    assert len(n.alert_ids) == 100 and len(n.data["alerts"]) == 100
    assert n.text.splitlines()[-1] == "……另有 70 条，请在控制台查看"
    assert len(n.markdown.encode()) < 4096
    with pytest.raises(ValueError):
        render_summary([], "zh-CN", TZ)


def test_escalation():
    n = render_escalation(fever(alert_id=17), 5, "zh-CN", TZ, snapshot=png())
    assert n.kind == ESCALATION and n.snapshot is not None
    assert n.title == "【升级提醒】【发热预警】东门"
    assert n.text.splitlines()[:2] == ["【升级提醒】告警 #17 已 5 分钟无人确认",
                                       "【发热预警】东门 07:42 体温 38.1°C（阈值 37.3°C），请立即复测"]
    en = render_escalation(fever(alert_id=17, place="East gate"), 5, "en", TZ, snapshot=None)
    assert en.title == "[Escalation] [Fever] East gate"
    assert en.text.splitlines()[0] == "[Escalation] alert #17 not acknowledged for 5 min"


def test_notify_keys_have_both_languages_with_the_same_fields():
    import string

    from edge.i18n.table import MESSAGES

    keys = [k for k in MESSAGES if k.startswith("notify.")]
    assert len(keys) > 30
    for key in keys:
        entry = MESSAGES[key]
        assert set(entry) == {"zh-CN", "en"}, key
        names = [{f for _, f, _, _ in string.Formatter().parse(entry[lang]) if f} for lang in ("zh-CN", "en")]
        assert names[0] == names[1], key
