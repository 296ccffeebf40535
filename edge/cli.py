"""The `campus-edge` command line."""

from __future__ import annotations

import argparse
import faulthandler
import json
import logging
import os
import signal
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

from edge import __version__, extras
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
    from edge.loaders.agent import load_agent_config

    cfg = load_agent_config(args.file)
    if cfg.get("calendar"):  # a year without official holiday data is worth knowing before it comes
        from edge.calendar import Calendar

        year = time.localtime().tm_year
        warning = Calendar(cfg["calendar"]).coverage_warning([year, year + 1])
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
    if getattr(args, "probe", False):  # read each thermal camera's first frames: is its blackbody ROI right?
        from edge.screening_cli import probe

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
    from edge.loaders.agent import load_agent_config

    cfg = load_agent_config(args.config)
    agent = Agent(cfg, Resources(pin_factory=pin_factory_from_env()))
    try:
        _run_until_signal(agent.run, agent.stop)
    except StartupError as exc:
        logging.getLogger("edge.agent.app").error("%s", exc)
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
    from edge.loaders.agent import load_agent_config
    from edge.mqtt.topics import SEGMENT, Topics

    if not SEGMENT.fullmatch(args.device):  # '+', '#' or '/' would address other devices, or none
        print(f"DEVICE must be a device id (lower-case letters, digits, '_', '-'), got {args.device!r}",
              file=sys.stderr)
        return EXIT_CONFIG
    if args.action == "pulse" and args.seconds is None:
        print("pulse needs --seconds", file=sys.stderr)
        return EXIT_CONFIG
    cfg = load_agent_config(args.config)
    topics = Topics(cfg["mqtt"]["root"], cfg["site"], cfg["node"])
    cid = uuid.uuid4().hex
    command: dict[str, Any] = {"id": cid, "action": args.action,
                               "expires": int((time.time() + args.timeout) * 1000)}
    if args.action == "pulse":
        command["seconds"] = args.seconds
    reply = _ask(cfg["mqtt"], topics.device(args.device, "set"), command, topics.device(args.device, "reply"),
                 args.timeout, f"{cfg['node']}/{args.device}")
    if reply is None:
        return 1
    print(json.dumps(reply))
    return 0 if reply.get("ok") else 1


def _ask(settings: dict[str, Any], topic: str, command: dict[str, Any], reply_topic: str, timeout: float,
         who: str) -> dict[str, Any] | None:
    """Publish ``command`` and wait for the reply with its id, through an MqttSession (the one owner of a
    paho client: its TLS, credentials and connect diagnostics); None after printing why there is none."""
    import queue

    from edge.mqtt.session import Connected, Message, MqttSession, Subscribed

    inbox: queue.Queue = queue.Queue()
    # a one-off client: no session for the broker to keep after it leaves
    session = MqttSession({**settings, "session_expiry": 0}, f"ce-switch-{uuid.uuid4().hex[:12]}", inbox)
    where = f"{settings['host']}:{settings['port']}"
    deadline = time.monotonic() + timeout
    session.start()
    try:
        phase = "connect"
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = inbox.get(timeout=left)
            except queue.Empty:
                break
            if isinstance(item, Connected) and phase == "connect":
                phase = "subscribe"
                session.subscribe([reply_topic])
            elif isinstance(item, Subscribed) and phase == "subscribe":
                phase = "reply"
                session.publish(topic, json.dumps(command).encode())
            elif isinstance(item, Message) and phase == "reply":
                reply = _reply_with_id(item.payload, command["id"])
                if reply is not None:
                    return reply
        if phase == "reply":
            print(f"no reply from {who} within {timeout:g} s", file=sys.stderr)
        else:
            print(f"no answer from the broker at {where} within {timeout:g} s", file=sys.stderr)
        return None
    finally:
        session.stop()


def _reply_with_id(payload: bytes, cid: str) -> dict[str, Any] | None:
    try:
        reply = json.loads(payload)
    except ValueError:
        return None
    return reply if isinstance(reply, dict) and reply.get("id") == cid else None


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
    # command modules that need an optional install: (the command, the extra); without it the command
    # is still there and says how to install it
    needs = {"edge.hub.cli": ("hub", "hub"), "edge.screening_cli": ("screening", "thermal")}
    for mod in ("edge.bridge.cli", "edge.demo", "edge.status", "edge.hub.cli", "edge.screening_cli"):
        if mod in needs and (problem := extras.missing(needs[mod][1])):
            out.append(_needs_extra(needs[mod][0], problem))
            continue
        try:
            module = importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name not in (mod, mod.rsplit(".", 1)[0]):
                raise
            continue
        out.append(module.add_parsers)
    return out


def _needs_extra(command: str, problem: str) -> Callable[[Any], None]:
    def add_parsers(sub: Any) -> None:
        # every argument is taken as it comes (options too): the command only says what to install
        p = sub.add_parser(command, help=f"(not installed: {problem})", add_help=False, prefix_chars="\x01")
        p.add_argument("rest", nargs="*")
        p.set_defaults(func=lambda args: _refuse(f"campus-edge {command} {problem}"))
    return add_parsers


def _refuse(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_CONFIG


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
