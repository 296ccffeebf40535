"""Why a connection to the broker failed, in words, logged at a rate that does not flood.

paho retries a lost or failed connection on its own (1 s, then up to 30 s apart) and says
nothing about it: an agent whose ``mqtt.host`` does not resolve would log only "device started"
for ever. ``classify`` names the cause (``dns``, ``refused``, ``timeout``, ``unreachable``,
``tls``, ``auth``, ``broker`` for other CONNACK refusals, ``other``); ``ConnectFailures`` logs the
first failure at once, then at most one line a minute with the count, and keeps the last error
for the status report (``campus-edge status``, systemd's STATUS=).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

LOG_EVERY_S = 60.0

HINTS = {
    "dns": "the host name does not resolve: check mqtt.host and the node's DNS",
    "refused": "nothing listens on that port: is the broker running, is mqtt.port right?",
    "timeout": "no answer: a firewall, a wrong address, or the network is down",
    "unreachable": "no route to the broker: check the network",
    "tls": "TLS failed: check mqtt.tls (CA file, host name in the certificate, port 8883)",
    "auth": "the broker refused our credentials: check mqtt.username/password and the broker's ACL",
    "broker": "the broker refused the connection",
    "other": "",
}

AUTH_REASONS = {"Bad user name or password", "Not authorized", "Bad authentication method"}


@dataclass(frozen=True)
class ConnectError:
    cause: str  # one of HINTS
    detail: str  # what the OS, TLS library or broker said
    ts_ms: int  # when it last happened
    count: int  # failures in a row so far


def classify(exc: BaseException | None, tls: bool = False) -> tuple[str, str]:
    """(cause, detail) of a connect exception (pure); ``tls``: the session speaks TLS."""
    if exc is None:
        return "other", "unknown error"
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, socket.gaierror):
        return "dns", detail
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return "tls", detail
    if tls and isinstance(exc, ConnectionResetError | BrokenPipeError):
        # a plain-MQTT port hangs up on a TLS hello: the usual "1883 instead of 8883"
        return "tls", f"the broker hung up during the TLS handshake ({detail}); is this port TLS?"
    if isinstance(exc, ConnectionRefusedError):
        return "refused", detail
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timeout", detail
    if isinstance(exc, OSError) and exc.errno in (101, 113):  # ENETUNREACH, EHOSTUNREACH
        return "unreachable", detail
    return "other", f"{type(exc).__name__}: {detail}"


def classify_refusal(reason: Any) -> tuple[str, str]:
    """(cause, detail) of a CONNACK refusal (a paho ReasonCode or its text)."""
    text = str(reason)
    return ("auth" if text in AUTH_REASONS else "broker"), text


def describe(err: ConnectError) -> str:
    """One line for logs and status: cause, detail, and what to check."""
    hint = HINTS.get(err.cause, "")
    return f"{err.cause}: {err.detail}" + (f" ({hint})" if hint else "")


class ConnectFailures:
    """Failed connects of one session; thread-safe (paho's thread writes, the main loop reads)."""

    def __init__(self, logger: logging.Logger, target: str, every_s: float = LOG_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.log = logger
        self.target = target
        self.every_s = every_s
        self._clock = clock
        self._lock = threading.Lock()
        self.last: ConnectError | None = None  # stays after a success, for the status report
        self.in_row = 0
        self._logged_at: float | None = None
        self._logged_count = 0

    def failed(self, cause: str, detail: str) -> None:
        with self._lock:
            self.in_row += 1
            before = self.last.cause if self.last is not None and self.in_row > 1 else None
            self.last = ConnectError(cause, detail, int(time.time() * 1000), self.in_row)
            now = self._clock()
            fresh = self._logged_at is None or before != cause  # a new cause is news: logged at once
            if not fresh and now - self._logged_at < self.every_s:  # type: ignore[operator]
                return
            since = self.in_row - self._logged_count
            self._logged_at, self._logged_count = now, self.in_row
            err = self.last
        more = f"; {since} failed attempts since the last report" if since > 1 else ""
        self.log.error("cannot connect to the broker at %s: %s%s; retrying", self.target, describe(err), more)

    def succeeded(self) -> None:
        with self._lock:
            in_row, self.in_row = self.in_row, 0
            self._logged_at, self._logged_count = None, 0
        if in_row:
            self.log.info("connected to the broker at %s after %d failed attempt(s)", self.target, in_row)

    def snapshot(self) -> dict[str, Any] | None:
        with self._lock:
            return None if self.last is None else {**asdict(self.last), "in_row": self.in_row}


def describe_snapshot(snap: dict[str, Any] | None) -> str:
    """``describe`` for a ``ConnectFailures.snapshot()`` (or what the agent stored of it)."""
    if not snap:
        return ""
    return describe(ConnectError(snap["cause"], snap["detail"], snap["ts_ms"], snap["count"]))
