"""A TCP forwarder the test controls: the WAN between a school's broker and the district's.

``cut()`` drops every open connection and stops listening, so reconnect attempts are refused (as when the
district's address cannot be reached); ``restore()`` listens on the same port and forwards again.
Threads, blocking sockets.

Not a far end that accepts a connection and closes it at once: on Mosquitto 2.0.11 with OpenSSL 3 that
can hang the school's broker (docs/district.md, "Mosquitto 2.0.11: a TLS uplink closed at once hangs the
broker"). While up, a connection whose upstream cannot be reached is still accepted and closed.
"""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path


def port_below_ephemeral_range(host: str = "127.0.0.1") -> int:
    """A free port the kernel never hands out as a connection's own port. While the WAN is cut nothing
    listens on the proxy's port; were it an ephemeral one, any outgoing connection on this machine could
    take it meanwhile (restore() could not listen again), and a bridge dialling it could even be connected
    to itself (TCP simultaneous open)."""
    ranges = Path("/proc/sys/net/ipv4/ip_local_port_range")
    low = int(ranges.read_text().split()[0]) if ranges.exists() else 32768
    for _ in range(200):
        port = random.randrange(max(1024, low - 12000), low)
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port below {low} on {host}")


class TcpProxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.host, self.target = host, target_port
        self.port = port_below_ephemeral_range(host)
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
                if not self.up.is_set():  # cut while this one was connecting upstream: it is not spared
                    client.close()
                    upstream.close()
                    continue
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
            # close() alone leaves the socket listening while the accept thread is blocked in accept():
            # the kernel completes the next connection and the thread accepts it (then closes it).
            # shutdown() stops the listening at once and wakes accept() with an error.
            try:
                self._server.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
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
