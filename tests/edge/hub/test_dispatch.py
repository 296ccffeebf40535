"""Notices through the hub to real local services: the robot server (WeCom / DingTalk / webhook formats)
and an SMTP server. Every alert reaches every channel its rules name; outages, escalation, quiet hours,
rate limits and a hub kill -9 lose nothing and send nothing twice that the service confirmed."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.broker import Mosquitto
from tests.conftest import wait_for
from tests.edge.hub.support import SITE, RunningHub, fever, hub_raw_config, info, png
from tests.support.processes import HubProcess
from tests.support.robots import RobotServer

BASE = f"campus/{SITE}/gate"
SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def run_hub(broker: Mosquitto, tmp_path: Path) -> Iterator[Callable[..., RunningHub]]:
    running: list[RunningHub] = []

    def start(**extra) -> RunningHub:
        rh = RunningHub(hub_raw_config(broker, tmp_path, **extra))
        running.append(rh)
        return rh

    yield start
    for rh in running:
        rh.stop()


def contents(robots: RobotServer, service: str) -> list[str]:
    out = []
    for r in robots.messages(service):
        body = r.body
        if service == "wecom":
            out.append((body.get("markdown") or body.get("text") or {}).get("content", "")
                       if body.get("msgtype") != "image" else "<image>")
        elif service == "dingtalk":
            md = (body.get("markdown") or {}).get("text", "")
            out.append(md or (body.get("text") or {}).get("content", ""))
        else:
            out.append(str(body))
    return out


def ids_in(robots: RobotServer, service: str) -> list[int]:
    """Alert numbers named by the accepted webhook posts (each notice's JSON data lists its alerts)."""
    return [a["id"] for r in robots.messages(service) for a in r.body["alerts"]]


@pytest.mark.parametrize("language", ["zh-CN", "en"])
def test_an_alert_reaches_every_channel_its_rules_name(run_hub, mqtt_probe, robots, mailbox,
                                                       language) -> None:
    key = robots.wecom_key()
    channels = [{"id": "gate-group", "type": "wecom", "url": robots.wecom_url(key)},
                {"id": "office", "type": "dingtalk", "url": robots.dingtalk_robot("SECtest"),
                 "secret": "SECtest"},
                {**mailbox.config(), "id": "head"},
                {"id": "ops", "type": "webhook", "url": robots.webhook_url()}]
    rules = [{"events": ["fever"], "channels": ["gate-group", "head"]},
             {"events": ["fever", "leak"], "channels": ["office"]},
             {"events": ["leak"], "channels": ["ops"]}]
    rh = run_hub(channels=channels, rules=rules, language=language)
    probe = mqtt_probe()
    probe.publish(f"{BASE}/info", info(("cam-east", "thermal_camera", "东门")), retain=True)
    wait_for(lambda: rh.journal.nodes().get((SITE, "gate")), what="the info")
    img = png(7)
    at = int(datetime(2026, 12, 1, 7, 42, 5, tzinfo=SH).timestamp() * 1000)
    probe.publish(f"{BASE}/cam-east/event", fever(1, ts=at, snapshot=img))
    wait_for(lambda: len(robots.messages("wecom")) == 2 and robots.messages("dingtalk") and mailbox.messages,
             15, "the fever on WeCom (text and image), DingTalk and e-mail")
    wecom = contents(robots, "wecom")
    if language == "zh-CN":
        assert "【发热预警】东门 07:42 体温 38.1°C（阈值 37.3°C），请立即复测" in wecom[0]
    else:
        assert "[Fever] East" not in wecom[0] and "东门 07:42" in wecom[0] and "38.1" in wecom[0]
        assert "re-check" in wecom[0].lower()
    image = robots.messages("wecom")[1].body["image"]
    assert base64.b64decode(image["base64"]) == img and image["md5"] == hashlib.md5(img).hexdigest()
    assert "东门" in contents(robots, "dingtalk")[0]
    mail = mailbox.messages[0].message
    assert "东门" in mail["Subject"]
    assert any(p.get_content_type() == "image/png" for p in mail.iter_attachments())
    assert robots.messages("webhook") == []  # no rule sends fevers there
    probe.publish(f"campus/{SITE}/meters/water/event", {"ts": at, "seq": 1, "type": "leak", "reason": "burst",
                                                      "flow_lpm": 160.0})
    wait_for(lambda: robots.messages("webhook") and len(robots.messages("dingtalk")) == 2, 15, "the leak")
    time.sleep(0.5)
    assert len(robots.messages("wecom")) == 2 and len(mailbox.messages) == 1  # leak not sent there
    rows = rh.journal.deliveries()
    assert sorted((r["channel"], r["state"]) for r in rows) == [
        ("gate-group", "sent"), ("head", "sent"), ("office", "sent"), ("office", "sent"), ("ops", "sent")]


def test_receiver_down_then_up_everything_arrives_once(run_hub, mqtt_probe, robots, caplog) -> None:
    rh = run_hub(channels=[{"id": "ops", "type": "webhook", "url": robots.webhook_url()}],
                 rules=[{"events": ["any"], "channels": ["ops"]}], delivery={"warn_after_failures": 3})
    probe = mqtt_probe()
    robots.stop()
    for i in range(1, 6):
        probe.publish(f"{BASE}/cam/event", fever(i))
    wait_for(lambda: rh.hub.dispatcher.counters["retried"] >= 10, 20, "several failed attempts")
    assert rh.journal.delivery_counts() == {"pending": 5}
    alarms = [r.getMessage() for r in caplog.records
              if r.levelname == "ERROR" and "has failed" in r.getMessage()]
    assert len(alarms) == 1 and "channel ops" in alarms[0] and "check the service" in alarms[0]  # not a flood
    robots.start()
    wait_for(lambda: rh.journal.delivery_counts() == {"sent": 5}, 20, "all five delivered")
    assert sorted(ids_in(robots, "webhook")) == [a.id for a in reversed(rh.journal.alerts())]  # once each


def test_a_service_error_code_is_retried_and_a_refusal_is_kept_as_failed(run_hub, mqtt_probe, robots,
                                                                        caplog) -> None:
    key = robots.wecom_key()
    robots.reply("wecom", {"errcode": -1, "errmsg": "system busy"}, times=2)
    rh = run_hub(channels=[{"id": "gate-group", "type": "wecom", "url": robots.wecom_url(key)},
                           {"id": "bad", "type": "wecom", "url": robots.wecom_url("not-a-key")}],
                 rules=[{"events": ["fever"], "channels": ["gate-group", "bad"]}])
    probe = mqtt_probe()
    probe.publish(f"{BASE}/cam/event", fever(1))
    wait_for(lambda: rh.journal.delivery_counts() == {"sent": 1, "failed": 1}, 20, "sent and failed")
    assert len(robots.messages("wecom")) == 1
    failed = [r for r in rh.journal.deliveries() if r["state"] == "failed"][0]
    assert failed["channel"] == "bad" and failed["detail"]
    assert any("REFUSED" in r.getMessage() and "bad" in r.getMessage() for r in caplog.records)


def test_escalation_fires_only_while_the_alert_is_new(run_hub, mqtt_probe, robots) -> None:
    rh = run_hub(channels=[{"id": "gate-group", "type": "webhook", "url": robots.webhook_url("gate")},
                           {"id": "head", "type": "webhook", "url": robots.webhook_url("head")}],
                 rules=[{"events": ["fever"], "channels": ["gate-group"],
                         "escalate": {"after_minutes": 0.03, "channels": ["head"]}}])  # 1.8 s
    probe = mqtt_probe()
    probe.publish(f"{BASE}/cam/event", fever(1))
    probe.publish(f"{BASE}/cam/event", fever(2))
    first, second = wait_for(lambda: len(rh.journal.alerts()) == 2 and rh.journal.alerts(), what="alerts")
    rh.journal.acknowledge(second.id, "王老师", int(time.time() * 1000))  # seq 2 is the newest
    wait_for(lambda: rh.journal.delivery_counts() == {"sent": 3, "cancelled": 1}, 15, "escalation decided")
    head = [r for r in robots.messages("webhook") if r.path.endswith("/head")]
    assert [a["id"] for r in head for a in r.body["alerts"]] == [first.id]
    assert head[0].body.get("kind") == "escalation"


def test_quiet_hours_hold_the_notice(run_hub, mqtt_probe, robots) -> None:
    now = datetime.now(SH)
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=2)).strftime("%H:%M")
    rh = run_hub(channels=[{"id": "office", "type": "webhook", "url": robots.webhook_url()}],
                 rules=[{"events": ["after_hours_load"], "channels": ["office"],
                         "quiet_hours": f"{start}-{end}"},
                        {"events": ["leak"], "channels": ["office"]}])
    probe = mqtt_probe()
    probe.publish(f"campus/{SITE}/meters/power/event", {"ts": 1, "seq": 1, "type": "after_hours_load",
                                                      "power_w": 3000.0})
    probe.publish(f"campus/{SITE}/meters/water/event", {"ts": 1, "seq": 1, "type": "leak", "reason": "burst"})
    wait_for(lambda: robots.messages("webhook"), 15, "the leak (no quiet hours)")
    time.sleep(1.5)
    assert [a["type"] for r in robots.messages("webhook") for a in r.body["alerts"]] == ["leak"]
    held = [r for r in rh.journal.deliveries() if r["state"] == "pending"]
    assert len(held) == 1  # held, not dropped: due when the quiet hours end
    end_local = datetime.combine(now.date(), datetime.strptime(end, "%H:%M").time(), SH)
    if end_local < now:
        end_local += timedelta(days=1)
    assert held[0]["due_ms"] == int(end_local.timestamp() * 1000)


