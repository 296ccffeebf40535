"""Generic webhook: the alert as JSON, POSTed to any URL (an ops system, a home-made bot).

Body: ``{"kind": "alert" | "summary" | "escalation", "title", "text", "markdown", "language",
"alert_ids", "alerts": [{id, site, node, device, type, ts_ms, seq, local_time, place, state,
fields}], "snapshot_png": base64 or null}``. Any 2xx is accepted; 429 and 5xx are retried
(honouring Retry-After); any other status is final.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from edge.hub.notify.base import HttpChannel, Request, SendResult, by_status, parse_retry_after
from edge.hub.notify.config import reveal
from edge.hub.notify.texts import Notice


def build_requests(notice: Notice, cfg: dict[str, Any], now: float, images: bool = True) -> list[Request]:
    body = {
        **notice.data,
        "kind": notice.kind,
        "title": notice.title,
        "text": notice.text,
        "markdown": notice.markdown,
        "language": notice.language,
        "alert_ids": list(notice.alert_ids),
        "snapshot_png": base64.b64encode(notice.snapshot).decode("ascii") if notice.snapshot else None,
    }
    return [(reveal(cfg["url"]) or "", body)]


def parse_response(status: int, body: bytes, retry_after: str | None = None) -> SendResult:
    by_http = by_status(status, parse_retry_after(retry_after))
    if by_http is not None:
        return by_http
    if 200 <= status < 300:
        return SendResult(True, detail=f"accepted (HTTP {status})")
    return SendResult(False, permanent=True, detail=f"HTTP {status}")  # 1xx/3xx: not a webhook's answer


class WebhookChannel(HttpChannel):
    type = "webhook"
    build = staticmethod(build_requests)
    parse = staticmethod(parse_response)

    def parse_http(self, resp: httpx.Response) -> SendResult:
        return parse_response(resp.status_code, resp.content, resp.headers.get("Retry-After"))

    def extra_headers(self) -> dict[str, str]:
        return {name: reveal(v) or "" for name, v in (self.cfg.get("headers") or {}).items()}
