"""simulators/robots.py's show(): what a phone in the robot's group would show for one request."""

from __future__ import annotations

import base64
import hashlib

from simulators.robots import Received, show

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 2048


def rec(service: str, body: dict, answer: dict | None = None) -> Received:
    return Received(service, "/", {}, {}, body, 0.0, 200, answer or {"errcode": 0})


def test_markdown_is_shown_rendered_and_an_image_as_a_checked_note():
    md = {"msgtype": "markdown", "markdown": {"content": "**【发热预警】东门 07:42**\n> 地点：东门"}}
    assert show(rec("wecom", md)) == ["【发热预警】东门 07:42", "地点：东门"]
    img = {"msgtype": "image", "image": {"base64": base64.b64encode(PNG).decode(),
                                         "md5": hashlib.md5(PNG).hexdigest()}}
    assert show(rec("wecom", img)) == ["[image: PNG, 2.0 KB, md5 ok]"]
    img["image"]["md5"] = "0" * 32
    assert show(rec("wecom", img)) == ["[image: PNG, 2.0 KB, md5 MISMATCH]"]


def test_dingtalk_blank_lines_webhook_text_and_refusals():
    ding = {"msgtype": "markdown", "markdown": {"title": "t", "text": "**【漏水告警】**\n\n> 地点：水表"}}
    assert show(rec("dingtalk", ding)) == ["【漏水告警】", "地点：水表"]
    hook = {"kind": "alert", "text": "【节点离线】gate\n地点：gate", "snapshot_png": None}
    assert show(rec("webhook", hook, {"ok": True})) == ["【节点离线】gate", "地点：gate"]
    refused = rec("wecom", ding, {"errcode": 45009, "errmsg": "api freq out of limit"})
    assert show(refused) == [
        '(refused by the wecom robot: {"errcode": 45009, "errmsg": "api freq out of limit"})'
    ]