def test_100_alerts_through_a_rate_limited_robot_all_accounted_for(run_hub, mqtt_probe, robots) -> None:
    # WeCom allows 20 messages a minute per robot; the same window scaled to 20 per 6 s keeps the test short.
    key = robots.wecom_key()
    robots.limit("wecom", 20, 6.0)
    rh = run_hub(channels=[{"id": "gate-group", "type": "wecom", "url": robots.wecom_url(key),
                            "rate_limit": {"messages": 20, "per_seconds": 6.0}}],
                 rules=[{"events": ["fever"], "channels": ["gate-group"]}])
    probe = mqtt_probe()
    for i in range(1, 101):
        probe.publish(f"{BASE}/cam/event", fever(i))
    wait_for(lambda: rh.journal.delivery_counts() == {"sent": 100}, 60, "all 100 delivered")
    # The hub keeps the limit with its own window; the robot's window starts when a request arrives, so a
    # request sent the instant the hub's window frees may still be refused (45009): it is retried, and
    # counted below only once it was accepted.
    refused = [r for r in robots.all_requests("wecom") if not r.accepted]
    assert len(refused) <= len(robots.messages("wecom")) // 2
    ids = sorted(a.id for a in rh.journal.alerts(limit=None))
    named = []
    for text in contents(robots, "wecom"):
        if "告警编号" in text:  # one alert
            named += [int(x) for x in re.findall(r"告警编号：#(\d+)", text)]
        else:  # a summary lists each alert as "#id ..."
            named += [int(x) for x in re.findall(r"#(\d+) ", text)]
    assert sorted(named) == ids  # every alert exactly once, singly or in a summary
    rows = rh.journal.deliveries()
    assert sum(r["summary"] for r in rows) > 0 and rh.hub.dispatcher.counters["summaries"] >= 1
    assert rh.hub.dispatcher.counters["sent"] + rh.hub.dispatcher.counters["summarised"] == 100


