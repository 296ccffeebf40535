"""Uvicorn in a thread of the hub's process, on ``web.host:web.port``.

The hub starts it (``ConsoleServer.start``) and stops it; the socket is bound before the thread starts,
so a port in use fails the hub's start-up with a clear message, and port 0 (tests) gives a free one.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

import uvicorn

log = logging.getLogger(__name__)


class ConsoleServer:
    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 8080,
                 on_stop: Callable[[], None] | None = None) -> None:
        self.app, self.host, self.port, self.on_stop = app, host, port, on_stop
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> ConsoleServer:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(f"console: cannot listen on {self.host}:{self.port}: {exc.strerror}") from None
        sock.listen(128)
        self._sock, self.port = sock, sock.getsockname()[1]
        # proxy_headers: behind a reverse proxy on this machine the client address comes from
        # X-Forwarded-For (uvicorn trusts it from 127.0.0.1 only), so log-in throttling sees real clients
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, proxy_headers=True,
                                timeout_graceful_shutdown=2, lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="console", daemon=True)
        self._thread.start()
        log.info("console listening on %s", self.url)
        return self

    def wait_started(self, timeout: float = 10.0) -> bool:
        deadline = threading.Event()
        for _ in range(int(timeout / 0.02)):
            if self._server is not None and self._server.started:
                return True
            deadline.wait(0.02)
        return False

    def stop(self, timeout: float = 10.0) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._server.force_exit = True  # open SSE streams would otherwise hold shutdown
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("console: web server did not stop within %.0f s", timeout)
        if self._sock is not None:
            self._sock.close()
        if self.on_stop is not None:
            self.on_stop()
