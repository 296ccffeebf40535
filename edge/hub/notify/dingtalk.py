"""DingTalk (钉钉) custom robot: a markdown message, signed when the robot uses 加签.

API (open.dingtalk.com, 自定义机器人): POST JSON to …/robot/send?access_token=TOKEN.
- ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}, "at": {"atMobiles": [...],
  "isAtAll": false}}``; a mentioned mobile must also appear as ``@mobile`` in the text.
- Signing (加签): ``timestamp`` in ms and ``sign`` = urlencode(base64(HMAC-SHA256(key=secret,
  msg=f"{timestamp}\\n{secret}"))), both appended to the URL; the timestamp must be within an hour.
- A custom robot cannot upload an image: the text says the snapshot is in the console, or links
  ``image_url`` (a public address with {alert_id}) when one is configured.
- Answer ``{"errcode": 0, "errmsg": "ok"}``. 130101: sending too fast (20 per minute; try later);
  310000: signature, keyword or IP check failed (final); 300001: unknown token (final).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote_plus

from edge.hub.notify.base import HttpChannel, Request, SendResult, parse_errcode
from edge.hub.notify.config import reveal
from edge.hub.notify.texts import Notice
from edge.i18n import text

RETRY_CODES = {130101: "rate limited (130101: over 20 messages per minute)", -1: "system busy (-1)"}
PERMANENT_CODES = {
    310000: "refused (310000): signature, keyword or IP check failed; check the secret and security settings",
    300001: "unknown access_token (300001): the robot was removed or the URL is wrong",
    400013: "the group was disbanded (400013)",
    430101: "the robot was disabled (430101)",
}


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature, URL-encoded, for ``timestamp_ms``."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest))


def signed_url(url: str, secret: str | None, now: float) -> str:
    if not secret:
        return url
    ts = int(now * 1000)
    return f"{url}&timestamp={ts}&sign={sign(secret, ts)}"


def build_requests(notice: Notice, cfg: dict[str, Any], now: float, images: bool = True) -> list[Request]:
    first = notice.alert_ids[0] if notice.alert_ids else 0
    # DingTalk's markdown joins single line breaks into one paragraph: a blank line between lines.
    body = notice.markdown.replace("\n", "\n\n")
    if notice.snapshot:
        if cfg.get("image_url"):
            link = cfg["image_url"].replace("{alert_id}", str(first))
            body += f"\n\n![{text('notify.snapshot.link', notice.language)}]({link})"
        else:
            body += "\n\n> " + text("notify.snapshot.console", notice.language, id=first)
    mobiles = list(cfg.get("at_mobiles") or [])
    if mobiles:
        body += "\n\n" + " ".join(f"@{m}" for m in mobiles if m != "@all")
    msg = {
        "msgtype": "markdown",
        "markdown": {"title": notice.title, "text": body},
        "at": {"atMobiles": [m for m in mobiles if m != "@all"], "isAtAll": "@all" in mobiles},
    }
    return [(signed_url(reveal(cfg["url"]) or "", reveal(cfg.get("secret")), now), msg)]


def parse_response(status: int, body: bytes) -> SendResult:
    return parse_errcode(status, body, RETRY_CODES, PERMANENT_CODES)


class DingTalkChannel(HttpChannel):
    type = "dingtalk"
    build = staticmethod(build_requests)
    parse = staticmethod(parse_response)
