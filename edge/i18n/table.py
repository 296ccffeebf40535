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
    # --- screening (edge/screening, drivers/thermal): unscreened, its own health, calibration drift ----
    "alert.title.screening_degraded": {"zh-CN": "测温受限", "en": "Screening degraded"},
    "alert.title.screening_ready": {"zh-CN": "测温恢复", "en": "Screening ready"},
    "alert.title.screening_blind": {"zh-CN": "测温失效", "en": "Screening blind"},
    "alert.title.calibration_drift": {"zh-CN": "测温校准漂移", "en": "Calibration drift"},
    "notify.screening_degraded": {
        "zh-CN": "【{title}】{place} {time} 自动测温暂不可靠（{reason}），请准备人工测温",
        "en": "[{title}] {place} {time} automatic screening is not reliable ({reason}): "
              "be ready to screen by hand",
    },
    "notify.screening_ready": {
        "zh-CN": "【{title}】{place} {time} 自动测温恢复正常",
        "en": "[{title}] {place} {time} automatic screening is working again",
    },
    "notify.screening_blind": {
        "zh-CN": "【{title}】{place} {time} 自动测温已失效 {seconds} 秒（{reason}），"
                 "期间有人通过未测温，请立即人工测温",
        "en": "[{title}] {place} {time} automatic screening has not worked for {seconds} s ({reason}) "
              "while people passed: screen by hand now",
    },
    "notify.calibration_drift": {
        "zh-CN": "【{title}】{place} {time} 近期健康人群平均体温读数 {mean}°C，超出合理范围 {low}–{high}°C，"
                 "相机校准可能已漂移，请用黑体或体温计核对（阈值未自动调整）",
        "en": "[{title}] {place} {time} healthy people read {mean} °C on average, outside the plausible "
              "{low}-{high} °C: the camera's calibration may have drifted; check it against the blackbody "
              "or a thermometer (the threshold was not moved)",
    },
    "notify.line.reason": {"zh-CN": "原因：{reason}", "en": "Reason: {reason}"},
    "screening.reason.too_fast": {"zh-CN": "通过太快", "en": "passed too fast"},
    "screening.reason.too_small": {"zh-CN": "距离太远或画面太小", "en": "too far away to measure"},
    "screening.reason.eyes_covered": {
        "zh-CN": "眼部被遮挡且额头无法测量",
        "en": "eyes covered, forehead not measurable",
    },
    "screening.reason.too_few_good_frames": {"zh-CN": "有效画面不足", "en": "too few clear frames"},
    "screening.reason.screening_degraded": {
        "zh-CN": "测温受限期间通过",
        "en": "passed while screening was degraded",
    },
    "screening.reason.blackbody_not_uniform": {
        "zh-CN": "黑体区域不均匀（区域跨越黑体边缘或被遮挡）",
        "en": "blackbody area not uniform (across its edge, or blocked)",
    },
    "screening.reason.blackbody_far": {"zh-CN": "黑体读数偏离设定温度（区域不在黑体上或黑体未开启）",
                                       "en": "blackbody reading far from its set temperature (area off the "
                                             "blackbody, or the blackbody is off)"},
    "screening.reason.blackbody_unstable": {"zh-CN": "黑体读数不稳定", "en": "blackbody reading unstable"},
    "screening.reason.blackbody_roi_outside": {
        "zh-CN": "黑体区域超出画面",
        "en": "blackbody area outside the frame",
    },
    "screening.reason.frozen": {"zh-CN": "相机画面冻结", "en": "camera image frozen"},
    "screening.reason.low_fps": {"zh-CN": "帧率过低", "en": "frame rate too low"},
    "screening.reason.ambient_out_of_range": {
        "zh-CN": "环境温度超出允许范围",
        "en": "ambient temperature out of range",
    },
    "screening.reason.warming_up": {"zh-CN": "相机预热中", "en": "camera warming up"},
    "screening.reason.crowd_reference_filling": {"zh-CN": "相对阈值尚在建立人群基准",
                                                 "en": "relative threshold still learning the crowd"},
    "screening.reason.unknown": {"zh-CN": "原因不明", "en": "unknown reason"},
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
    # --- console (edge/hub/web) ------------------------------------------------------------------------
    "console.title": {"zh-CN": "校园控制台", "en": "Campus console"},
    "console.nav.gate": {"zh-CN": "校门测温", "en": "Gate"},
    "console.nav.appliances": {"zh-CN": "电器控制", "en": "Appliances"},
    "console.nav.meters": {"zh-CN": "水电监测", "en": "Water & power"},
    "console.nav.nodes": {"zh-CN": "节点", "en": "Nodes"},
    "console.nav.alerts": {"zh-CN": "告警记录", "en": "Alerts"},
    "console.nav.users": {"zh-CN": "用户", "en": "Users"},
    "console.logout": {"zh-CN": "退出", "en": "Log out"},
    "console.lang.other": {"zh-CN": "English", "en": "中文"},
    "console.signed_in": {"zh-CN": "{name}（{role}）", "en": "{name} ({role})"},
    "console.role.admin": {"zh-CN": "管理员", "en": "admin"},
    "console.role.logistics": {"zh-CN": "后勤", "en": "logistics"},
    "console.role.duty": {"zh-CN": "值班", "en": "duty"},
    "console.login.title": {"zh-CN": "登录", "en": "Log in"},
    "console.login.name": {"zh-CN": "用户名", "en": "User name"},
    "console.login.password": {"zh-CN": "密码", "en": "Password"},
    "console.login.submit": {"zh-CN": "登录", "en": "Log in"},
    "console.login.failed": {"zh-CN": "用户名或密码错误", "en": "Wrong user name or password"},
    "console.login.locked": {"zh-CN": "尝试次数过多，请 {minutes} 分钟后再试",
                             "en": "Too many attempts: try again in {minutes} min"},
    "console.forbidden": {"zh-CN": "您的角色（{role}）无权执行此操作",
                          "en": "Your role ({role}) may not do this"},
    "console.not_found": {"zh-CN": "未找到", "en": "Not found"},
    "console.bad_request": {"zh-CN": "请求无效：{reason}", "en": "Bad request: {reason}"},
    "console.csrf": {"zh-CN": "页面已过期，请刷新后重试", "en": "The page has expired: reload and try again"},
    "console.live.lost": {"zh-CN": "实时连接中断，正在重连…", "en": "Live updates lost, reconnecting…"},
    "console.gate.title": {"zh-CN": "校门测温", "en": "Gate screening"},
    "console.gate.morning": {"zh-CN": "今日 {date}", "en": "Today {date}"},
    "console.gate.screened": {"zh-CN": "已测温", "en": "Screened"},
    "console.gate.alerts": {"zh-CN": "发热预警", "en": "Fever alerts"},
    "console.gate.rechecks": {"zh-CN": "需复测", "en": "Re-checks"},
    "console.gate.unscreened": {"zh-CN": "未测温通过", "en": "Unscreened"},
    "console.gate.cameras": {"zh-CN": "测温相机", "en": "Cameras"},
    "console.gate.no_cameras": {"zh-CN": "未发现测温相机", "en": "No camera reported yet"},
    "console.gate.blackbody_ok": {"zh-CN": "黑体正常", "en": "Blackbody OK"},
    "console.gate.blackbody_missing": {"zh-CN": "未检测到黑体", "en": "No blackbody"},
    "console.gate.open": {"zh-CN": "待处理预警", "en": "Open alerts"},
    "console.gate.none": {"zh-CN": "暂无待处理的预警", "en": "No open alerts"},
    "console.gate.sound": {"zh-CN": "开启提示音", "en": "Turn sound on"},
    "console.gate.sound_on": {"zh-CN": "提示音已开启", "en": "Sound on"},
    "console.alert.number": {"zh-CN": "第 {id} 号", "en": "No. {id}"},
    "console.alert.temp": {"zh-CN": "{temp} °C", "en": "{temp} °C"},
    "console.alert.threshold": {"zh-CN": "阈值 {threshold} °C", "en": "threshold {threshold} °C"},
    "console.alert.snapshot": {"zh-CN": "{place} 热成像截图", "en": "{place} thermal snapshot"},
    "console.alert.acknowledge": {"zh-CN": "确认", "en": "Acknowledge"},
    "console.alert.acked_by": {"zh-CN": "{by} 于 {time} 确认", "en": "Acknowledged by {by} at {time}"},
    "console.alert.closed_by": {"zh-CN": "{by} 于 {time} 关闭", "en": "Closed by {by} at {time}"},
    "console.alert.reading": {"zh-CN": "复测体温（°C）", "en": "Handheld reading (°C)"},
    "console.alert.outcome": {"zh-CN": "处理结果", "en": "Outcome"},
    "console.alert.note": {"zh-CN": "备注", "en": "Note"},
    "console.alert.close": {"zh-CN": "记录并关闭", "en": "Record and close"},
    "console.alert.bad_reading": {"zh-CN": "复测体温应在 30 至 45 °C 之间",
                                  "en": "The reading must be 30 to 45 °C"},
    "console.alert.bad_outcome": {"zh-CN": "请选择处理结果", "en": "Choose an outcome"},
    "console.alert.already": {"zh-CN": "该预警已被处理", "en": "This alert was already handled"},
    "console.appl.title": {"zh-CN": "电器控制", "en": "Appliances"},
    "console.appl.on": {"zh-CN": "开", "en": "On"},
    "console.appl.off": {"zh-CN": "关", "en": "Off"},
    "console.appl.switch_on": {"zh-CN": "打开 {name}", "en": "Switch {name} on"},
    "console.appl.switch_off": {"zh-CN": "关闭 {name}", "en": "Switch {name} off"},
    "console.appl.state_on": {"zh-CN": "开启", "en": "on"},
    "console.appl.state_off": {"zh-CN": "关闭", "en": "off"},
    "console.appl.state_unknown": {"zh-CN": "未知", "en": "unknown"},
    "console.appl.pending": {"zh-CN": "等待设备回复…", "en": "Waiting for the device…"},
    "console.appl.ok": {"zh-CN": "设备已执行", "en": "Done by the device"},
    "console.appl.refused": {"zh-CN": "设备拒绝：{error}", "en": "Refused: {error}"},
    "console.appl.timeout": {"zh-CN": "设备未回复（超时）", "en": "No reply (timed out)"},
    "console.appl.hub_offline": {"zh-CN": "中心未连接消息服务器，未发送",
                                 "en": "Not sent: the hub is not connected to the broker"},
    "console.appl.groups": {"zh-CN": "分组控制", "en": "Groups"},
    "console.appl.group_on": {"zh-CN": "{group} 全部打开", "en": "All {group} on"},
    "console.appl.group_off": {"zh-CN": "{group} 全部关闭", "en": "All {group} off"},
    "console.appl.group_result": {"zh-CN": "{ok}/{total} 台已执行", "en": "{ok} of {total} done"},
    "console.appl.none": {"zh-CN": "尚无继电器上报", "en": "No relay reported yet"},
    "console.appl.node_offline": {"zh-CN": "节点离线", "en": "node offline"},
    "console.appl.audit": {"zh-CN": "操作记录", "en": "Switching log"},
    "console.col.time": {"zh-CN": "时间", "en": "Time"},
    "console.col.user": {"zh-CN": "操作人", "en": "By"},
    "console.col.target": {"zh-CN": "对象", "en": "What"},
    "console.col.action": {"zh-CN": "操作", "en": "Action"},
    "console.col.result": {"zh-CN": "结果", "en": "Result"},
    "console.col.id": {"zh-CN": "编号", "en": "No."},
    "console.col.type": {"zh-CN": "类型", "en": "Type"},
    "console.col.place": {"zh-CN": "位置", "en": "Place"},
    "console.col.value": {"zh-CN": "数值", "en": "Value"},
    "console.col.state": {"zh-CN": "状态", "en": "State"},
    "console.col.outcome": {"zh-CN": "处理结果", "en": "Outcome"},
    "console.col.reading": {"zh-CN": "复测体温", "en": "Reading"},
    "console.col.node": {"zh-CN": "节点", "en": "Node"},
    "console.col.device": {"zh-CN": "设备", "en": "Device"},
    "console.col.name": {"zh-CN": "名称", "en": "Name"},
    "console.col.role": {"zh-CN": "角色", "en": "Role"},
    "console.meters.title": {"zh-CN": "水电监测", "en": "Water and electricity"},
    "console.meters.today": {"zh-CN": "今日", "en": "Today"},
    "console.meters.week": {"zh-CN": "本周", "en": "This week"},
    "console.meters.month": {"zh-CN": "本月", "en": "This month"},
    "console.meters.electricity": {"zh-CN": "用电（kWh）", "en": "Electricity (kWh)"},
    "console.meters.water": {"zh-CN": "用水（m³）", "en": "Water (m³)"},
    "console.meters.building": {"zh-CN": "楼栋/节点", "en": "Building / node"},
    "console.meters.meter": {"zh-CN": "表计", "en": "Meter"},
    "console.meters.total": {"zh-CN": "合计", "en": "Total"},
    "console.meters.night_flow": {"zh-CN": "夜间最小流量（L/min，0–5 时）",
                                  "en": "Night-flow baseline (L/min, 0–5 h)"},
    "console.meters.chart_today": {"zh-CN": "{name}：今日逐时", "en": "{name}: today by hour"},
    "console.meters.chart_month": {"zh-CN": "{name}：本月逐日", "en": "{name}: this month by day"},
    "console.meters.ranking": {"zh-CN": "非工作时间用电排名（本周，{hours} 以外及周末）",
                               "en": "After-hours energy ranking (this week, outside {hours} and weekends)"},
    "console.meters.rank": {"zh-CN": "名次", "en": "Rank"},
    "console.meters.alerts": {"zh-CN": "漏水与非工作时间用电告警", "en": "Leak and after-hours alerts"},
    "console.meters.none": {"zh-CN": "尚无表计上报", "en": "No meter reported yet"},
    "console.meters.no_readings": {"zh-CN": "未配置读数数据库（hub 配置 readings）",
                                   "en": "No readings database configured (hub config `readings`)"},
    "console.meters.unavailable": {"zh-CN": "读数数据库不可用：{error}",
                                   "en": "Readings unavailable: {error}"},
    "console.nodes.title": {"zh-CN": "节点状态", "en": "Nodes"},
    "console.nodes.online": {"zh-CN": "在线", "en": "online"},
    "console.nodes.offline": {"zh-CN": "离线", "en": "offline"},
    "console.nodes.unknown": {"zh-CN": "状态未知", "en": "status unknown"},
    "console.nodes.last_seen": {"zh-CN": "最后通信", "en": "Last seen"},
    "console.nodes.version": {"zh-CN": "版本", "en": "Version"},
    "console.nodes.devices": {"zh-CN": "设备", "en": "Devices"},
    "console.nodes.errors": {"zh-CN": "故障", "en": "Errors"},
    "console.nodes.outbox": {"zh-CN": "待发送队列", "en": "Outbox"},
    "console.nodes.none": {"zh-CN": "尚无节点上线", "en": "No node seen yet"},
    "console.alerts.title": {"zh-CN": "告警记录", "en": "Alert journal"},
    "console.alerts.all": {"zh-CN": "全部", "en": "All"},
    "console.alerts.from": {"zh-CN": "从", "en": "From"},
    "console.alerts.to": {"zh-CN": "到", "en": "To"},
    "console.alerts.filter": {"zh-CN": "筛选", "en": "Filter"},
    "console.alerts.csv": {"zh-CN": "导出 CSV", "en": "Export CSV"},
    "console.alerts.none": {"zh-CN": "没有符合条件的记录", "en": "No matching alerts"},
    "console.alerts.more": {"zh-CN": "更早的记录", "en": "Older"},
    "console.users.title": {"zh-CN": "用户管理", "en": "Users"},
    "console.users.add": {"zh-CN": "添加用户", "en": "Add user"},
    "console.users.remove": {"zh-CN": "删除", "en": "Remove"},
    "console.users.added": {"zh-CN": "已添加用户 {name}", "en": "User {name} added"},
    "console.users.error": {"zh-CN": "无法添加用户：{error}", "en": "Cannot add the user: {error}"},
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
