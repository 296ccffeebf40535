"""Notification channels: WeCom, DingTalk and Feishu robots, e-mail, a generic webhook.

    channel = make_channel(cfg)          # one validated entry of the hub's `channels:` list
    result = channel.send(render(alert, "zh-CN", tz))
    if not result.ok and not result.permanent: ...   # try again later (after result.retry_after)
    channel.close()
"""

from __future__ import annotations

from typing import Any

from edge.hub.notify.base import Channel, SendResult
from edge.hub.notify.texts import Notice, render, render_escalation, render_summary, render_test


def _types() -> dict[str, type[Channel]]:
    from edge.hub.notify.dingtalk import DingTalkChannel
    from edge.hub.notify.email import EmailChannel
    from edge.hub.notify.feishu import FeishuChannel
    from edge.hub.notify.webhook import WebhookChannel
    from edge.hub.notify.wecom import WeComChannel

    return {c.type: c for c in (WeComChannel, DingTalkChannel, FeishuChannel, EmailChannel, WebhookChannel)}


def make_channel(cfg: dict[str, Any]) -> Channel:
    """The channel for one validated config entry (edge/hub/notify/config.py CHANNELS)."""
    types = _types()
    if cfg.get("type") not in types:
        raise ValueError(f"unknown channel type {cfg.get('type')!r} (known: {', '.join(types)})")
    return types[cfg["type"]](cfg)


__all__ = [
    "Channel", "Notice", "SendResult", "make_channel", "render", "render_escalation", "render_summary",
    "render_test",
]
