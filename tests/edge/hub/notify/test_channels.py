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
    assert ch.send(render(fever(), "zh-CN", TZ, snapshot=None)).ok  # leaves a pooled connection
    robots.stop()
    res = ch.send(render(fever(), "zh-CN", TZ, snapshot=None))
    assert not res.ok and not res.permanent, res
    robots.start()
    assert ch.send(render(fever(), "zh-CN", TZ, snapshot=None)).ok
    ch.close()
    assert len(robots.messages("wecom")) == 2


@pytest.mark.parametrize("language,place,head", [("zh-CN", "东门", ZH_HEAD), ("en", "East gate", EN_HEAD)])
def test_webhook_posts_alert_json_with_snapshot(robots, language, place, head):
    snap = png()
    ch = make_channel(channel_cfg({"id": "ops", "type": "webhook", "url": robots.webhook_url(),
                                   "headers": {"Authorization": "Bearer t0k"}}))
    assert ch.send(render(fever(place=place), language, TZ, snapshot=snap)).ok
    ch.close()
    (msg,) = robots.messages("webhook")
    assert msg.headers["Authorization"] == "Bearer t0k"
    body = msg.body
    assert body["text"].startswith(head) and body["language"] == language
    assert body["alert_ids"] == [17]
    (alert,) = body["alerts"]
    assert alert["fields"]["temp_c"] == 38.14 and alert["place"] == place
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


@pytest.mark.parametrize("language,head", [("zh-CN", ZH_HEAD), ("en", EN_HEAD)])
def test_dingtalk_signed_markdown_verified_by_server(robots, tmp_path, language, head):
    secret_file = tmp_path / "dingtalk.secret"
    secret_file.write_text("SECabc123xyz\n")
    url = robots.dingtalk_robot(secret="SECabc123xyz")
    ch = make_channel(channel_cfg({"id": "office", "type": "dingtalk", "url": url,
                                   "secret_file": str(secret_file), "at_mobiles": ["13800001111"]}))
    place = "东门" if language == "zh-CN" else "East gate"
    res = ch.send(render(fever(place=place), language, TZ, snapshot=png()))
    ch.close()
    assert res.ok, res
    (msg,) = robots.messages("dingtalk")
    assert msg.query["timestamp"].isdigit() and msg.query["sign"]
    md = msg.body["markdown"]
    assert head in md["text"]
    assert md["title"] == ("【发热预警】东门" if language == "zh-CN" else "[Fever] East gate")
    assert "@13800001111" in md["text"] and msg.body["at"]["atMobiles"] == ["13800001111"]
    # a robot cannot upload an image: the text says where the snapshot is
    assert ("控制台" in md["text"]) if language == "zh-CN" else ("console" in md["text"])


def test_dingtalk_wrong_secret_is_permanent_and_rate_limit_retries(robots):
    url = robots.dingtalk_robot(secret="SECright")
    ch = make_channel(channel_cfg({"id": "office", "type": "dingtalk", "url": url, "secret": "SECwrong"}))
    res = ch.send(render(fever(), "zh-CN", TZ, snapshot=None))
    assert not res.ok and res.permanent and "310000" in res.detail
    ch.close()
    ok = make_channel(channel_cfg({"id": "office", "type": "dingtalk", "url": url, "secret": "SECright"}))
    robots.limit("dingtalk", 1, 60)
    assert ok.send(render(fever(), "zh-CN", TZ, snapshot=None)).ok
    res = ok.send(render(fever(), "zh-CN", TZ, snapshot=None))
    ok.close()
    assert not res.ok and not res.permanent and "130101" in res.detail
    assert ok.rate_limit == (20, 60.0)


def test_dingtalk_image_url_links_the_snapshot(robots):
    url = robots.dingtalk_robot()
    ch = make_channel(channel_cfg({"id": "office", "type": "dingtalk", "url": url,
                                   "image_url": "https://hub.school.test/snapshots/{alert_id}.png"}))
    assert ch.send(render(fever(alert_id=42), "zh-CN", TZ, snapshot=png())).ok
    ch.close()
    (msg,) = robots.messages("dingtalk")
    assert "![热像快照](https://hub.school.test/snapshots/42.png)" in msg.body["markdown"]["text"]


