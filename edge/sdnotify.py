"""systemd's notify protocol in a few lines: one datagram per message to ``$NOTIFY_SOCKET``.

``Type=notify`` units learn from it that the service is ready (``READY=1``), alive
(``WATCHDOG=1``, at least once per ``WatchdogSec=``) and what it is doing (``STATUS=...``,
shown by ``systemctl status``). Outside systemd (no ``NOTIFY_SOCKET``) every call does nothing.
A socket name starting with ``@`` is in the abstract namespace (a leading NUL byte).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping


class Notifier:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        addr = env.get("NOTIFY_SOCKET", "")
        self.address: str | None = ("\0" + addr[1:] if addr.startswith("@") else addr) or None
        self.watchdog_seconds = watchdog_seconds(env)
        self.error: str | None = None  # the last send failure, for the status report

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *fields: str) -> bool:
        """Send ``KEY=value`` lines as one datagram; False when there is no socket or it failed."""
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.connect(self.address)
                sock.sendall("\n".join(fields).encode("utf-8"))
        except OSError as exc:
            self.error = str(exc)
            return False
        self.error = None
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.send("READY=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")


def watchdog_seconds(env: Mapping[str, str]) -> float | None:
    """The watchdog timeout systemd set for this process (``WatchdogSec=``), or None."""
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None  # meant for another process (e.g. our parent shell)
    return int(usec) / 1_000_000
