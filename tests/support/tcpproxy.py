"""A TCP forwarder the test controls: the WAN between a school's broker and the district's.

``cut()`` drops every open connection and stops listening, so reconnect attempts are refused (as when the
district's address cannot be reached); ``restore()`` listens on the same port and forwards again.
Threads, blocking sockets.
"""

from __future__ import annotations

import socket
import threading

from edge.broker import free_port


class TcpProxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.host, self.target = host, target_port
        self.port = free_port()
        self.up = threading.Event()
        self.up.set()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = False
        self.accepted = 0
        self._listen()

    def _listen(self) -> None:
        self._server = socket.create_server((self.host, self.port))  # SO_REUSEADDR: the same port again
        threading.Thread(target=self._accept, args=(self._server,), name="tcpproxy-accept",
                         daemon=True).start()

    def _accept(self, server: socket.socket) -> None:
        while not self._closed:
            try:
                client, _ = server.accept()
            except OSError:
                return
            self.accepted += 1
            if not self.up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection((self.host, self.target), timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            self._drop(s)

    def _drop(self, s: socket.socket) -> None:
        with self._lock:
            self._open.discard(s)
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()

    def cut(self) -> None:
        if self.up.is_set():
            self._server.close()
        self.up.clear()
        with self._lock:
            sockets = list(self._open)
        for s in sockets:
            self._drop(s)

    def restore(self) -> None:
        if not self.up.is_set():
            self._listen()
        self.up.set()

    def close(self) -> None:
        self._closed = True
        self.cut()
