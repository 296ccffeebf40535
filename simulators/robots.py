"""A local robot server that speaks WeCom, DingTalk, Feishu and generic-webhook HTTP.

It stands in for the chat services' robots wherever the real ones must not be used: the tests, the demo
(`campus-edge demo` points the hub's channels at it) and the benchmarks. Run it alone to try a hub
config without a real robot: ``python -m simulators.robots`` prints one URL per service and every
message that arrives.

One ThreadingHTTPServer on a loopback port answers like each service and checks what it gets:

- WeCom   POST /cgi-bin/webhook/send?key=K          message shapes, 4096/2048-byte limits, image md5
- DingTalk POST /robot/send?access_token=T[&timestamp=&sign=]   the HMAC signature when a secret is set
- Feishu  POST /open-apis/bot/v2/hook/T             the body's timestamp + sign when a secret is set
- webhook POST /hooks/<name>                        any JSON; 200

Every accepted message is recorded (``server.messages(service)``); every request, accepted or not,
is in ``server.requests``. A test can script replies (``reply(service, ...)``), enforce a rate limit
(``limit(service, n, window)``, answered with the service's own error code), and take the server
down and back up on the same port (``stop()`` / ``start()``).

    with RobotServer() as robots:
        key = robots.wecom_key()
        cfg = {"id": "gate", "type": "wecom", "url": robots.wecom_url(key)}
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlsplit

SERVICES = ("wecom", "dingtalk", "feishu", "webhook")

# What each service answers when its rate limit is hit: (HTTP status, body).
RATE_LIMIT_REPLY: dict[str, tuple[int, dict[str, Any]]] = {
    "wecom": (200, {"errcode": 45009, "errmsg": "api freq out of limit"}),
    "dingtalk": (200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
    "feishu": (200, {"code": 11232, "msg": "frequency limited", "data": {}}),
    "webhook": (429, {"error": "too many requests"}),
}
OK_REPLY: dict[str, dict[str, Any]] = {
    "wecom": {"errcode": 0, "errmsg": "ok"},
    "dingtalk": {"errcode": 0, "errmsg": "ok"},
    "feishu": {"code": 0, "msg": "success", "data": {}},
    "webhook": {"ok": True},
}


@dataclass
class Received:
    """One request as the server saw it."""

    service: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw bytes when it was not JSON
    at: float
    status: int = 0
    answer: Any = None

    @property
    def accepted(self) -> bool:
        a = self.answer if isinstance(self.answer, dict) else {}
        return self.status == 200 and a.get("errcode", a.get("code", 0)) == 0


@dataclass
class _Limit:
    count: int
    window: float
    times: deque = field(default_factory=deque)


class RobotServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.wecom_keys: set[str] = set()
        self.dingtalk_tokens: dict[str, str | None] = {}  # token -> signing secret (None: unsigned)
        self.feishu_hooks: dict[str, str | None] = {}
        self.scripted: dict[str, deque[tuple[int, Any, dict[str, str]]]] = {s: deque() for s in SERVICES}
        self.limits: dict[str, _Limit] = {}
        self.delay = 0.0  # seconds to wait before answering (timeouts)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[socket.socket] = set()  # open keep-alive connections, cut on stop()

    # -- life cycle --------------------------------------------------------------------------------
    def start(self) -> RobotServer:
        handler = _handler_for(self)
        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"robots:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (connections are refused) until start() again on the same port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self.lock:  # a client's pooled keep-alive connection must not outlive the "outage"
            conns, self._conns = list(self._conns), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def __enter__(self) -> RobotServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- robots ----------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    def wecom_key(self) -> str:
        key = str(uuid.uuid4())
        self.wecom_keys.add(key)
        return key

    def wecom_url(self, key: str) -> str:
        return f"{self.base}/cgi-bin/webhook/send?key={key}"

    def dingtalk_robot(self, secret: str | None = None) -> str:
        """A new robot's webhook URL; with ``secret``, unsigned or badly signed requests are refused."""
        token = uuid.uuid4().hex
        self.dingtalk_tokens[token] = secret
        return f"{self.base}/robot/send?access_token={token}"

    def feishu_bot(self, secret: str | None = None) -> str:
        token = str(uuid.uuid4())
        self.feishu_hooks[token] = secret
        return f"{self.base}/open-apis/bot/v2/hook/{token}"

    def webhook_url(self, name: str = "campus") -> str:
        return f"{self.base}/hooks/{name}"

    # -- behaviour ---------------------------------------------------------------------------------
    def reply(self, service: str, body: Any, status: int = 200, times: int = 1,
              headers: dict[str, str] | None = None) -> None:
        """Answer the next ``times`` requests to ``service`` with this, whatever they contain."""
        for _ in range(times):
            self.scripted[service].append((status, body, headers or {}))

    def limit(self, service: str, count: int, window: float) -> None:
        """Enforce at most ``count`` accepted messages per ``window`` seconds (sliding), like the service."""
        self.limits[service] = _Limit(count, window)

    # -- what arrived ------------------------------------------------------------------------------
    def messages(self, service: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.service == service and r.accepted]

    def all_requests(self, service: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.service == service]

    def since(self, index: int) -> list[Received]:
        """Requests from the ``index``-th on, in arrival order (a follower keeps its own count)."""
        with self.lock:
            return self.requests[index:]

    # -- checking a request ------------------------------------------------------------------------
    def answer(self, rec: Received) -> tuple[int, Any, dict[str, str]]:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            if self.scripted[rec.service]:
                return self.scripted[rec.service].popleft()
        problem = CHECKS[rec.service](self, rec)
        if problem is not None:
            return problem
        with self.lock:
            lim = self.limits.get(rec.service)
            if lim is not None:
                now = time.monotonic()
                while lim.times and now - lim.times[0] >= lim.window:
                    lim.times.popleft()
                if len(lim.times) >= lim.count:
                    status, body = RATE_LIMIT_REPLY[rec.service]
                    return status, body, {"Retry-After": "1"} if rec.service == "webhook" else {}
                lim.times.append(now)
        return 200, OK_REPLY[rec.service], {}