def test_hub_kill_9_mid_delivery_loses_nothing(broker, tmp_path, mqtt_probe, robots) -> None:
    robots.delay = 0.15  # a slow service: the kill lands between sends
    raw = hub_raw_config(broker, tmp_path, mqtt={"session_expiry": 600},
                         channels=[{"id": "ops", "type": "webhook", "url": robots.webhook_url()}],
                         rules=[{"events": ["any"], "channels": ["ops"]}])
    db = Path(raw["storage"]["path"])
    hub = HubProcess(raw, tmp_path).start()
    probe = mqtt_probe()
    wait_for(lambda: probe.publish(f"{BASE}/cam/event", fever(0)) or robots.messages("webhook"), 30,
             "the hub to deliver a first alert")
    for i in range(1, 31):
        probe.publish(f"{BASE}/cam/event", fever(i))
    wait_for(lambda: len(robots.messages("webhook")) >= 8, 30, "some deliveries")
    hub.kill()
    before = len(robots.messages("webhook"))
    assert before < 31, "everything was delivered before the kill; the test proves nothing"
    robots.delay = 0.0
    hub.start()
    import sqlite3

    def all_sent() -> bool:
        con = sqlite3.connect(db, timeout=30)
        try:
            rows = con.execute("SELECT state, COUNT(*) FROM deliveries GROUP BY state").fetchall()
        finally:
            con.close()
        return dict(rows) == {"sent": 31}

    wait_for(all_sent, 60, f"all 31 delivered (log {hub.log})")
    hub.terminate()
    seqs = [a["seq"] for r in robots.messages("webhook") for a in r.body["alerts"]]
    assert sorted(set(seqs)) == list(range(31))  # nothing lost
    assert len(seqs) - len(set(seqs)) <= 1  # at most the one in flight at the kill came twice


