"""The `campus-edge` command line."""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from edge import __version__
from edge.config.schema import ConfigError

EXIT_CONFIG = 2


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level.upper(), logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )


def pin_factory_from_env() -> Any:
    """gpiozero's mock factory when asked for (laptops, CI); otherwise gpiozero's own choice."""
    if os.environ.get("GPIOZERO_PIN_FACTORY", "").lower() == "mock":
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        return MockFactory(pin_class=MockPWMPin)
    return None


def _run_until_signal(start: Callable[[], None], stop: Callable[[], None]) -> None:
    # systemd's watchdog kills a hung service with SIGABRT: every thread's stack goes to the log first
    faulthandler.enable()

    def handler(signum, frame):
        stop()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    start()


def cmd_check_config(args: argparse.Namespace) -> int:
    from edge.config.agent import load_agent_config

    cfg = load_agent_config(args.file)
    if cfg.get("calendar"):  # a year without official holiday data is worth knowing before it comes
        from edge.calendar import Calendar

        year = time.localtime().tm_year
        warning = Calendar(cfg["calendar"]).coverage_warning([year, year + 1])
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
    if getattr(args, "probe", False):  # read each thermal camera's first frames: is its blackbody ROI right?
        from edge.screening.cli import probe

        problems = probe(cfg)
        for problem in problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        if problems:
            return EXIT_CONFIG
    print(f"{args.file}: OK ({cfg['site']}/{cfg['node']}, {len(cfg['devices'])} device(s))")
    return 0


def cmd_agent(args: argparse.Namespace) -> int:
    from drivers.base import Resources
    from edge.agent.app import Agent, StartupError
    from edge.config.agent import load_agent_config

    cfg = load_agent_config(args.config)
    agent = Agent(cfg, Resources(pin_factory=pin_factory_from_env()))
    try:
        _run_until_signal(agent.run, agent.stop)
    except StartupError as exc:
        logging.getLogger("campus-edge.agent").error("%s", exc)
        return 1
    return 0


def _seconds(limit: float) -> Callable[[str], float]:
    """argparse type: a finite number of seconds in (0, limit]; anything else is a usage error (exit 2)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text[:40]!r}") from None
        if not 0 < value <= limit:  # also refuses nan and inf
            raise argparse.ArgumentTypeError(
                f"must be more than 0 and at most {limit:g} seconds, got {text[:40]}")
        return value

    return parse


def cmd_switch(args: argparse.Namespace) -> int:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from edge.config.agent import load_agent_config
    from edge.mqtt.topics import SEGMENT, Topics

    if not SEGMENT.fullmatch(args.device):  # '+', '#' or '/' would address other devices, or none
        print(f"DEVICE must be a device id (lower-case letters, digits, '_', '-'), got {args.device!r}",
              file=sys.stderr)
        return EXIT_CONFIG
    cfg = load_agent_config(args.config)
    topics = Topics(cfg["mqtt"]["root"], cfg["site"], cfg["node"])
    cid = uuid.uuid4().hex
    command: dict[str, Any] = {
        "id": cid,
        "action": args.action,
        "expires": int((time.time() + args.timeout) * 1000),
    }
    if args.action == "pulse":
        if args.seconds is None:
            print("pulse needs --seconds", file=sys.stderr)
            return EXIT_CONFIG
        command["seconds"] = args.seconds
    got: dict[str, Any] = {}
    done = threading.Event()
    subscribed = threading.Event()
    reply_topic = topics.device(args.device, "reply")

    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    m = cfg["mqtt"]
    if m.get("username"):
        client.username_pw_set(m["username"], m.get("password"))
    if m.get("tls"):
        client.tls_set(
            ca_certs=m["tls"].get("ca"), certfile=m["tls"].get("cert"), keyfile=m["tls"].get("key")
        )

    def on_connect(c, u, flags, rc, props):
        if not rc.is_failure:
            c.subscribe(reply_topic, qos=1)

    def on_subscribe(c, u, mid, rcs, props):
        subscribed.set()

    def on_message(c, u, msg):
        try:
            reply = json.loads(msg.payload)
        except ValueError:
            return
        if isinstance(reply, dict) and reply.get("id") == cid:
            got.update(reply)
            done.set()

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    try:
        client.connect(m["host"], m["port"], keepalive=30)
    except OSError as exc:
        print(f"cannot reach the broker at {m['host']}:{m['port']}: {exc}", file=sys.stderr)
        return 1
    client.loop_start()
    try:
        if not subscribed.wait(args.timeout):
            print(
                f"no answer from the broker at {m['host']}:{m['port']} within {args.timeout:g} s",
                file=sys.stderr,
            )
            return 1
        client.publish(topics.device(args.device, "set"), json.dumps(command), qos=1)
        if not done.wait(args.timeout):
            print(f"no reply from {cfg['node']}/{args.device} within {args.timeout:g} s", file=sys.stderr)
            return 1
    finally:
        client.disconnect()
        client.loop_stop()
    print(json.dumps(got))
    return 0 if got.get("ok") else 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="campus-edge", description="IoT edge controller for school campuses.")
    p.add_argument("--version", action="version", version=f"campus-edge {__version__}")
    p.add_argument(
        "--log-level",
        default=os.environ.get("CAMPUS_EDGE_LOG", "info"),
        help="debug, info, warning or error (default: info)",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    a = sub.add_parser(
        "agent",
        help="run an agent: devices, commands, outbox",
        description="Run the agent described by a config file until SIGTERM/SIGINT. "
        "GPIOZERO_PIN_FACTORY=mock runs relays and pulse meters on gpiozero's mock pins.",
    )
    a.add_argument("-c", "--config", required=True, metavar="FILE", help="agent config (YAML)")
    a.set_defaults(func=cmd_agent)

    c = sub.add_parser(
        "check-config",
        help="validate an agent config and exit",
        description="Validate an agent config file: prints every mistake with its place "
        "and exits 2, or prints OK and exits 0.",
    )
    c.add_argument("file", metavar="FILE")
    c.add_argument("--probe", action="store_true",
                   help="also read each thermal camera's first frames and check its blackbody ROI on them")
    c.set_defaults(func=cmd_check_config)

    s = sub.add_parser(
        "switch",
        help="switch a device through MQTT and print the reply",
        description="Send a command with a fresh id to DEVICE on the node of the config file "
        "and wait for its reply. Exit 0 when the reply says ok, 1 on ok:false or timeout.",
    )
    s.add_argument("-c", "--config", required=True, metavar="FILE", help="the node's agent config (YAML)")
    s.add_argument("device", metavar="DEVICE")
    s.add_argument("action", choices=("on", "off", "toggle", "pulse"))
    s.add_argument("--seconds", type=_seconds(86400), help="pulse length (with action pulse)")
    s.add_argument("--timeout", type=_seconds(3600), default=10.0,
                   help="seconds to wait for the reply (default 10, at most 3600)")
    s.set_defaults(func=cmd_switch)

    for register in _extensions():
        register(sub)
    return p


def _extensions() -> list[Callable[[Any], None]]:
    """Sub-commands that live with their feature (bridge, history, demo, hub)."""
    import importlib

    out = []
    for mod in ("edge.bridge.cli", "edge.demo", "edge.status", "edge.hub.cli", "edge.screening.cli"):
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name not in (mod, mod.rsplit(".", 1)[0]):
                raise
            continue
        out.append(module.add_parsers)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.log_level)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
