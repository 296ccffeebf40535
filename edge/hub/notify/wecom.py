"""WeCom (企业微信) group robot: markdown text, then the snapshot as an image message.

API (developer.work.weixin.qq.com/document/path/91770): POST JSON to the robot's webhook URL
(…/cgi-bin/webhook/send?key=KEY).
- ``{"msgtype": "markdown", "markdown": {"content": …}}``: content at most 4096 bytes of UTF-8.
- ``{"msgtype": "text", "text": {"content": …, "mentioned_mobile_list": [...]}}``: at most 2048
  bytes; the only type that can @mention by mobile, so it is used when mentions are configured.
- ``{"msgtype": "image", "image": {"base64": …, "md5": …}}``: JPG or PNG of at most 2 MB before
  base64; md5 of the raw bytes.
- Answer ``{"errcode": 0, "errmsg": "ok"}``. 45009: over the limit of 20 messages per minute per
  robot (try later); -1: system busy (try later); 93000: invalid webhook URL (the key was removed);
  other codes: the request itself is wrong (final).
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from edge.hub.notify.base import HttpChannel, Request, SendResult, parse_errcode
from edge.hub.notify.config import reveal
from edge.hub.notify.images import fit_image
from edge.hub.notify.texts import Notice
from edge.i18n import text

MARKDOWN_MAX = 4096
TEXT_MAX = 2048
IMAGE_MAX = 2 * 1024 * 1024

RETRY_CODES = {45009: "rate limited (45009: over 20 messages per minute)", -1: "system busy (-1)"}
PERMANENT_CODES = {
    93000: "invalid webhook URL (93000): the robot was removed or the key is wrong",
    40008: "invalid message type (40008)",
    40009: "image too large (40009)",
    40058: "invalid parameter (40058)",
    44004: "empty text (44004)",
}


def clip_utf8(s: str, limit: int) -> str:
    """``s`` cut to at most ``limit`` bytes of UTF-8, on a character boundary, marked with "…"."""
    data = s.encode("utf-8")
    if len(data) <= limit:
        return s
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"


def image_message(data: bytes) -> dict[str, Any]:
    return {"msgtype": "image",
            "image": {"base64": base64.b64encode(data).decode("ascii"), "md5": hashlib.md5(data).hexdigest()}}


def build_requests(notice: Notice, cfg: dict[str, Any], now: float, images: bool = True) -> list[Request]:
    """The robot requests for one notice: the text, then (if any, and ``images``) the snapshot image."""
    url = reveal(cfg["url"]) or ""
    image = fit_image(notice.snapshot, IMAGE_MAX) if notice.snapshot and images else None
    first = notice.alert_ids[0] if notice.alert_ids else 0
    if notice.snapshot and not images:
        note = text("notify.snapshot.console", notice.language, id=first)
    elif notice.snapshot and image is None:
        note = text("notify.snapshot.too_big", notice.language, size=len(notice.snapshot) // 1024, id=first)
    elif image is not None:
        note = text("notify.snapshot.next", notice.language)
    else:
        note = None
    mentions = list(cfg.get("mentioned_mobile_list") or [])
    if mentions:
        content = notice.text + (f"\n{note}" if note else "")
        body = {"msgtype": "text",
                "text": {"content": clip_utf8(content, TEXT_MAX), "mentioned_mobile_list": mentions}}
    else:
        content = notice.markdown + (f"\n> {note}" if note else "")
        body = {"msgtype": "markdown", "markdown": {"content": clip_utf8(content, MARKDOWN_MAX)}}
    reqs: list[Request] = [(url, body)]
    if image is not None:
        reqs.append((url, image_message(image)))
    return reqs


def parse_response(status: int, body: bytes) -> SendResult:
    return parse_errcode(status, body, RETRY_CODES, PERMANENT_CODES)


class WeComChannel(HttpChannel):
    type = "wecom"
    build = staticmethod(build_requests)
    parse = staticmethod(parse_response)

    def cost(self, notice: Notice) -> int:
        return 2 if notice.snapshot else 1  # the text, then the image (without re-encoding it here)