def test_a_node_going_offline_is_notified(run_hub, mqtt_probe, robots) -> None:
    run_hub(channels=[{"id": "ops", "type": "webhook", "url": robots.webhook_url()}],
            rules=[{"events": ["node_offline", "camera_offline"], "channels": ["ops"]}])
    probe = mqtt_probe()
    probe.publish(f"{BASE}/status", "online", retain=True)
    probe.publish(f"{BASE}/status", "offline", retain=True)
    probe.publish(f"{BASE}/status", "online", retain=True)  # node_online: no rule names it
    probe.publish(f"{BASE}/cam/event", {"ts": 5, "seq": 1, "type": "camera_offline", "error": "unplugged"})
    wait_for(lambda: len(robots.messages("webhook")) == 2, 15, "two notices")
    time.sleep(0.5)
    types = sorted(a["type"] for r in robots.messages("webhook") for a in r.body["alerts"])
    assert types == ["camera_offline", "node_offline"]


def test_the_hub_tells_people_when_its_broker_is_gone_and_back(run_hub, broker, robots) -> None:
    # the broker down past the grace: one broker_offline notice (over HTTP: notices need no broker), then
    # broker_online when the hub is connected again; the outage is an open alert, its end news (closed)
    rh = run_hub(channels=[{"id": "ops", "type": "webhook", "url": robots.webhook_url()}],
                 rules=[{"events": ["broker_offline", "broker_online"], "channels": ["ops"]}],
                 broker_alert_seconds=2)
    broker.kill()
    wait_for(lambda: len(robots.messages("webhook")) == 1, 30, "the broker_offline notice")
    time.sleep(3)  # still down: nobody is told twice
    assert len(robots.messages("webhook")) == 1
    broker.start()
    wait_for(lambda: len(robots.messages("webhook")) == 2, 60, "the broker_online notice")
    off, on = (r.body["alerts"][0] for r in robots.messages("webhook"))
    assert (off["type"], on["type"]) == ("broker_offline", "broker_online")
    assert off["fields"]["broker"] == f"127.0.0.1:{broker.port}" and on["fields"]["minutes"] > 0
    states = {a.type: a.state for a in rh.journal.alerts()}
    assert states == {"broker_offline": "new", "broker_online": "closed"}
