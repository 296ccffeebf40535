"""Feishu (飞书) custom bot: an interactive card with the markdown text, signed when 签名校验 is on.

API (open.feishu.cn, 自定义机器人使用指南): POST JSON to …/open-apis/bot/v2/hook/TOKEN.
- ``{"msg_type": "interactive", "card": {"header": {...}, "elements": [{"tag": "div", "text":
  {"tag": "lark_md", "content": …}}]}}``.
- Signing: ``timestamp`` in seconds and ``sign`` = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}",
  msg=b"")) in the JSON body; the timestamp must be within an hour.
- A custom bot cannot send an image without an app's token (image_key): text only, the snapshot
  stays in the console.
- Answer ``{"code": 0, "msg": "success"}`` (older bots: ``{"StatusCode": 0}``). 11232 and 9499: rate
  limited (100 per minute, 5 per second; try later); 19021: bad signature or clock (final);
  19024: keyword check failed (final); 19022: IP not allowed (final).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from edge.hub.notify.base import HttpChannel, Request, SendResult, by_status, permanent, retry
from edge.hub.notify.config import reveal
from edge.hub.notify.texts import ALERT, ESCALATION, Notice
from edge.i18n import text

RETRY_CODES = {11232: "rate limited (11232)", 9499: "rate limited (9499)"}
PERMANENT_CODES = {
    19021: "bad signature (19021): check the secret and this machine's clock",
    19022: "this address is not allowed (19022): check the bot's IP whitelist",
    19024: "keyword check failed (19024): add the keyword to the bot's security settings",
    19001: "invalid webhook (19001): the bot was removed or the URL is wrong",
}


def sign(secret: str, timestamp_s: int) -> str:
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode("ascii")


def build_requests(notice: Notice, cfg: dict[str, Any], now: float, images: bool = True) -> list[Request]:
    content = notice.markdown.replace("\n> ", "\n")  # lark_md has no block quotes
    if notice.snapshot:
        first = notice.alert_ids[0] if notice.alert_ids else 0
        content += "\n" + text("notify.snapshot.console", notice.language, id=first)
    template = "red" if notice.kind in (ALERT, ESCALATION) else "orange"
    msg: dict[str, Any] = {
        "msg_type": "interactive",
        "card": {
            "config": {"wide_screen_mode": True},
            "header": {"title": {"tag": "plain_text", "content": notice.title}, "template": template},
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": content}}],
        },
    }
    secret = reveal(cfg.get("secret"))
    if secret:
        ts = int(now)
        msg = {"timestamp": str(ts), "sign": sign(secret, ts), **msg}
    return [(reveal(cfg["url"]) or "", msg)]


def parse_response(status: int, body: bytes) -> SendResult:
    try:
        answer = json.loads(body)
        code = answer.get("code", answer.get("StatusCode"))
        code = int(code) if code is not None else None
    except (ValueError, TypeError, AttributeError):
        answer, code = {}, None
    # Feishu answers a rate limit with HTTP 429 or 400 and a code in the body: the code decides.
    if code in RETRY_CODES:
        return retry(RETRY_CODES[code])
    if status == 429 or status >= 500:
        return retry(f"HTTP {status}")
    if code is None:
        return by_status(status) or retry(f"unreadable answer (HTTP {status})")
    if code == 0:
        return SendResult(True, detail="accepted")
    msg = str(answer.get("msg", answer.get("StatusMessage", "")))[:120]
    return permanent(PERMANENT_CODES.get(code, f"refused: code {code} {msg}".strip()))


class FeishuChannel(HttpChannel):
    type = "feishu"
    build = staticmethod(build_requests)
    parse = staticmethod(parse_response)
