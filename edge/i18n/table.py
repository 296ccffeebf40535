"""The message table: every text a person reads, in zh-CN (the default) and en.

Keys are dotted, grouped by where the text appears. Fields are ``str.format`` names; both languages
use the same fields. tests/edge/i18n checks that every key has both languages with the same fields.
Keep each area's keys together, under its own heading, so additions from different areas do not collide.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    # --- alert types: short titles, used by notifications, reports, the console --------------------
    "alert.title.fever": {"zh-CN": "发热预警", "en": "Fever"},
    "alert.title.recheck": {"zh-CN": "需复测", "en": "Re-check"},
    "alert.title.unscreened": {"zh-CN": "未完成测温", "en": "Not screened"},
    "alert.title.leak": {"zh-CN": "漏水告警", "en": "Water leak"},
    "alert.title.after_hours_load": {"zh-CN": "非工作时间用电", "en": "After-hours power use"},
    "alert.title.meter_offline": {"zh-CN": "电表/水表离线", "en": "Meter offline"},
    "alert.title.meter_online": {"zh-CN": "电表/水表恢复", "en": "Meter back online"},
    "alert.title.camera_offline": {"zh-CN": "测温相机离线", "en": "Camera offline"},
    "alert.title.camera_online": {"zh-CN": "测温相机恢复", "en": "Camera back online"},
    "alert.title.node_offline": {"zh-CN": "节点离线", "en": "Node offline"},
    "alert.title.node_online": {"zh-CN": "节点恢复在线", "en": "Node back online"},
    "alert.title.counter_reset": {"zh-CN": "计数器归零", "en": "Counter reset"},
    "alert.title.maintenance_due": {"zh-CN": "维保到期", "en": "Maintenance due"},
    "alert.title.rule_action": {"zh-CN": "联动动作", "en": "Automatic action"},
    "alert.title.storage_full": {"zh-CN": "存储空间已满", "en": "Storage full"},
    "alert.title.storage_reset": {"zh-CN": "存储已重建", "en": "Storage rebuilt"},
    "alert.title.other": {"zh-CN": "事件", "en": "Event"},
    # --- alert outcomes (edge/hub/model.py OUTCOMES) ---------------------------------------------------
    "outcome.cleared": {"zh-CN": "复测正常", "en": "Cleared"},
    "outcome.parents_called": {"zh-CN": "已通知家长", "en": "Parents called"},
    "outcome.sent_home": {"zh-CN": "已送回家", "en": "Sent home"},
    "outcome.sent_to_clinic": {"zh-CN": "已送医务室/医院", "en": "Sent to the clinic"},
    "outcome.valve_closed": {"zh-CN": "已关阀", "en": "Valve closed"},
    "outcome.repaired": {"zh-CN": "已维修", "en": "Repaired"},
    "outcome.false_alarm": {"zh-CN": "误报", "en": "False alarm"},
    "outcome.resolved": {"zh-CN": "已处理", "en": "Resolved"},
    "state.new": {"zh-CN": "待处理", "en": "New"},
    "state.acknowledged": {"zh-CN": "已确认", "en": "Acknowledged"},
    "state.closed": {"zh-CN": "已关闭", "en": "Closed"},
    # --- notifications (edge/hub/notify) -------------------------------------------------------------
    # --- hub: journal, lifecycle, daily report (edge/hub) --------------------------------------------
    "hub.report.title": {"zh-CN": "晨午检测温日报 {date}", "en": "Daily health screening report {date}"},
    "hub.report.sites": {"zh-CN": "校区：{sites}", "en": "Sites: {sites}"},
    "hub.report.generated": {"zh-CN": "生成时间：{stamp}（{tz}）", "en": "Generated {stamp} ({tz})"},
    "hub.report.gates": {"zh-CN": "各测温点统计", "en": "Per gate"},
    "hub.report.alerts": {"zh-CN": "预警明细", "en": "Alerts"},
    "hub.report.none": {"zh-CN": "当日无预警", "en": "No alerts that day"},
    "hub.report.total": {"zh-CN": "合计", "en": "Total"},
    "hub.col.gate": {"zh-CN": "测温点", "en": "Gate"},
    "hub.col.screened": {"zh-CN": "测温人数", "en": "Screened"},
    "hub.col.fevers": {"zh-CN": "发热预警", "en": "Fever alerts"},
    "hub.col.rechecks": {"zh-CN": "需复测", "en": "Re-checks"},
    "hub.col.unscreened": {"zh-CN": "未完成测温", "en": "Not screened"},
    "hub.col.id": {"zh-CN": "编号", "en": "No."},
    "hub.col.time": {"zh-CN": "时间", "en": "Time"},
    "hub.col.type": {"zh-CN": "类型", "en": "Type"},
    "hub.col.place": {"zh-CN": "地点", "en": "Place"},
    "hub.col.temp": {"zh-CN": "体温(°C)", "en": "Temp (°C)"},
    "hub.col.state": {"zh-CN": "状态", "en": "State"},
    "hub.col.outcome": {"zh-CN": "处置结果", "en": "Outcome"},
    "hub.col.reading": {"zh-CN": "复测体温(°C)", "en": "Re-check reading (°C)"},
    "hub.col.by": {"zh-CN": "处理人", "en": "Handled by"},
    "hub.col.note": {"zh-CN": "备注", "en": "Note"},
    # --- console (edge/hub/web) ------------------------------------------------------------------------
    # --- agent: local rules, storage health (edge/agent) ---------------------------------------------
}
