"""The local robot server itself refuses what the real services refuse, so the channel tests can fail."""

from __future__ import annotations

import base64
import hashlib
import time

import httpx

from tests.edge.hub.notify.support import png


def post(url: str, body: dict) -> dict:
    return httpx.post(url, json=body, timeout=5).json()


def test_wecom_checks_key_shape_size_and_md5(robots):
    url = robots.wecom_url(robots.wecom_key())
    snap = png()
    good = {"msgtype": "image", "image": {"base64": base64.b64encode(snap).decode(),
                                          "md5": hashlib.md5(snap).hexdigest()}}
    assert post(url, good) == {"errcode": 0, "errmsg": "ok"}
    assert post(url, {**good, "image": {**good["image"], "md5": "0" * 32}})["errcode"] == 40058
    assert post(robots.wecom_url("nope"), good)["errcode"] == 93000
    long_md = {"msgtype": "markdown", "markdown": {"content": "体" * 1366}}  # 4098 bytes
    assert post(url, long_md)["errcode"] == 40058
    assert post(url, {"msgtype": "voice"})["errcode"] == 40008
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024)
    too_big = {"msgtype": "image", "image": {"base64": base64.b64encode(big).decode(),
                                             "md5": hashlib.md5(big).hexdigest()}}
    assert post(url, too_big)["errcode"] == 40009
    assert len(robots.messages("wecom")) == 1 and len(robots.all_requests("wecom")) == 6


def test_dingtalk_and_feishu_check_signatures(robots):
    url = robots.dingtalk_robot(secret="SECx")
    msg = {"msgtype": "markdown", "markdown": {"title": "t", "text": "x"}}
    assert post(url, msg)["errcode"] == 310000  # unsigned
    stale = int(time.time() * 1000) - 2 * 3600_000
    assert post(f"{url}&timestamp={stale}&sign=abc", msg)["errcode"] == 310000
    hook = robots.feishu_bot(secret="s")
    card = {"msg_type": "text", "content": {"text": "x"}}
    assert post(hook, card)["code"] == 19021
    assert post(robots.feishu_bot(), card)["code"] == 0
    assert post(robots.feishu_bot(), {"msg_type": "text"})["code"] == 19002


def test_rate_limit_window_and_restart_on_the_same_port(robots):
    robots.limit("wecom", 2, 0.5)
    url = robots.wecom_url(robots.wecom_key())
    msg = {"msgtype": "markdown", "markdown": {"content": "x"}}
    codes = [post(url, msg)["errcode"] for _ in range(3)]
    assert codes == [0, 0, 45009]
    time.sleep(0.6)
    assert post(url, msg)["errcode"] == 0
    port = robots.port
    robots.stop()
    try:
        httpx.post(url, json=msg, timeout=2)
        raise AssertionError("the server still answers")
    except httpx.ConnectError:
        pass
    robots.start()
    assert robots.port == port and post(url, msg)["errcode"] == 0
