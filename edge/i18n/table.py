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
    # --- console (edge/hub/web) ------------------------------------------------------------------------
    # --- agent: local rules, storage health (edge/agent) ---------------------------------------------
    # --- alert log lines: one readable line per alert in the agent's log (edge/alerts/text.py) -------
    "alert.log.leak.burst": {
        "zh-CN": "漏水告警（爆管）：流量 {flow_lpm} L/min 已持续 {minutes} 分钟，超过 {limit_lpm} L/min",
        "en": "Water leak (burst): {flow_lpm} L/min for {minutes} min, above {limit_lpm} L/min",
    },
    "alert.log.leak.continuous_flow": {
        "zh-CN": "漏水告警（长流水）：连续 {hours} 小时每小时都有用水，最少的一小时 {min_hour_litres} L",
        "en": "Water leak (continuous flow): water ran in each of {hours} hours in a row, "
              "at least {min_hour_litres} L an hour",
    },
    "alert.log.leak.night_flow": {
        "zh-CN": "漏水告警（夜间流量）：夜间最小流量 {min_night_flow_lpm} L/min，基线 {baseline_lpm} L/min，"
                 "阈值 {threshold_lpm} L/min，已连续 {nights} 晚",
        "en": "Water leak (night flow): minimum night flow {min_night_flow_lpm} L/min, baseline "
              "{baseline_lpm} L/min, threshold {threshold_lpm} L/min, {nights} night(s) in a row",
    },
    "alert.log.after_hours_load": {
        "zh-CN": "非工作时间用电：平均 {power_w} W，已持续 {minutes} 分钟"
                 "（基线 {baseload_w} W，阈值 {threshold_w} W）",
        "en": "After-hours power use: {power_w} W on average for {minutes} min "
              "(baseload {baseload_w} W, threshold {threshold_w} W)",
    },
    "alert.log.other": {"zh-CN": "{title}：{details}", "en": "{title}: {details}"},
}
