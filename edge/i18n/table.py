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
    # One line per event type: "【{title}】{place} {time} ..." (the headline of every message).
    "notify.fever": {
        "zh-CN": "【{title}】{place} {time} 体温 {temp}°C（阈值 {threshold}°C），请立即复测",
        "en": "[{title}] {place} {time} {temp} °C (threshold {threshold} °C): re-check now",
    },
    "notify.recheck": {
        "zh-CN": "【{title}】{place} {time} 眼部被遮挡，额温约 {temp}°C，请摘下眼镜后复测",
        "en": "[{title}] {place} {time} eyes covered, forehead about {temp} °C: re-screen without glasses",
    },
    "notify.unscreened": {
        "zh-CN": "【{title}】{place} {time} 有人未完成测温即通过，请核查",
        "en": "[{title}] {place} {time} someone passed without a temperature reading: please check",
    },
    "notify.leak.burst": {
        "zh-CN": "【{title}】{place} {time} 疑似爆管：流量 {flow} L/min 已持续 {minutes} 分钟"
        "（上限 {limit} L/min），请立即关阀",
        "en": "[{title}] {place} {time} burst pipe: {flow} L/min for {minutes} min (limit {limit} L/min): "
        "close the valve now",
    },
    "notify.leak.night_flow": {
        "zh-CN": "【{title}】{place} {time} 夜间最小流量 {flow} L/min，"
        "连续 {nights} 晚高于基线 {baseline} L/min（阈值 {limit} L/min），疑似漏水，请检查",
        "en": "[{title}] {place} {time} night flow {flow} L/min above the usual {baseline} L/min "
        "(threshold {limit} L/min) for {nights} night(s): likely a leak, please check",
    },
    "notify.leak.continuous_flow": {
        "zh-CN": "【{title}】{place} {time} 连续 {hours} 小时用水不断（最小 {flow} L/min），"
        "疑似水箱或暗管漏水，请检查",
        "en": "[{title}] {place} {time} water has run for {hours} hours without a break "
        "(at least {flow} L/min): likely a cistern or hidden pipe leak, please check",
    },
    "notify.leak.other": {
        "zh-CN": "【{title}】{place} {time} 疑似漏水（{reason}），请检查",
        "en": "[{title}] {place} {time} possible leak ({reason}): please check",
    },
    "notify.after_hours_load": {
        "zh-CN": "【{title}】{place} {time} 非工作时间功率 {power} W，超出基线 {baseload} W（阈值 {limit} W）"
        "已 {minutes} 分钟，请检查是否有设备未关",
        "en": "[{title}] {place} {time} {power} W after hours, above the usual {baseload} W "
        "(threshold {limit} W) for {minutes} min: check for equipment left on",
    },
    "notify.meter_offline": {
        "zh-CN": "【{title}】{place} {time} 连续 {failures} 次读数失败（{error}），请检查表计线路",
        "en": "[{title}] {place} {time} {failures} readings failed in a row ({error}): "
        "check the meter's wiring",
    },
    "notify.meter_online": {
        "zh-CN": "【{title}】{place} {time} 恢复读数（离线约 {minutes} 分钟）",
        "en": "[{title}] {place} {time} readings are back (offline for about {minutes} min)",
    },
    "notify.camera_offline": {
        "zh-CN": "【{title}】{place} {time} 测温相机无画面（{error}），此通道暂停测温，请人工测温",
        "en": "[{title}] {place} {time} the thermal camera is not delivering frames ({error}): "
        "screen by hand until it is back",
    },
    "notify.camera_online": {
        "zh-CN": "【{title}】{place} {time} 测温相机恢复，自动测温继续",
        "en": "[{title}] {place} {time} the thermal camera is back: screening resumes",
    },
    "notify.node_offline": {
        "zh-CN": "【{title}】{place} {time} 节点失去联系，其设备暂无数据和告警，请检查网络和电源",
        "en": "[{title}] {place} {time} the node is unreachable: no data or alerts from its devices "
        "until it is back; check its network and power",
    },
    "notify.node_online": {
        "zh-CN": "【{title}】{place} {time} 节点恢复在线",
        "en": "[{title}] {place} {time} the node is back online",
    },
    "notify.counter_reset": {
        "zh-CN": "【{title}】{place} {time} 计数从 {previous} 变为 {current}（换表或溢出），请核对",
        "en": "[{title}] {place} {time} the counter went from {previous} to {current} "
        "(meter replaced or rolled over): please verify",
    },
    "notify.maintenance_due": {
        "zh-CN": "【{title}】{place} {time} {detail}，请安排维保",
        "en": "[{title}] {place} {time} {detail}: please schedule maintenance",
    },
    "notify.rule_action": {
        "zh-CN": "【{title}】{place} {time} 已自动执行 {action}（{target}），由 {trigger} 触发",
        "en": "[{title}] {place} {time} did {action} ({target}) automatically, triggered by {trigger}",
    },
    "notify.storage_full": {
        "zh-CN": "【{title}】{place} {time} 本地存储已满，旧数据可能被丢弃，请清理或更换存储卡",
        "en": "[{title}] {place} {time} local storage is full: old data may be dropped; "
        "free space or replace the card",
    },
    "notify.storage_reset": {
        "zh-CN": "【{title}】{place} {time} 本地数据库损坏后已重建，部分未上报数据可能丢失",
        "en": "[{title}] {place} {time} the local database was damaged and rebuilt: "
        "some unsent data may be lost",
    },
    "notify.other": {
        "zh-CN": "【{title}】{place} {time} {type}：{detail}",
        "en": "[{title}] {place} {time} {type}: {detail}",
    },
    # E-mail subject and DingTalk/Feishu title of one alert.
    "notify.subject": {"zh-CN": "【{title}】{place}", "en": "[{title}] {place}"},
    "notify.escalation.subject": {"zh-CN": "【{title}】{subject}", "en": "[{title}] {subject}"},
    # What a few texts put where a figure is unknown, and yes / no.
    "notify.unknown": {"zh-CN": "未知", "en": "unknown"},
    "notify.maintenance_default": {"zh-CN": "已到保养周期", "en": "the service interval is reached"},
    "notify.action.on": {"zh-CN": "打开", "en": "switch on"},
    "notify.action.off": {"zh-CN": "关闭", "en": "switch off"},
    "notify.action.pulse": {"zh-CN": "短时启动", "en": "pulse"},
    # Lines under the headline.
    "notify.line.place": {"zh-CN": "地点：{place}", "en": "Place: {place}"},
    "notify.line.time": {"zh-CN": "时间：{stamp}", "en": "Time: {stamp}"},
    "notify.line.source": {
        "zh-CN": "设备：{site} / {node} / {device}",
        "en": "Device: {site} / {node} / {device}",
    },
    "notify.line.alert": {"zh-CN": "告警编号：#{id}", "en": "Alert no.: #{id}"},
    "notify.line.fever": {
        "zh-CN": "测量不确定度 ±{uncertainty}°C，{frames} 帧",
        "en": "Measurement uncertainty ±{uncertainty} °C, {frames} frames",
    },
    "notify.line.ack": {
        "zh-CN": "确认后请记录复测结果：campus-edge hub ack {id}",
        "en": "Acknowledge and record the follow-up: campus-edge hub ack {id}",
    },
    # Snapshot notes (each channel adds the one that fits what it can carry).
    "notify.snapshot.next": {"zh-CN": "热像快照见下一条消息", "en": "Thermal snapshot in the next message"},
    "notify.snapshot.attached": {"zh-CN": "热像快照见附件", "en": "Thermal snapshot attached"},
    "notify.snapshot.console": {
        "zh-CN": "热像快照请在控制台查看（告警 #{id}）",
        "en": "Thermal snapshot in the console (alert #{id})",
    },
    "notify.snapshot.link": {"zh-CN": "热像快照", "en": "Thermal snapshot"},
    "notify.snapshot.too_big": {
        "zh-CN": "热像快照过大（{size} KB），无法通过机器人发送，请在控制台查看（告警 #{id}）",
        "en": "Thermal snapshot too large to send by robot ({size} KB): see the console (alert #{id})",
    },
    "notify.snapshot.missing": {
        "zh-CN": "热像快照文件缺失（告警 #{id}）",
        "en": "Thermal snapshot file missing (alert #{id})",
    },
    # Many alerts in one message (a channel's rate limit reached), and escalation.
    "notify.summary.title": {"zh-CN": "告警汇总", "en": "Alert summary"},
    "notify.summary.head": {
        "zh-CN": "【{title}】{start}–{end} 共 {count} 条告警",
        "en": "[{title}] {count} alerts, {start}–{end}",
    },
    "notify.summary.more": {
        "zh-CN": "……另有 {count} 条，请在控制台查看",
        "en": "… and {count} more in the console",
    },
    "notify.escalation.title": {"zh-CN": "升级提醒", "en": "Escalation"},
    "notify.escalation.head": {
        "zh-CN": "【{title}】告警 #{id} 已 {minutes} 分钟无人确认",
        "en": "[{title}] alert #{id} not acknowledged for {minutes} min",
    },
    # A test message (to check a new robot or mailbox from the CLI or the console).
    "notify.test.title": {"zh-CN": "测试消息", "en": "Test"},
    "notify.test.head": {
        "zh-CN": "【{title}】校园告警通知通道 {channel} 已接通（{stamp}），告警将发送到这里",
        "en": "[{title}] campus alert channel {channel} works ({stamp}): alerts will arrive here",
    },
    # E-mail only.
    "notify.email.footer": {
        "zh-CN": "此邮件由 campus-edge 校园中心自动发送，请勿直接回复。",
        "en": "Sent automatically by the campus-edge hub; please do not reply.",
    },
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
    # --- upkeep: maintenance, repair requests, surveillance patrol (edge/hub/upkeep, edge/patrol) ---------
    "alert.title.repair_request": {"zh-CN": "报修", "en": "Repair request"},
    "alert.title.camera_fault": {"zh-CN": "监控巡查异常", "en": "Camera fault"},
    "alert.title.camera_ok": {"zh-CN": "监控恢复正常", "en": "Camera OK"},
    "notify.repair_request": {
        "zh-CN": "【{title}】{place} {time} {detail}（报修人：{by}，报修单 {repair}），请后勤尽快受理",
        "en": "[{title}] {place} {time} {detail} (reported by {by}, request {repair}): logistics, please "
        "respond",
    },
    "notify.camera_fault": {
        "zh-CN": "【{title}】{place} {time} 自动巡查发现：{reason}，请检查摄像机",
        "en": "[{title}] {place} {time} the patrol found: {reason}; please check the camera",
    },
    "notify.camera_ok": {
        "zh-CN": "【{title}】{place} {time} 画面已恢复正常",
        "en": "[{title}] {place} {time} the picture is back to normal",
    },
    "upkeep.sep": {"zh-CN": "；", "en": "; "},
    "upkeep.due.detail": {"zh-CN": "{task}到期：{why}", "en": "{task} due: {why}"},
    "upkeep.due.reminder": {"zh-CN": "（第 {n} 次提醒）", "en": " (reminder {n})"},
    "upkeep.reason.litres": {"zh-CN": "已用水 {used} L（每 {every} L）",
                             "en": "{used} L used (every {every} L)"},
    "upkeep.reason.on_hours": {"zh-CN": "已运行 {used} 小时（每 {every} 小时）",
                               "en": "{used} h on (every {every} h)"},
    "upkeep.reason.days": {"zh-CN": "距上次维保 {used} 天（每 {every} 天）",
                           "en": "{used} days since the last service (every {every} days)"},
    "upkeep.reason.term": {"zh-CN": "本学期（{term}）尚未进行", "en": "not yet done this term ({term})"},
    "upkeep.repair.system": {"zh-CN": "系统自动", "en": "the system"},
    "upkeep.repair.auto.meter_offline": {"zh-CN": "表计自 {since} 起离线（{detail}），请检修",
                                         "en": "meter offline since {since} ({detail}): please repair"},
    "upkeep.repair.auto.camera_offline": {"zh-CN": "相机自 {since} 起离线（{detail}），请检修",
                                          "en": "camera offline since {since} ({detail}): please repair"},
    "upkeep.repair.auto.camera_fault": {"zh-CN": "监控自 {since} 起巡查异常（{detail}），请检修",
                                        "en": "camera faulty since {since} ({detail}): please repair"},
    "upkeep.report.title": {"zh-CN": "维保与报修报告 {start} 至 {end}",
                            "en": "Upkeep report {start} to {end}"},
    "upkeep.report.generated": {"zh-CN": "生成时间：{stamp}（{tz}）", "en": "Generated {stamp} ({tz})"},
    "upkeep.report.maintenance": {"zh-CN": "设备维保", "en": "Maintenance"},
    "upkeep.report.repairs": {"zh-CN": "报修处理", "en": "Repair requests"},
    "upkeep.report.summary": {
        "zh-CN": "按时 {on_time} 项，逾期 {late} 项，未完成 {missed} 项；"
        "报修 {repairs} 单，已修复 {fixed} 单，平均响应 {response}，平均修复 {repair}",
        "en": "{on_time} on time, {late} late, {missed} not done; "
        "{repairs} repair request(s), {fixed} fixed, mean response {response}, mean repair {repair}",
    },
    "upkeep.timing.on_time": {"zh-CN": "按时完成", "en": "On time"},
    "upkeep.timing.late": {"zh-CN": "逾期完成", "en": "Late"},
    "upkeep.timing.missed": {"zh-CN": "未完成", "en": "Not done"},
    "upkeep.timing.not_due": {"zh-CN": "未到期", "en": "Not due"},
    "upkeep.repair.state.reported": {"zh-CN": "已报修", "en": "Reported"},
    "upkeep.repair.state.accepted": {"zh-CN": "已受理", "en": "Accepted"},
    "upkeep.repair.state.fixed": {"zh-CN": "已修复", "en": "Fixed"},
    "upkeep.repair.state.deferred": {"zh-CN": "暂缓", "en": "Deferred"},
    "upkeep.repair.deferred": {"zh-CN": "暂无法修复：{reason}，预计 {date}",
                               "en": "cannot fix now: {reason}, expected {date}"},
    "upkeep.col.item": {"zh-CN": "设备", "en": "Item"},
    "upkeep.col.task": {"zh-CN": "维保项目", "en": "Task"},
    "upkeep.col.result": {"zh-CN": "完成情况", "en": "Result"},
    "upkeep.col.done": {"zh-CN": "完成时间", "en": "Done"},
    "upkeep.col.due": {"zh-CN": "到期时间", "en": "Due"},
    "upkeep.col.by": {"zh-CN": "维保人", "en": "By"},
    "upkeep.col.usage": {"zh-CN": "期间用量", "en": "Usage"},
    "upkeep.col.parts": {"zh-CN": "更换配件", "en": "Parts"},
    "upkeep.col.note": {"zh-CN": "备注", "en": "Note"},
    "upkeep.col.id": {"zh-CN": "单号", "en": "No."},
    "upkeep.col.place": {"zh-CN": "地点", "en": "Place"},
    "upkeep.col.description": {"zh-CN": "故障描述", "en": "Description"},
    "upkeep.col.reported": {"zh-CN": "报修时间", "en": "Reported"},
    "upkeep.col.reporter": {"zh-CN": "报修人", "en": "Reported by"},
    "upkeep.col.state": {"zh-CN": "状态", "en": "State"},
    "upkeep.col.response": {"zh-CN": "响应用时", "en": "Response"},
    "upkeep.col.repair": {"zh-CN": "修复用时", "en": "Repair time"},
    "upkeep.duration.minutes": {"zh-CN": "{n} 分钟", "en": "{n} min"},
    "upkeep.duration.hours": {"zh-CN": "{n} 小时", "en": "{n} h"},
    "upkeep.duration.days": {"zh-CN": "{n} 天", "en": "{n} days"},
    "patrol.reason.offline": {"zh-CN": "无法连接", "en": "unreachable"},
    "patrol.reason.decode": {"zh-CN": "画面无法解码", "en": "picture not decoding"},
    "patrol.reason.resolution": {"zh-CN": "分辨率不符", "en": "wrong resolution"},
    "patrol.reason.fps": {"zh-CN": "帧率过低", "en": "frame rate too low"},
    "patrol.reason.dark": {"zh-CN": "画面全黑", "en": "black picture"},
    "patrol.reason.washed_out": {"zh-CN": "画面过曝", "en": "washed out"},
    "patrol.reason.frozen": {"zh-CN": "画面冻结", "en": "frozen picture"},
    "patrol.reason.blurred": {"zh-CN": "画面模糊（失焦）", "en": "out of focus"},
    "patrol.reason.moved": {"zh-CN": "视角偏移", "en": "camera moved"},
    "patrol.reason.covered": {"zh-CN": "镜头被遮挡", "en": "lens covered"},
    "patrol.sheet.title": {"zh-CN": "监控巡查日报 {date}", "en": "Camera patrol sheet {date}"},
    "patrol.sheet.cameras": {"zh-CN": "各摄像机状态", "en": "Cameras"},
    "patrol.sheet.outages": {"zh-CN": "故障记录", "en": "Outages"},
    "patrol.sheet.none": {"zh-CN": "当日无故障", "en": "No outages that day"},
    "patrol.sheet.ongoing": {"zh-CN": "未恢复", "en": "ongoing"},
    "patrol.status.ok": {"zh-CN": "正常", "en": "OK"},
    "patrol.status.fault": {"zh-CN": "异常", "en": "Fault"},
    "patrol.status.unknown": {"zh-CN": "未巡查", "en": "Not visited"},
    "patrol.col.camera": {"zh-CN": "摄像机", "en": "Camera"},
    "patrol.col.status": {"zh-CN": "状态", "en": "Status"},
    "patrol.col.checked": {"zh-CN": "巡查时间", "en": "Checked"},
    "patrol.col.reason": {"zh-CN": "原因", "en": "Reason"},
    "patrol.col.since": {"zh-CN": "开始", "en": "From"},
    "patrol.col.until": {"zh-CN": "恢复", "en": "Until"},
    "patrol.col.duration": {"zh-CN": "时长", "en": "Duration"},
    # --- console (edge/hub/web) ------------------------------------------------------------------------
    # --- agent: local rules, storage health (edge/agent) ---------------------------------------------
    # local rules (edge/agent/rules.py): the log line when a rule switches a relay, or cannot
    "agent.rule.done": {
        "zh-CN": "联动「{rule}」：{trigger}{event} → {target}{action}",
        "en": "Rule {rule}: {event} at {trigger} -> {target} {action}",
    },
    "agent.rule.failed": {
        "zh-CN": "联动「{rule}」未能执行：{trigger}{event} → {target}{action}，原因：{error}",
        "en": "Rule {rule} failed: {event} at {trigger} -> {target} {action}: {error}",
    },
    "agent.rule.action.on": {"zh-CN": "打开", "en": "on"},
    "agent.rule.action.off": {"zh-CN": "关闭", "en": "off"},
    "agent.rule.action.pulse": {"zh-CN": "接通 {seconds} 秒", "en": "on for {seconds} s"},
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