@pytest.mark.parametrize("language,head", [("zh-CN", ZH_HEAD), ("en", EN_HEAD)])
def test_feishu_signed_card_verified_by_server(robots, language, head):
    url = robots.feishu_bot(secret="feishu-s3cret")
    ch = make_channel(channel_cfg({"id": "lark", "type": "feishu", "url": url, "secret": "feishu-s3cret"}))
    place = "东门" if language == "zh-CN" else "East gate"
    res = ch.send(render(fever(place=place), language, TZ, snapshot=png()))
    ch.close()
    assert res.ok, res
    (msg,) = robots.messages("feishu")
    assert msg.body["msg_type"] == "interactive"
    content = msg.body["card"]["elements"][0]["text"]["content"]
    assert head in content
    assert ("控制台" in content) if language == "zh-CN" else ("console" in content)
    title = msg.body["card"]["header"]["title"]["content"]
    assert title == ("【发热预警】东门" if language == "zh-CN" else "[Fever] East gate")


def test_feishu_bad_sign_permanent_rate_limit_retry(robots):
    url = robots.feishu_bot(secret="right")
    bad = make_channel(channel_cfg({"id": "lark", "type": "feishu", "url": url, "secret": "wrong"}))
    res = bad.send(render(fever(), "zh-CN", TZ, snapshot=None))
    bad.close()
    assert not res.ok and res.permanent and "19021" in res.detail
    unsigned = make_channel(channel_cfg({"id": "lark", "type": "feishu", "url": url}))
    assert unsigned.send(render(fever(), "zh-CN", TZ, snapshot=None)).permanent  # the bot wants a signature
    unsigned.close()
    good = make_channel(channel_cfg({"id": "lark", "type": "feishu", "url": url, "secret": "right"}))
    robots.limit("feishu", 1, 60)
    assert good.send(render(fever(), "zh-CN", TZ, snapshot=None)).ok
    res = good.send(render(fever(), "zh-CN", TZ, snapshot=None))
    good.close()
    assert not res.ok and not res.permanent and "11232" in res.detail
    assert good.rate_limit == (5, 3.0)


def test_timeout_is_retry(robots):
    robots.delay = 2.5
    ch = make_channel(channel_cfg({"id": "ops", "type": "webhook", "url": robots.webhook_url(),
                                   "timeout_seconds": 1}))
    res = ch.send(render(fever(), "zh-CN", TZ, snapshot=None))
    ch.close()
    robots.delay = 0
    assert not res.ok and not res.permanent and "timed out" in res.detail


# --- e-mail ------------------------------------------------------------------------------------------

def _mail_parts(mail):
    msg = mail.message
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    attachments = list(msg.iter_attachments())
    return msg, plain, html, attachments


@pytest.mark.parametrize("language,head", [("zh-CN", ZH_HEAD), ("en", EN_HEAD)])
def test_email_starttls_login_with_attachment(mailbox_starttls, language, head):
    snap = png()
    ch = make_channel(channel_cfg(mailbox_starttls.config()))
    place = "东门" if language == "zh-CN" else "East gate"
    res = ch.send(render(fever(place=place), language, TZ, snapshot=snap))
    ch.close()
    assert res.ok, res
    (mail,) = mailbox_starttls.messages
    assert mail.login == "alerts" and mail.recipients == ["head@school.test"]
    msg, plain, html, attachments = _mail_parts(mail)
    assert msg["Subject"] == ("【发热预警】东门" if language == "zh-CN" else "[Fever] East gate")
    assert plain.startswith(head) and head in html
    (att,) = attachments
    assert att.get_content_type() == "image/png" and att.get_content() == snap


def test_email_ssl_and_plain(mailbox_ssl, mailbox):
    for box in (mailbox_ssl, mailbox):
        ch = make_channel(channel_cfg(box.config()))
        assert ch.send(render(fever(), "zh-CN", TZ, snapshot=None)).ok
        (mail,) = box.messages
        assert mail.login == ("alerts" if box is mailbox_ssl else None)
        assert _mail_parts(mail)[1].startswith(ZH_HEAD)
        assert not _mail_parts(mail)[3]


def test_email_wrong_password_and_refused_recipient_are_permanent(mailbox_starttls, smtp_pki):
    ch = make_channel(channel_cfg(mailbox_starttls.config(password="nope")))
    res = ch.send(render(fever(), "zh-CN", TZ, snapshot=None))
    assert not res.ok and res.permanent and "login" in res.detail and "nope" not in res.detail
    mailbox_starttls.refuse.add("head@school.test")
    ch = make_channel(channel_cfg(mailbox_starttls.config()))
    res = ch.send(render(fever(), "zh-CN", TZ, snapshot=None))
    assert not res.ok and res.permanent and "head@school.test" in res.detail
    assert mailbox_starttls.messages == []


def test_email_untrusted_certificate_is_permanent(mailbox_starttls, tmp_path):
    from tests.support.mailbox import make_pki

    other = make_pki(tmp_path / "other")
    ch = make_channel(channel_cfg(mailbox_starttls.config(ca_file=str(other / "ca.pem"))))
    res = ch.send(render(fever(), "zh-CN", TZ, snapshot=None))
    assert not res.ok and res.permanent and "certificate" in res.detail


