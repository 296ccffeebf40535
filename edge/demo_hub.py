"""The hub's part of `campus-edge demo`: config/hub.yaml run as a real process, its robots replaced by a
local robot server (simulators/robots.py), what the staff's phones would show, and the journal read
back at the end with `campus-edge hub alerts`, `hub close` and `hub report`.

The demo changes only where things are: the broker, the journal file, and each channel's address (the
robots' webhooks on the local server, their signing secret and the mail password in files of the demo,
mail to a loopback port). Rules, texts, language and time zone are the shipped ones.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulators.robots import Received, RobotServer, show

SERVICE_NAMES = {"wecom": "WeCom robot", "dingtalk": "DingTalk robot", "feishu": "Feishu bot",
                 "webhook": "webhook"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _secret_file(workdir: Path, name: str) -> str:
    path = workdir / name
    path.write_text(secrets.token_hex(16) + "\n")
    path.chmod(0o600)
    return str(path)


def hub_config(cfg: dict[str, Any], broker: tuple[str, int], workdir: Path,
               robots: RobotServer) -> tuple[dict[str, Any], dict[str, str]]:
    """The shipped hub config pointed at the demo's broker, journal and local robots; also which
    robot token belongs to which channel id (to label what arrives)."""
    cfg["mqtt"] = {**cfg.get("mqtt", {}), "host": broker[0], "port": broker[1]}
    cfg["storage"] = {**cfg.get("storage", {}), "path": str(workdir / "hub" / "hub.db")}
    # the console (when built in) on a free port, so a busy 8080 cannot stop the demo
    cfg["web"] = {**cfg.get("web", {}), "host": "127.0.0.1", "port": _free_port()}
    owner: dict[str, str] = {}
    for ch in cfg.get("channels", []):
        kind, cid = ch.get("type"), ch.get("id", "?")
        signed = "secret" in ch or "secret_file" in ch
        if signed:
            ch.pop("secret", None)
            ch["secret_file"] = _secret_file(workdir, f"{cid}.secret")
        secret = Path(ch["secret_file"]).read_text().strip() if signed else None
        if kind == "wecom":
            token = robots.wecom_key()
            ch["url"] = robots.wecom_url(token)
        elif kind == "dingtalk":
            ch["url"] = robots.dingtalk_robot(secret)  # the robot checks the signature
            token = ch["url"].rsplit("=", 1)[1]
        elif kind == "feishu":
            ch["url"] = robots.feishu_bot(secret)
            token = ch["url"].rsplit("/", 1)[1]
        elif kind == "webhook":
            token = cid
            ch["url"] = robots.webhook_url(token)
        else:  # email: a loopback port nobody answers; the shipped rules only escalate to it after minutes
            ch.update(host="127.0.0.1", port=_free_port())
            if "password" in ch or "password_file" in ch:
                ch.pop("password", None)
                ch["password_file"] = _secret_file(workdir, f"{cid}.password")
            continue
        owner[token] = cid
    return cfg, owner


def channel_of(rec: Received, owner: dict[str, str]) -> str:
    token = rec.query.get("key") or rec.query.get("access_token") or rec.path.rsplit("/", 1)[-1]
    return owner.get(token, "?")


class Phones:
    """Prints each message the local robots accepted as the group's phones would show it."""

    def __init__(self, robots: RobotServer, owner: dict[str, str], say: Callable[[str], None]) -> None:
        self.robots, self.owner, self.say = robots, owner, say
        self.seen = 0
        self.shown: Counter[str] = Counter()  # "channel (service) kind" -> messages
        self.images = 0

    def poll(self) -> None:
        for rec in self.robots.since(self.seen):
            self.seen += 1
            cid = channel_of(rec, self.owner)
            body = rec.body if isinstance(rec.body, dict) else {}
            kind = body.get("msgtype") or body.get("msg_type") or body.get("kind") or "message"
            if rec.accepted:
                self.shown[f"{cid} ({SERVICE_NAMES[rec.service]}) {kind}"] += 1
                self.images += kind == "image"
            lines = show(rec)
            self.say(f"PHONE {cid} ({SERVICE_NAMES[rec.service]}): {lines[0] if lines else ''}")
            for line in lines[1:]:
                print(f"{'':9}| {line}", flush=True)


def read_back(cli: list[str], hub_yaml: Path, hub_db: Path, tz: Any) -> None:
    """The journal after the run: the alerts, the first fever closed as the school nurse would, the
    day's report."""
    from edge.hub.journal import Journal

    def run(*argv: str) -> str:
        shown = " ".join(a if " " not in a else f'"{a}"' for a in argv)
        print(f"$ campus-edge {shown}")
        r = subprocess.run([*cli, *argv], capture_output=True, text=True, timeout=60)
        out = (r.stdout + r.stderr).rstrip()
        for line in out.splitlines():
            print("  " + line)
        return out

    print("\n== the hub's journal (campus-edge hub) ==")
    run("hub", "alerts", "-c", str(hub_yaml))
    journal = Journal(hub_db, tz)
    try:
        fevers = journal.alerts(types=["fever"], limit=None)
    finally:
        journal.shutdown()
    if fevers:
        first = min(fevers, key=lambda a: a.id)
        reading = round(float(first.fields.get("temp_c", 38.0)), 1)
        print("\nthe school nurse re-checks the first fever with a clinical thermometer:")
        run("hub", "close", str(first.id), "--outcome", "parents_called", "--reading", f"{reading:.1f}",
            "--note", "demo", "--by", "school-nurse", "-c", str(hub_yaml))
    print()
    run("hub", "report", "--format", "md", "-c", str(hub_yaml))