def _wecom(code: int, msg: str) -> tuple[int, Any, dict[str, str]]:
    return 200, {"errcode": code, "errmsg": msg}, {}


def check_wecom(server: RobotServer, rec: Received) -> tuple[int, Any, dict[str, str]] | None:
    if rec.path != "/cgi-bin/webhook/send" or rec.query.get("key") not in server.wecom_keys:
        return _wecom(93000, "invalid webhook url")
    b = rec.body
    if not isinstance(b, dict) or b.get("msgtype") not in ("text", "markdown", "image", "news"):
        return _wecom(40008, "invalid message type")
    kind = b["msgtype"]
    part = b.get(kind)
    if not isinstance(part, dict):
        return _wecom(40058, f"missing {kind}")
    if kind in ("text", "markdown"):
        content = part.get("content")
        if not isinstance(content, str) or not content:
            return _wecom(44004, "empty content")
        limit = 2048 if kind == "text" else 4096
        if len(content.encode("utf-8")) > limit:
            return _wecom(40058, f"content exceed max length {limit}")
    if kind == "image":
        try:
            raw = base64.b64decode(part.get("base64", ""), validate=True)
        except (binascii.Error, TypeError, ValueError):
            return _wecom(40058, "invalid base64")
        if len(raw) > 2 * 1024 * 1024:
            return _wecom(40009, "invalid image size")
        if not (raw.startswith(b"\x89PNG\r\n\x1a\n") or raw.startswith(b"\xff\xd8\xff")):
            return _wecom(40058, "image is neither PNG nor JPG")
        if hashlib.md5(raw).hexdigest() != part.get("md5"):
            return _wecom(40058, "md5 not match")
    return None


def check_dingtalk(server: RobotServer, rec: Received) -> tuple[int, Any, dict[str, str]] | None:
    token = rec.query.get("access_token")
    if rec.path != "/robot/send" or token not in server.dingtalk_tokens:
        return 200, {"errcode": 300001, "errmsg": "token is not exist"}, {}
    secret = server.dingtalk_tokens[token]
    if secret is not None:
        ts, sign = rec.query.get("timestamp"), rec.query.get("sign")
        if not ts or not sign or not ts.isdigit() or abs(int(ts) - time.time() * 1000) > 3600_000:
            return 200, {"errcode": 310000, "errmsg": "sign not match, timestamp missing or stale"}, {}
        want = base64.b64encode(
            hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()
        ).decode()
        if not hmac.compare_digest(sign, want):
            return 200, {"errcode": 310000, "errmsg": "sign not match"}, {}
    b = rec.body
    if not isinstance(b, dict) or b.get("msgtype") not in ("text", "markdown", "link", "actionCard"):
        return 200, {"errcode": 40035, "errmsg": "invalid msgtype"}, {}
    if b["msgtype"] == "markdown":
        md = b.get("markdown")
        if not isinstance(md, dict) or not md.get("title") or not md.get("text"):
            return 200, {"errcode": 40035, "errmsg": "markdown needs title and text"}, {}
    return None