def test_email_server_down_is_retry_then_delivers(mailbox):
    ch = make_channel(channel_cfg(mailbox.config()))
    mailbox.stop()
    res = ch.send(render(fever(), "zh-CN", TZ, snapshot=None))
    assert not res.ok and not res.permanent, res
    mailbox.start()
    assert ch.send(render(fever(), "zh-CN", TZ, snapshot=None)).ok
    assert len(mailbox.messages) == 1


def test_wecom_keeps_its_limit_counting_the_image_message(robots):
    """3 messages per minute: a fever with snapshot takes 2; the next gets its text only; then wait."""
    ch = wecom(robots, rate_limit={"messages": 3, "per_seconds": 60})
    snap = png()
    first = ch.send(render(fever(1), "zh-CN", TZ, snapshot=snap))
    assert first.ok and not first.partial and ch.cost(render(fever(1), "zh-CN", TZ, snapshot=snap)) == 2
    second = ch.send(render(fever(2), "zh-CN", TZ, snapshot=snap))
    assert second.ok and second.partial and "rate limit" in second.detail
    third = ch.send(render(fever(3), "zh-CN", TZ, snapshot=snap))
    ch.close()
    assert not third.ok and not third.permanent and 0 < third.retry_after <= 60
    kinds = [m.body["msgtype"] for m in robots.all_requests("wecom")]
    assert kinds == ["markdown", "image", "markdown"]  # nothing sent beyond the limit
    assert "热像快照请在控制台查看（告警 #2）" in robots.messages("wecom")[2].body["markdown"]["content"]


def test_image_refused_after_text_is_partial_not_a_resend(robots):
    ch = wecom(robots)
    robots.reply("wecom", {"errcode": 0, "errmsg": "ok"})
    robots.reply("wecom", {"errcode": 40058, "errmsg": "md5 not match"})
    res = ch.send(render(fever(), "en", TZ, snapshot=png()))
    ch.close()
    assert res.ok and res.partial and "40058" in res.detail


def test_test_message_reaches_every_http_channel(robots):
    from edge.hub.notify import render_test

    cfgs = [
        {"id": "gate", "type": "wecom", "url": robots.wecom_url(robots.wecom_key())},
        {"id": "office", "type": "dingtalk", "url": robots.dingtalk_robot(secret="S"), "secret": "S"},
        {"id": "lark", "type": "feishu", "url": robots.feishu_bot(secret="F"), "secret": "F"},
        {"id": "ops", "type": "webhook", "url": robots.webhook_url()},
    ]
    for raw in cfgs:
        ch = make_channel(channel_cfg(raw))
        n = render_test(raw["id"], "zh-CN", TZ, 1_796_082_125_000)
        assert n.text == (f"【测试消息】校园告警通知通道 {raw['id']} 已接通（2026-12-01 07:42:05），"
                          "告警将发送到这里")
        assert ch.send(n).ok, raw["type"]
        ch.close()
    for service in ("wecom", "dingtalk", "feishu", "webhook"):
        assert len(robots.messages(service)) == 1, service


def test_email_some_recipients_refused_is_delivered_and_says_who(mailbox):
    mailbox.refuse.add("gone@school.test")
    ch = make_channel(channel_cfg(mailbox.config(to=["head@school.test", "gone@school.test"])))
    res = ch.send(render(fever(), "zh-CN", TZ, snapshot=None))
    assert res.ok and res.partial and "gone@school.test" in res.detail
    (mail,) = mailbox.messages
    assert mail.recipients == ["head@school.test"]


def test_every_http_channel_retries_while_its_service_is_down(robots):
    cfgs = [
        {"id": "gate", "type": "wecom", "url": robots.wecom_url(robots.wecom_key())},
        {"id": "office", "type": "dingtalk", "url": robots.dingtalk_robot()},
        {"id": "lark", "type": "feishu", "url": robots.feishu_bot()},
        {"id": "ops", "type": "webhook", "url": robots.webhook_url()},
    ]
    channels = [make_channel(channel_cfg(raw)) for raw in cfgs]
    robots.stop()
    for ch in channels:
        res = ch.send(render(fever(), "en", TZ, snapshot=png()))
        assert not res.ok and not res.permanent and "cannot reach" in res.detail, ch
    robots.start()
    for ch in channels:
        assert ch.send(render(fever(), "en", TZ, snapshot=png())).ok, ch
        ch.close()
    assert [len(robots.messages(s)) for s in ("wecom", "dingtalk", "feishu", "webhook")] == [2, 1, 1, 1]
