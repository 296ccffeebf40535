"""`campus-edge demo`: the simulated campus on this machine.

Runs the shipped example configs (config/gate.yaml, classroom-301.yaml, meter-room.yaml, bridge.yaml)
as real processes against a private Mosquitto, with every piece of hardware simulated at its lowest
layer: meters on pseudo-terminals speaking DL/T 645 and Modbus, a pulse generator and relays on
gpiozero's mock pins, a synthetic gate scene replayed to the thermal camera driver. It prints what
crosses the broker, sends a few commands as a phone app would, runs the hub (config/hub.yaml) with a
local robot server standing in for WeCom and DingTalk and prints what the staff's phones would show,
and finally reads back what the bridge stored (`campus-edge history`) and what the hub journalled
(`campus-edge hub alerts`, `hub report`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]  # the checkout; an installed demo reads EXAMPLES only
EXAMPLES = Path(__file__).resolve().parent / "examples"  # config/ in a checkout; package data when installed
NODES = ("gate", "classroom-301", "meter-room")
BURST_AT = 20.0  # seconds into the demo (a third of a shorter one)


def _override(
    cfg: dict[str, Any], broker: tuple[str, int], workdir: Path, name: str, burst_at: float = BURST_AT
) -> dict[str, Any]:
    """The only changes the demo makes to the example configs: where the broker and the files are,
    shorter intervals so a minute shows something, a fresh gate scene, and a burst pipe."""
    cfg["mqtt"] = {**cfg.get("mqtt", {}), "host": broker[0], "port": broker[1]}
    cfg["storage"] = {**cfg.get("storage", {}), "path": str(workdir / f"{name}.db")}
    cfg.pop("timezone", None)  # demo runs in the machine's own time zone
    for dev in cfg.get("devices", []):
        if "poll_seconds" in dev:
            dev["poll_seconds"] = min(dev["poll_seconds"], 2)
        if dev.get("driver") == "replay":
            dev["path"] = str(workdir / "gate-scene.npy")
        if "telemetry_seconds" in dev:
            dev["telemetry_seconds"] = 10
        if dev.get("driver") == "pulse" and "simulate" in dev and "leak" in dev:
            # A pipe bursts burst_at seconds in; the burst alert waits 6 s instead of minutes.
            onset = datetime.now() + timedelta(seconds=burst_at)
            dev["simulate"] = {**dev["simulate"], "profile": "burst_pipe",
                               "onset": onset.strftime("%Y-%m-%dT%H:%M:%S"),
                               "burst_lpm": 2 * dev["leak"].get("burst_lpm", 100)}
            dev["leak"] = {**dev["leak"], "burst_minutes": 0.1}
    if name == "bridge":
        cfg["sink"] = {"type": "sqlite", "path": str(workdir / "history.db")}
        cfg["storage"] = {**cfg["storage"], "path": str(workdir / "bridge-buffer.db")}
    return cfg


class Feed:
    """Prints what crosses the broker, compactly, and counts telemetry."""

    def __init__(self, host: str, port: int, t0: float) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.t0 = t0
        self.telemetry: Counter[str] = Counter()
        self.events: Counter[str] = Counter()
        self.replies: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe("campus/#", qos=1)
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.loop_start()

    def say(self, text: str) -> None:
        print(f"[{time.monotonic() - self.t0:5.1f}s] {text}", flush=True)

    def _on_message(self, client, userdata, msg) -> None:
        parts = msg.topic.split("/")
        try:
            body = json.loads(msg.payload) if msg.payload[:1] in (b"{", b"[") else msg.payload.decode()
        except (ValueError, UnicodeDecodeError):
            return
        leaf = parts[-1]
        where = "/".join(parts[2:-1])
        with self.lock:
            if leaf == "telemetry":
                self.telemetry[where] += 1
                if self.telemetry[where] == 1 and not where.endswith("/agent"):
                    vals = ", ".join(f"{k}={v:g}" for k, v in list(body["values"].items())[:4])
                    self.say(f"telemetry {where}: {vals}")
            elif leaf == "event" and body.get("type") == "rule_action":
                self.events["rule_action"] += 1
                done = "done" if body.get("ok") else f"FAILED: {body.get('error')}"
                pulse = f" {body['seconds']:g} s" if "seconds" in body else ""
                what = f"{parts[3]} {body.get('action')}{pulse}"
                self.say(
                    f"LOCAL RULE {body.get('rule_name')} at {parts[2]}: {what} "
                    f"for the {body.get('trigger_event')} of {body.get('trigger_device')}, by itself: {done}"
                )
            elif leaf == "event":
                self.events[body.get("type", "?")] += 1
                extra = {k: v for k, v in body.items() if k not in ("ts", "seq", "type", "snapshot_png")}
                shown = json.dumps(extra)[:150]
                png = (
                    f" (+{len(body['snapshot_png'])} chars of false-colour PNG)"
                    if "snapshot_png" in body
                    else ""
                )
                self.say(f"EVENT {body.get('type')} at {where}: {shown}{png}")
            elif leaf == "reply":
                self.replies[body.get("id") or ""] = body
                self.say(f"reply {where}: {json.dumps(body)}")
            elif leaf == "state" and isinstance(body, dict) and "on" in body:
                self.say(f"state {where}: {'ON' if body['on'] else 'off'} ({body.get('cause')})")
            elif leaf == "status":
                self.say(f"{'/'.join(parts[1:3])} is {body}")

    def command(self, topic: str, action: str) -> str:
        cid = f"demo-{uuid.uuid4().hex[:6]}"
        self.say(f"phone app -> {topic}: {action}")
        self.client.publish(
            topic,
            json.dumps({"id": cid, "action": action, "expires": int(time.time() * 1000) + 30_000}),
            qos=1,
        )
        return cid

    def close(self) -> None:
        from edge.mqtt.session import stop_loop

        self.client.disconnect()
        stop_loop(self.client)


def run_demo(args: argparse.Namespace) -> int:
    import importlib.util

    from edge.broker import Mosquitto

    missing = [m for m in ("httpx", "openpyxl") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"campus-edge demo: the demo runs the hub, which needs {', '.join(missing)}: install the hub "
              "extra (pip install -e '.[hub]', or ./campus demo)", file=sys.stderr)
        return 2
    workdir = Path(args.workdir).resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    t0 = time.monotonic()
    print(f"campus-edge demo: everything lives in {workdir}; logs in *.log there\n", flush=True)
    broker = Mosquitto(workdir / "mosquitto").start()
    # The broker is stopped whatever happens: an error, Ctrl-C, or a SIGTERM (turned into SystemExit).
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        return _run_with_broker(args, workdir, broker, t0)
    finally:
        broker.stop()
        signal.signal(signal.SIGTERM, previous)


# noqa reason: one linear script a reader follows top to bottom; the hub-demo branch is reworking it
def _run_with_broker(  # noqa: C901, PLR0912, PLR0915
        args: argparse.Namespace, workdir: Path, broker: Any, t0: float) -> int:
    from edge import demo_hub
    from simulators import gate_scene
    from simulators.robots import RobotServer

    print(f"broker: private Mosquitto on 127.0.0.1:{broker.port}", flush=True)
    gate_scene.main(["--people", str(args.people), "--seed", "7", "--out", str(workdir / "gate-scene.npy")])

    procs: list[tuple[str, subprocess.Popen]] = []
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "mock", "PYTHONUNBUFFERED": "1"}
    cli = [sys.executable, "-m", "edge.cli"]
    burst_at = min(BURST_AT, args.seconds / 3)
    # The hub first, so it hears every alert; a local robot server stands in for WeCom and DingTalk.
    robots = RobotServer().start()
    hub_cfg, owner = demo_hub.hub_config(yaml.safe_load((EXAMPLES / "hub.yaml").read_text()),
                                         (broker.host, broker.port), workdir, robots)
    hub_yaml = workdir / "hub.yaml"
    hub_yaml.write_text(yaml.safe_dump(hub_cfg, allow_unicode=True, sort_keys=False))
    with open(workdir / "hub.log", "wb") as log:
        hub = subprocess.Popen([*cli, "hub", "-c", str(hub_yaml)], env=env, stdout=log,
                               stderr=subprocess.STDOUT, cwd=workdir)
    # no need to wait for it: the first alert comes many seconds after the nodes start, and their retained
    # status and info reach the hub whenever it subscribes
    procs.append(("hub", hub))
    print(f"hub: config/hub.yaml, its robots on a local robot server at {robots.base} "
          f"(channels {', '.join(c['id'] for c in hub_cfg['channels'])})", flush=True)
    for c in hub_cfg["channels"]:
        if c["type"] == "email":
            print(f"  ({c['id']}: e-mail to a closed loopback port, the demo has no mail server; its rules "
                  "escalate to it only after minutes without an acknowledgement)", flush=True)
    for name in ("bridge", *NODES):
        cfg = yaml.safe_load((EXAMPLES / f"{name}.yaml").read_text())
        path = workdir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(_override(cfg, (broker.host, broker.port), workdir, name, burst_at)))
        role = "bridge" if name == "bridge" else "agent"
        with open(workdir / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(
                [*cli, role, "-c", str(path)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=workdir
            )
        procs.append((name, proc))
    feed = Feed(broker.host, broker.port, t0)
    phones = demo_hub.Phones(robots, owner, feed.say)
    try:
        script = [
            (6, "campus/mh-primary/classroom-301/ac-301/set", "on"),
            (9, "campus/mh-primary/classroom-301/lights-301/set", "on"),
            (14, "campus/mh-primary/group/after-hours/set", "off"),
            (burst_at, None, "(simulated) a pipe bursts in the meter room: water-main's flow jumps"),
        ]
        # the main valve starts closed (`initial: restore`, first start): the caretaker opens it
        script.append((min(5.0, burst_at / 2), "campus/mh-primary/meter-room/water-valve/set", "on"))
        script.sort(key=lambda entry: entry[0])
        end = t0 + args.seconds
        while time.monotonic() < end:
            now = time.monotonic() - t0
            while script and now >= script[0][0]:
                _, topic, action = script.pop(0)
                if topic is None:
                    feed.say(action)
                else:
                    feed.command(topic, action)
            phones.poll()
            for name, p in procs:
                if p.poll() is not None:
                    feed.say(f"{name} exited with status {p.returncode}; see {workdir / (name + '.log')}")
                    return 1
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        # the agents and the bridge first; the hub then journals the nodes going offline
        for _, p in reversed(procs):
            if p is not hub and p.poll() is None:
                p.terminate()
        for _, p in procs:
            try:
                if p is not hub:
                    p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        settle = time.monotonic() + 3
        while time.monotonic() < settle and hub.poll() is None:
            phones.poll()
            time.sleep(0.2)
        if hub.poll() is None:
            hub.terminate()
        try:
            hub.wait(20)
        except subprocess.TimeoutExpired:
            hub.kill()
        phones.poll()
        feed.close()
        robots.stop()
        broker.stop()

    print("\n== what crossed the broker ==")
    for where, n in sorted(feed.telemetry.items()):
        print(f"  {n:4d} telemetry messages from {where}")
    for kind, n in sorted(feed.events.items()):
        print(f"  {n:4d} event(s) of type {kind}")
    truth = json.loads((workdir / "gate-scene.json").read_text())["people"]
    fps = json.loads((workdir / "gate-scene.json").read_text())["device"]["fps"]
    seen = [p for p in truth if p["frames"] and p["frames"][-1] / fps < args.seconds - 5]
    febrile = [p for p in seen if p["fever"]]
    cores = ", ".join(f"{p['core_c']:.2f}" for p in febrile) or "-"
    print(
        f"\n  gate ground truth: {len(seen)} pupils reached the camera, {len(febrile)} febrile "
        f"(core {cores} degC; {sum(p['glasses'] for p in febrile)} with glasses)"
    )
    print("\n== what reached the phones (the local robot server) ==")
    for what, n in sorted(phones.shown.items()):
        print(f"  {n:4d} {what} message(s)")
    print(f"  {phones.images:4d} snapshot image(s), each md5-checked by the robot")
    print("\n== what the bridge stored (campus-edge history) ==")
    for device in ("mh-primary/meter-room/meter-block-a", "mh-primary/meter-room/water-main"):
        r = subprocess.run(
            [*cli, "history", device, "--db", str(workdir / "history.db"), "--since", "1h"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        lines = r.stdout.strip().splitlines()
        print(
            f"$ campus-edge history {device} --db {workdir / 'history.db'} --since 1h   ({len(lines)} lines)"
        )
        for line in lines[:4] + (["  ..."] if len(lines) > 5 else []) + lines[-1:] * (len(lines) > 4):
            print("  " + line)
    from edge.hub.config import timezone_of

    demo_hub.read_back(cli, hub_yaml, Path(hub_cfg["storage"]["path"]), timezone_of(hub_cfg))
    return 0


def add_parsers(sub: Any) -> None:
    d = sub.add_parser(
        "demo",
        help="run the simulated campus on this machine",
        description=__doc__.split("\n\n")[1].replace("\n", " "),
    )
    d.add_argument("--seconds", type=float, default=60.0, help="how long to run (default 60)")
    d.add_argument(
        "--workdir", default="var/demo", help="where configs, databases and logs go (default var/demo)"
    )
    d.add_argument("--people", type=int, default=30, help="people in the synthetic gate queue (default 30)")
    d.set_defaults(func=run_demo)
