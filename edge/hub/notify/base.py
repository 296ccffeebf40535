"""What every channel is: an id, a rate limit, ``send(notice) -> SendResult``, ``close()``.

A channel only delivers one Notice and says how it went; retrying, queueing, rate limiting and
summarising belong to the hub's dispatcher. The per-service knowledge lives in pure functions
(``build_requests`` / ``parse_response`` in each service's module); ``HttpChannel.send`` is the thin
I/O edge that posts what they build and reads back what they parse.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from edge.hub.notify.texts import Notice

log = logging.getLogger(__name__)

# One request a channel makes: the URL to POST to and the JSON body.
Request = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class SendResult:
    """How a delivery went.

    ok: the service accepted the notice (nothing to do again).
    retry_after: seconds the service asked us to wait (rate limit, Retry-After), or None.
    permanent: retrying the same notice cannot help (bad key, bad signature, refused recipient):
        the dispatcher should stop and tell a person; not ok and not permanent means "try again later".
    detail: what happened, for the journal and log lines (never contains a secret).
    partial: ok, but a secondary part (the snapshot image) could not be delivered; detail says why.
    """

    ok: bool
    retry_after: float | None = None
    permanent: bool = False
    detail: str = ""
    partial: bool = False


OK = SendResult(True, detail="accepted")


def retry(detail: str, after: float | None = None) -> SendResult:
    return SendResult(False, retry_after=after, detail=detail)


def permanent(detail: str) -> SendResult:
    return SendResult(False, permanent=True, detail=detail)


def by_status(status: int, retry_after: float | None = None) -> SendResult | None:
    """The answer an HTTP status alone gives (None: read the body): 429/5xx retry, other 4xx are final."""
    if status == 429 or status >= 500:
        return retry(f"HTTP {status}", retry_after)
    if status >= 400:
        return permanent(f"HTTP {status}")
    return None


def parse_errcode(status: int, body: bytes, retry_codes: dict[int, str],
                  permanent_codes: dict[int, str]) -> SendResult:
    """A robot that answers ``{"errcode", "errmsg"}`` (WeCom, DingTalk): errcode 0 is accepted, the
    service's rate-limit codes are retried, any other code is a refusal named from its table."""
    by_http = by_status(status)
    if by_http is not None:
        return by_http
    try:
        answer = json.loads(body)
        code = int(answer.get("errcode"))
    except (ValueError, TypeError, AttributeError):
        return retry(f"unreadable answer (HTTP {status})")
    if code == 0:
        return SendResult(True, detail="accepted")
    if code in retry_codes:
        return retry(retry_codes[code])
    msg = str(answer.get("errmsg", ""))[:120]
    return permanent(permanent_codes.get(code, f"refused: errcode {code} {msg}".strip()))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """An HTTP Retry-After header: seconds, or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


class Channel:
    """A notification channel. Subclasses set ``rate_limit`` and implement ``send``."""

    type = ""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.id: str = cfg["id"]
        self.cfg = cfg
        self.rate_limit: tuple[int, float] | None = rate_limit_of(cfg)

    def cost(self, notice: Notice) -> int:
        """How many of the service's messages this notice takes (counts against ``rate_limit``)."""
        return 1

    def send(self, notice: Notice) -> SendResult:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id}>"


def rate_limit_of(cfg: dict[str, Any]) -> tuple[int, float] | None:
    rl = cfg.get("rate_limit")
    if not rl:
        return None
    return int(rl["messages"]), float(rl["per_seconds"])


class HttpChannel(Channel):
    """A channel that POSTs JSON: owns one httpx.Client; the service module supplies the pure parts.

    It also keeps its own count of requests against ``rate_limit`` (the service's limit is per
    message, and a notice with a snapshot is two messages on WeCom): a notice is never started
    without room for its text, and its image is left out (with a note) rather than overrun the limit.
    """

    build: Callable[..., list[Request]]
    parse: Callable[[int, bytes], SendResult]

    def __init__(self, cfg: dict[str, Any], transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(cfg)
        t = float(cfg.get("timeout_seconds") or 10.0)
        self.client = httpx.Client(
            timeout=httpx.Timeout(t, connect=min(t, 5.0)),
            transport=transport,
            follow_redirects=False,
            headers={"User-Agent": "campus-edge-hub"},
        )
        self._sent: deque[float] = deque()  # monotonic times of our recent requests
        self._lock = threading.Lock()

    def cost(self, notice: Notice) -> int:
        return len(self.requests(notice, time.time()))

    def requests(self, notice: Notice, now: float, images: bool = True) -> list[Request]:
        return type(self).build(notice, self.cfg, now, images=images)

    def room(self) -> tuple[int, float] | None:
        """(requests the window still takes, seconds until it takes one more), or None: no limit."""
        if self.rate_limit is None:
            return None
        count, window = self.rate_limit
        now = time.monotonic()
        with self._lock:
            while self._sent and self._sent[0] <= now - window:
                self._sent.popleft()
            left = count - len(self._sent)
            wait = self._sent[0] + window - now if self._sent else 0.0
        return max(left, 0), max(wait, 0.0)

    def post(self, url: str, body: dict[str, Any]) -> SendResult:
        """One request; a transport failure (refused, reset, timeout) means "try again later"."""
        with self._lock:
            self._sent.append(time.monotonic())
        try:
            resp = self.client.post(url, json=body, headers=self.extra_headers())
        except httpx.TimeoutException as exc:
            return retry(f"timed out: {type(exc).__name__}")
        except httpx.HTTPError as exc:
            return retry(f"cannot reach the service: {type(exc).__name__}: {_safe(exc)}")
        return self.parse_http(resp)

    def parse_http(self, resp: httpx.Response) -> SendResult:
        return type(self).parse(resp.status_code, resp.content)

    def extra_headers(self) -> dict[str, str]:
        return {}

    def send(self, notice: Notice) -> SendResult:
        """Post each request in order; the first one carries the text that matters.

        A failure of the first request is the notice's result. A later part (the snapshot image)
        that fails after the text went through does not make the whole notice fail (that would send
        the text twice): the result is ok and ``partial``, with the reason, and a warning is logged.
        """
        now = time.time()
        reqs = self.requests(notice, now)
        problems: list[str] = []
        room = self.room()
        if room is not None and room[0] < len(reqs):
            if room[0] == 0:
                n, per = self.rate_limit or (0, 0.0)
                return retry(f"this channel's limit ({n} per {per:g} s) is used up", after=room[1])
            reqs = self.requests(notice, now, images=False)[: room[0]]
            problems.append("left out to keep the service's rate limit")
        first = self.post(*reqs[0])
        if not first.ok:
            return first
        for url, body in reqs[1:]:
            res = self.post(url, body)
            if not res.ok and not res.permanent and res.retry_after is not None and res.retry_after <= 5:
                time.sleep(res.retry_after)  # a short pause asked for: one more try for the image
                res = self.post(url, body)
            if not res.ok:
                problems.append(res.detail)
        if problems:
            detail = "text delivered; snapshot not delivered: " + "; ".join(problems)
            log.warning("channel %s: %s (alerts %s)", self.id, detail, list(notice.alert_ids))
            return SendResult(True, detail=detail, partial=True)
        return first

    def close(self) -> None:
        self.client.close()


def _safe(exc: Exception) -> str:
    """An httpx error's message without the request URL (robot URLs carry their key)."""
    text = str(exc)
    request = getattr(exc, "_request", None)
    if request is not None:
        text = text.replace(str(request.url), "<url>")
    return text[:200]
