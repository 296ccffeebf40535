"""Start a private Mosquitto on a free loopback port (demo and tests).

The broker gets its own config, persistence file and log in a directory of
ours, so it can be stopped, killed and restarted with its sessions intact.
"""

from __future__ import annotations

import getpass
import signal

from edge.localserver import LocalServer, find_exe, free_port, wait_port

__all__ = ["Mosquitto", "free_port", "wait_port"]


class Mosquitto(LocalServer):
    """extra_conf is appended to our test config; conf replaces it whole (e.g. the shipped deploy file,
    with its paths and listeners pointed at ours; it must listen on 127.0.0.1:port)."""

    def __init__(
        self, workdir, port: int | None = None, extra_conf: str = "", conf: str | None = None
    ) -> None:
        self.exe = find_exe("mosquitto", "/usr/sbin/mosquitto", "mosquitto mosquitto-clients")
        super().__init__(workdir, port)
        self.conf = self.dir / "mosquitto.conf"
        if conf is not None:
            self.conf.write_text(conf)
            return
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.dir}/\n"
            "autosave_interval 1\n"
            "max_queued_messages 100000\n"
            "max_inflight_messages 100\n"
            "set_tcp_nodelay true\n"  # no Nagle delay: latency figures mean something
            # Mosquitto started as root drops to user `mosquitto`, which cannot write our directory.
            f"user {getpass.getuser()}\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\n" + extra_conf
        )

    def command(self) -> list[str]:
        return [self.exe, "-c", str(self.conf)]

    def reload(self) -> None:
        """SIGHUP: Mosquitto reads its ACL and password files again."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)

    def settings(self) -> dict:
        return {"host": self.host, "port": self.port}
