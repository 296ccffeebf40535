"""Each channel against the local robot / SMTP servers: right text, snapshot, signatures, errors."""

from __future__ import annotations

import base64
import hashlib

import pytest

from edge.hub.notify import make_channel
from edge.hub.notify.texts import render, render_summary
from tests.edge.hub.notify.support import TZ, channel_cfg, fever, png


def wecom(robots, **extra):
    url = robots.wecom_url(robots.wecom_key())
    return make_channel(channel_cfg({"id": "gate", "type": "wecom", "url": url, **extra}))


ZH_HEAD = "【发热预警】东门 07:42 体温 38.1°C（阈值 37.3°C），请立即复测"
EN_HEAD = "[Fever] East gate 07:42 38.1 °C (threshold 37.3 °C): re-check now"


@pytest.mark.parametrize("language,place,head", [("zh-CN", "东门", ZH_HEAD), ("en", "East gate", EN_HEAD)])
def test_wecom_delivers_text_then_snapshot_image(robots, language, place, head):
    key = robots.wecom_key()
    ch = make_channel(channel_cfg({"id": "gate", "type": "wecom", "url": robots.wecom_url(key)}))
    snap = png()
    try:
        res = ch.send(render(fever(place=place), language, TZ, snapshot=snap))
    finally:
        ch.close()
    assert res.ok and not res.partial, res
    got = robots.messages("wecom")
    assert [m.body["msgtype"] for m in got] == ["markdown", "image"]
    assert got[0].query["key"] == key
    assert head in got[0].body["markdown"]["content"]
    image = got[1].body["image"]
    assert base64.b64decode(image["base64"]) == snap
    assert image["md5"] == hashlib.md5(snap).hexdigest()


def test_wecom_mentions_by_mobile_as_text(robots):
    cfg = channel_cfg({"id": "gate", "type": "wecom", "url": robots.wecom_url(robots.wecom_key()),
                       "mentioned_mobile_list": ["13800001111"]})
    ch = make_channel(cfg)
    assert ch.send(render(fever(), "zh-CN", TZ, snapshot=None)).ok
    ch.close()
    (msg,) = robots.messages("wecom")
    assert msg.body["msgtype"] == "text"
    assert msg.body["text"]["mentioned_mobile_list"] == ["13800001111"]
    assert msg.body["text"]["content"].startswith(ZH_HEAD)


def test_wecom_big_snapshot_is_shrunk_under_2mb(robots):
    big = png(1400, 1000, noise=True)
    assert len(big) > 2 * 1024 * 1024
    ch = wecom(robots)
    res = ch.send(render(fever(), "zh-CN", TZ, snapshot=big))
    ch.close()
    assert res.ok and not res.partial, res
    image = robots.messages("wecom")[1].body["image"]
    raw = base64.b64decode(image["base64"])
    assert len(raw) <= 2 * 1024 * 1024 and hashlib.md5(raw).hexdigest() == image["md5"]


def test_wecom_unknown_key_is_permanent(robots):
    robots.wecom_key()
    ch = make_channel(channel_cfg({"id": "gate", "type": "wecom",
                                   "url": robots.wecom_url("00000000-dead-beef-0000-000000000000")}))
    res = ch.send(render(fever(), "zh-CN", TZ, snapshot=None))
    ch.close()
    assert not res.ok and res.permanent and "93000" in res.detail
    assert "dead-beef" not in res.detail


def test_wecom_rate_limit_is_retry(robots):
    robots.limit("wecom", 2, 60)
    ch = wecom(robots)
    results = [ch.send(render(fever(alert_id=i), "zh-CN", TZ, snapshot=None)) for i in range(3)]
    ch.close()
    assert [r.ok for r in results] == [True, True, False]
    assert not results[2].permanent and "45009" in results[2].detail
    assert ch.rate_limit == (20, 60.0)


def test_server_down_is_retry_and_back_up_delivers(robots):
    ch = wecom(robots)
    robots.stop()
    res = ch.send(render(fever(), "zh-CN", TZ, snapshot=None))
    assert not res.ok and not res.permanent, res
    robots.start()
    assert ch.send(render(fever(), "zh-CN", TZ, snapshot=None)).ok
    ch.close()
    assert len(robots.messages("wecom")) == 1


def test_webhook_posts_alert_json_with_snapshot(robots):
    snap = png()
    ch = make_channel(channel_cfg({"id": "ops", "type": "webhook", "url": robots.webhook_url(),
                                   "headers": {"Authorization": "Bearer t0k"}}))
    assert ch.send(render(fever(), "en", TZ, snapshot=snap)).ok
    ch.close()
    (msg,) = robots.messages("webhook")
    assert msg.headers["Authorization"] == "Bearer t0k"
    body = msg.body
    assert body["text"].startswith("[Fever] 东门 07:42 38.1 °C")
    assert body["alert_ids"] == [17]
    (alert,) = body["alerts"]
    assert alert["fields"]["temp_c"] == 38.14 and alert["place"] == "东门"
    assert alert["local_time"] == "2026-12-01T07:42:05+08:00"
    assert base64.b64decode(body["snapshot_png"]) == snap


def test_webhook_status_mapping(robots):
    ch = make_channel(channel_cfg({"id": "ops", "type": "webhook", "url": robots.webhook_url()}))
    n = render_summary([fever(1), fever(2)], "zh-CN", TZ)
    robots.reply("webhook", {"e": 1}, status=503, headers={"Retry-After": "7"})
    r = ch.send(n)
    assert not r.ok and not r.permanent and r.retry_after == 7
    robots.reply("webhook", {"e": 1}, status=400)
    r = ch.send(n)
    assert not r.ok and r.permanent
    assert ch.send(n).ok
    ch.close()