def check_feishu(server: RobotServer, rec: Received) -> tuple[int, Any, dict[str, str]] | None:
    prefix = "/open-apis/bot/v2/hook/"
    token = rec.path[len(prefix):] if rec.path.startswith(prefix) else None
    if token not in server.feishu_hooks:
        msg = "param invalid: incoming webhook access token invalid"
        return 200, {"code": 19001, "msg": msg, "data": {}}, {}
    b = rec.body
    if not isinstance(b, dict):
        return 400, {"code": 9499, "msg": "Bad Request", "data": {}}, {}
    secret = server.feishu_hooks[token]
    if secret is not None:
        ts, sign = str(b.get("timestamp", "")), b.get("sign")
        fresh = ts.isdigit() and abs(int(ts) - time.time()) <= 3600
        want = base64.b64encode(hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()
        if not fresh or not isinstance(sign, str) or not hmac.compare_digest(sign, want):
            msg = "sign match fail or timestamp is not within one hour from current time"
            return 200, {"code": 19021, "msg": msg, "data": {}}, {}
    kind = b.get("msg_type")
    ok = (
        (kind == "text" and isinstance(b.get("content"), dict) and b["content"].get("text"))
        or (kind == "post" and isinstance(b.get("content"), dict) and b["content"].get("post"))
        or (kind == "interactive" and isinstance(b.get("card"), dict) and b["card"].get("elements"))
    )
    if not ok:
        return 200, {"code": 19002, "msg": "params error, msg_type or content invalid", "data": {}}, {}
    return None


def check_webhook(server: RobotServer, rec: Received) -> tuple[int, Any, dict[str, str]] | None:
    if not rec.path.startswith("/hooks/"):
        return 404, {"error": "not found"}, {}
    if not isinstance(rec.body, dict):
        return 400, {"error": "expected a JSON object"}, {}
    return None


CHECKS = {"wecom": check_wecom, "dingtalk": check_dingtalk, "feishu": check_feishu, "webhook": check_webhook}


def service_of(path: str) -> str:
    if path.startswith("/cgi-bin/webhook/"):
        return "wecom"
    if path.startswith("/robot/"):
        return "dingtalk"
    if path.startswith("/open-apis/bot/"):
        return "feishu"
    return "webhook"


def _handler_for(server: RobotServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output clean
            pass

        def setup(self) -> None:
            super().setup()
            with server.lock:
                server._conns.add(self.connection)

        def finish(self) -> None:
            with server.lock:
                server._conns.discard(self.connection)
            try:
                super().finish()
            except OSError:
                pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw
            # DingTalk's sign arrives URL-encoded; parse_qs decodes it once, as the service does.
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            rec = Received(service_of(parts.path), unquote_plus(parts.path), query,
                           {k: v for k, v in self.headers.items()}, body, time.time())
            status, answer, headers = server.answer(rec)
            rec.status, rec.answer = status, answer
            with server.lock:
                server.requests.append(rec)
            data = json.dumps(answer).encode() if not isinstance(answer, bytes) else answer
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

    return Handler


def show(rec: Received) -> list[str]:
    """What a phone in the robot's group would show for one request (pure): the text as sent, an image
    as a note of its size and whether its md5 matched; a refused request as the service's answer."""
    b = rec.body if isinstance(rec.body, dict) else {}
    if not rec.accepted:
        return [f"(refused by the {rec.service} robot: {json.dumps(rec.answer, ensure_ascii=False)})"]
    kind = b.get("msgtype") or b.get("msg_type")
    if kind == "image" and isinstance(b.get("image"), dict):
        raw = base64.b64decode(b["image"].get("base64", ""))
        fmt = "PNG" if raw.startswith(b"\x89PNG") else "JPG"
        ok = "ok" if hashlib.md5(raw).hexdigest() == b["image"].get("md5") else "MISMATCH"
        return [f"[image: {fmt}, {len(raw) / 1024:.1f} KB, md5 {ok}]"]
    if kind == "text" and rec.service == "wecom":
        return str(b[kind].get("content", "")).splitlines()
    if kind == "markdown":  # rendered: no bold markers, no quote marks; DingTalk's blank lines dropped
        md = b["markdown"].get("content" if rec.service == "wecom" else "text", "")
        return [_plain(line) for line in str(md).splitlines() if line.strip()]
    if kind == "text":  # DingTalk's and Feishu's
        content = b.get("text") or b.get("content") or {}
        return str(content.get("content") or content.get("text") or "").splitlines()
    if rec.service == "webhook" and isinstance(b.get("text"), str):
        snap = b.get("snapshot_png")
        note = [f"[snapshot_png: {len(base64.b64decode(snap)) / 1024:.1f} KB]"] if snap else []
        return b["text"].splitlines() + note
    return [json.dumps(rec.body, ensure_ascii=False)[:300]]


def _plain(line: str) -> str:
    line = line.replace("**", "")
    return line[2:] if line.startswith("> ") else line


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl-C, printing one webhook URL per service and what each message would show."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m simulators.robots", description=main.__doc__)
    ap.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    args = ap.parse_args(argv)
    server = RobotServer(port=args.port).start()
    print(f"WeCom robot:    {server.wecom_url(server.wecom_key())}")
    print(f"DingTalk robot: {server.dingtalk_robot()}")
    print(f"Feishu bot:     {server.feishu_bot()}")
    print(f"webhook:        {server.webhook_url()}", flush=True)
    seen = 0
    try:
        while True:
            for rec in server.since(seen):
                seen += 1
                print(f"-- {time.strftime('%H:%M:%S', time.localtime(rec.at))} {rec.service}")
                for line in show(rec):
                    print(f"   {line}", flush=True)
            time.sleep(0.2)
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main())
