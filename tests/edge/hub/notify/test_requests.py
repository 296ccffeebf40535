"""Pure request builders and response parsers of each service (vectors; no network)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import smtplib
import ssl
from urllib.parse import parse_qs, unquote_plus, urlsplit

import cv2
import numpy as np
import pytest

from edge.hub.notify import dingtalk, feishu, webhook, wecom
from edge.hub.notify.email import build_message, classify_smtp_error
from edge.hub.notify.images import fit_image
from edge.hub.notify.texts import render, render_summary
from tests.edge.hub.notify.support import TZ, channel_cfg, fever, png

NOW = 1_796_082_125.5


def test_wecom_markdown_then_image():
    snap = png()
    cfg = channel_cfg({"id": "g", "type": "wecom", "url": "https://q/cgi-bin/webhook/send?key=K"})
    (url1, md), (url2, img) = wecom.build_requests(render(fever(), "zh-CN", TZ, snapshot=snap), cfg, NOW)
    assert url1 == url2 == "https://q/cgi-bin/webhook/send?key=K"
    assert md["msgtype"] == "markdown"
    assert md["markdown"]["content"].endswith("> 热像快照见下一条消息")
    assert img == {"msgtype": "image", "image": {"base64": base64.b64encode(snap).decode(),
                                                  "md5": hashlib.md5(snap).hexdigest()}}
    (only,) = wecom.build_requests(render(fever(), "en", TZ, snapshot=snap), cfg, NOW, images=False)
    assert only[1]["markdown"]["content"].endswith("> Thermal snapshot in the console (alert #17)")


def test_wecom_clips_on_a_character_boundary():
    assert wecom.clip_utf8("体温" * 10, 11) == "体温…"  # 8 bytes kept + the 3-byte ellipsis
    assert len(wecom.clip_utf8("体温" * 2000, 4096).encode()) <= 4096
    n = render_summary([fever(alert_id=i, place="东门" * 40) for i in range(60)], "zh-CN", TZ)
    cfg = channel_cfg({"id": "g", "type": "wecom", "url": "https://q/cgi-bin/webhook/send?key=K"})
    ((_, body),) = wecom.build_requests(n, cfg, NOW)
    assert len(body["markdown"]["content"].encode()) <= 4096


@pytest.mark.parametrize("status,body,ok,permanent,word", [
    (200, b'{"errcode":0,"errmsg":"ok"}', True, False, "accepted"),
    (200, b'{"errcode":45009,"errmsg":"api freq out of limit"}', False, False, "45009"),
    (200, b'{"errcode":-1,"errmsg":"system busy"}', False, False, "busy"),
    (200, b'{"errcode":93000,"errmsg":"invalid webhook url"}', False, True, "93000"),
    (200, b'{"errcode":40058,"errmsg":"md5 not match"}', False, True, "40058"),
    (200, b'{"errcode":12345,"errmsg":"new"}', False, True, "12345"),
    (502, b"<html>bad gateway</html>", False, False, "502"),
    (404, b"not found", False, True, "404"),
    (200, b"<html>captive portal</html>", False, False, "unreadable"),
])
def test_wecom_answers(status, body, ok, permanent, word):
    r = wecom.parse_response(status, body)
    assert (r.ok, r.permanent) == (ok, permanent) and word in r.detail


def test_dingtalk_signature_as_documented():
    cfg = channel_cfg({"id": "d", "type": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=T",
                       "secret": "SECthis+is/secret", "at_mobiles": ["13800001111", "@all"]})
    ((url, body),) = dingtalk.build_requests(render(fever(), "zh-CN", TZ, snapshot=None), cfg, NOW)
    q = parse_qs(urlsplit(url).query)
    ts = q["timestamp"][0]
    assert ts == str(int(NOW * 1000))
    # 加签: base64(HMAC-SHA256(secret, f"{timestamp}\n{secret}")), URL-encoded in the query
    want = base64.b64encode(hmac.new(b"SECthis+is/secret", f"{ts}\nSECthis+is/secret".encode(),
                                     hashlib.sha256).digest()).decode()
    assert q["sign"][0] == want
    assert "+" not in urlsplit(url).query.split("sign=")[1] or unquote_plus(url.split("sign=")[1]) == want
    assert body["at"] == {"atMobiles": ["13800001111"], "isAtAll": True}
    assert body["markdown"]["title"] == "【发热预警】东门"
    unsigned = channel_cfg({"id": "d", "type": "dingtalk", "url": "https://o/robot/send?access_token=T"})
    ((url, _),) = dingtalk.build_requests(render(fever(), "zh-CN", TZ, snapshot=None), unsigned, NOW)
    assert url == "https://o/robot/send?access_token=T"


@pytest.mark.parametrize("body,ok,permanent", [
    (b'{"errcode":0,"errmsg":"ok"}', True, False),
    (b'{"errcode":130101,"errmsg":"send too fast"}', False, False),
    (b'{"errcode":310000,"errmsg":"sign not match"}', False, True),
    (b'{"errcode":300001,"errmsg":"token is not exist"}', False, True),
])
def test_dingtalk_answers(body, ok, permanent):
    r = dingtalk.parse_response(200, body)
    assert (r.ok, r.permanent) == (ok, permanent)


def test_feishu_signature_as_documented():
    cfg = channel_cfg({"id": "f", "type": "feishu", "url": "https://open.feishu.cn/open-apis/bot/v2/hook/T",
                       "secret": "s3cret"})
    ((url, body),) = feishu.build_requests(render(fever(), "en", TZ, snapshot=png()), cfg, NOW)
    assert url.endswith("/hook/T") and body["timestamp"] == str(int(NOW))
    # 签名校验: base64(HMAC-SHA256(key=f"{timestamp}\n{secret}", msg=b""))
    want = base64.b64encode(hmac.new(f"{int(NOW)}\ns3cret".encode(), b"", hashlib.sha256).digest()).decode()
    assert body["sign"] == want
    content = body["card"]["elements"][0]["text"]["content"]
    assert content.startswith("**[Fever] 东门 07:42 38.1 °C") and "\n> " not in content
    assert content.endswith("Thermal snapshot in the console (alert #17)")


@pytest.mark.parametrize("status,body,ok,permanent", [
    (200, b'{"code":0,"msg":"success","data":{}}', True, False),
    (200, b'{"StatusCode":0,"StatusMessage":"success"}', True, False),
    (200, b'{"code":11232,"msg":"frequency limited"}', False, False),
    (429, b'{"code":9499,"msg":"too many request"}', False, False),
    (400, b'{"code":19021,"msg":"sign match fail"}', False, True),
    (200, b'{"code":19024,"msg":"Key Words Not Found"}', False, True),
    (503, b"", False, False),
])
def test_feishu_answers(status, body, ok, permanent):
    r = feishu.parse_response(status, body)
    assert (r.ok, r.permanent) == (ok, permanent)


@pytest.mark.parametrize("status,retry_after,ok,permanent,after", [
    (200, None, True, False, None),
    (204, None, True, False, None),
    (429, "30", False, False, 30.0),
    (503, None, False, False, None),
    (500, "Wed, 21 Oct 2015 07:28:00 GMT", False, False, 0.0),  # a date in the past: now
    (401, None, False, True, None),
    (302, None, False, True, None),
])
def test_webhook_answers(status, retry_after, ok, permanent, after):
    r = webhook.parse_response(status, b"", retry_after)
    assert (r.ok, r.permanent, r.retry_after) == (ok, permanent, after)


def test_email_message_shape():
    cfg = channel_cfg({"id": "m", "type": "email", "host": "h", "security": "none",
                       "from": "alerts@school.cn", "to": ["a@school.cn", "b@school.cn"]})
    snap = png()
    msg = build_message(render(fever(), "zh-CN", TZ, snapshot=snap), cfg, NOW)
    assert msg["Subject"] == "【发热预警】东门" and msg["To"] == "a@school.cn, b@school.cn"
    assert msg["X-Campus-Edge-Alerts"] == "17"
    assert msg.get_body(("plain",)).get_content().startswith("【发热预警】东门 07:42 体温 38.1°C")
    html = msg.get_body(("html",)).get_content()
    assert "<h2>【发热预警】东门 07:42" in html and "热像快照见附件" in html
    (att,) = msg.iter_attachments()
    assert att.get_filename() == "alert-17.png" and att.get_content() == snap
    plain_only = build_message(render(fever(place="<b>&"), "en", TZ, snapshot=None), cfg, NOW)
    assert "&lt;b&gt;&amp;" in plain_only.get_body(("html",)).get_content()
    assert list(plain_only.iter_attachments()) == []


@pytest.mark.parametrize("exc,permanent", [
    (smtplib.SMTPAuthenticationError(535, b"bad credentials"), True),
    (smtplib.SMTPRecipientsRefused({"a@b.cn": (550, b"no such user")}), True),
    (smtplib.SMTPSenderRefused(553, b"not allowed", "x@y.cn"), True),
    (smtplib.SMTPDataError(451, b"try later"), False),
    (smtplib.SMTPDataError(554, b"spam"), True),
    (smtplib.SMTPServerDisconnected("gone"), False),
    (ConnectionRefusedError(111, "Connection refused"), False),
    (TimeoutError("timed out"), False),
    (ssl.SSLCertVerificationError(1, "certificate verify failed"), True),
])
def test_smtp_errors(exc, permanent):
    r = classify_smtp_error(exc)
    assert not r.ok and r.permanent == permanent


def test_fit_image():
    small = png()
    assert fit_image(small, 2 * 1024 * 1024) is small
    big = png(1400, 1000, noise=True)
    fitted = fit_image(big, 2 * 1024 * 1024)
    assert fitted is not None and len(fitted) <= 2 * 1024 * 1024
    img = cv2.imdecode(np.frombuffer(fitted, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None and img.shape[1] >= 350  # still a picture a person can look at
    assert fit_image(b"\x89PNG\r\n\x1a\n" + b"x" * 5000, 1000) is None  # not decodable: the text says so
