"""`campus-edge status`: what a node or a whole site is doing, for the person on call.

- ``status -c FILE``: one node. From the broker (retained ``status``, ``info`` and every device's
  ``state``) and from the agent's own SQLite file, opened read-only (the link record the agent keeps:
  connected since, last connect error; the outbox on disk: depth, age of the oldest unsent message,
  the newest unsent reading of each device). Works when the broker is unreachable (then it says so
  and shows what the node itself knows).
- ``status --broker HOST[:PORT] [--site S]``: every node of every (or one) site: online/offline,
  version, devices, up since, last seen (the newest ``ts`` among its retained states and the health
  telemetry heard while listening).

Gathering (MQTT, SQLite) is at the edges; ``node_report``/``site_report`` and the renderers are pure.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from edge.mqtt.connect_errors import classify, describe_snapshot
from edge.mqtt.session import stop_loop

QUIET_S = 0.4  # retained messages arrive right after the SUBACK; this much silence means all are in


@dataclass
class Retained:
    ok: bool
    messages: dict[str, bytes] = field(default_factory=dict)
    live: list[tuple[str, bytes]] = field(default_factory=list)  # non-retained messages heard
    error: str = ""


def fetch_retained(settings: dict[str, Any], filters: list[str], listen_s: float = 0.0,
                   timeout: float = 10.0) -> Retained:
    """Subscribe to ``filters``; collect retained messages (and, for ``listen_s``, live ones)."""
    out = Retained(ok=False)
    lock = threading.Lock()
    last = [time.monotonic()]
    subscribed = threading.Event()
    refused: list[str] = []
    client = _client(settings)
    tls = settings.get("tls")

    def on_connect(c, u, flags, rc, props):
        if rc.is_failure:
            refused.append(str(rc))
            subscribed.set()
        else:
            c.subscribe([(f, 1) for f in filters])

    def on_subscribe(c, u, mid, rcs, props):
        last[0] = time.monotonic()
        subscribed.set()

    def on_message(c, u, msg):
        with lock:
            last[0] = time.monotonic()
            if msg.retain:
                out.messages[msg.topic] = bytes(msg.payload)
            else:
                out.live.append((msg.topic, bytes(msg.payload)))

    client.on_connect, client.on_subscribe, client.on_message = on_connect, on_subscribe, on_message
    try:
        client.connect(settings["host"], int(settings["port"]), keepalive=30)
    except OSError as exc:
        cause, detail = classify(exc, tls=bool(tls))
        out.error = f"{cause}: {detail}"
        return out
    client.loop_start()
    try:
        if not subscribed.wait(timeout):
            out.error = f"no answer within {timeout:g} s"
            return out
        if refused:
            out.error = f"refused: {refused[0]}"
            return out
        deadline = time.monotonic() + max(listen_s, 0.0)
        while time.monotonic() - last[0] < QUIET_S or time.monotonic() < deadline:
            time.sleep(0.05)
        out.ok = True
        return out
    finally:
        client.disconnect()
        stop_loop(client)


def _client(settings: dict[str, Any]) -> Any:
    """A paho client with the node's credentials and TLS (a read-only snapshot: no session kept)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from edge.mqtt.session import apply_credentials

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"ce-status-{uuid.uuid4().hex[:8]}",
                         protocol=mqtt.MQTTv5)
    apply_credentials(client, settings)
    return client


def read_agent_db(path: str) -> dict[str, Any]:
    """What the agent's own file says, read-only: link record, outbox depth and age, unsent readings."""
    out: dict[str, Any] = {"path": path}
    if not Path(path).exists():
        out["error"] = "no such file (has the agent run on this machine?)"
        return out
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        out["error"] = str(exc)
        return out
    try:
        out["link"] = _kv(conn, "agent", "link")
        try:
            depth, first = conn.execute("SELECT COUNT(*), MIN(id) FROM outbox").fetchone()
            out["outbox"] = depth
            if first is not None:
                payload = conn.execute("SELECT payload FROM outbox WHERE id=?", (first,)).fetchone()[0]
                out["oldest_ts"] = _ts(payload)
            latest: dict[str, dict] = {}
            rows = conn.execute("SELECT topic, payload FROM outbox WHERE kind='telemetry' "
                                "ORDER BY id DESC LIMIT 2000").fetchall()
            for topic, payload in rows:
                device = topic.rsplit("/", 2)[-2]
                if device not in latest:
                    try:
                        latest[device] = json.loads(payload)
                    except ValueError:
                        continue
            out["unsent_latest"] = latest
        except sqlite3.Error as exc:
            out["outbox_error"] = f"cannot read the outbox ({exc})"
    except sqlite3.Error as exc:
        out["error"] = str(exc)
    finally:
        conn.close()
    return out


def _kv(conn: sqlite3.Connection, scope: str, key: str) -> Any:
    try:
        row = conn.execute("SELECT value FROM kv WHERE scope=? AND key=?", (scope, key)).fetchone()
    except sqlite3.Error:
        return None
    return json.loads(row[0]) if row else None


def _ts(payload: bytes | str) -> int | None:
    try:
        ts = json.loads(payload).get("ts")
    except (ValueError, AttributeError):
        return None
    return ts if isinstance(ts, int) else None


def _json(raw: bytes | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


# -- pure: reports ------------------------------------------------------------------------------------


def node_report(cfg: dict[str, Any], retained: Retained, local: dict[str, Any],
                now_ms: int) -> dict[str, Any]:
    base = f"{cfg['mqtt']['root']}/{cfg['site']}/{cfg['node']}"
    m = cfg["mqtt"]
    status = retained.messages.get(f"{base}/status")
    info = _json(retained.messages.get(f"{base}/info")) or {}
    link = local.get("link") or {}
    devices = []
    for dev in cfg["devices"]:
        state = _json(retained.messages.get(f"{base}/{dev['id']}/state"))
        unsent = (local.get("unsent_latest") or {}).get(dev["id"])
        devices.append({"id": dev["id"], "kind": dev["kind"], "driver": dev["driver"],
                        "state": state, "unsent": unsent, **_device_health(dev["kind"], state)})
    oldest = local.get("oldest_ts")
    return {
        "site": cfg["site"], "node": cfg["node"], "broker": f"{m['host']}:{m['port']}",
        "broker_reachable": retained.ok, "broker_error": retained.error,
        "status": status.decode(errors="replace") if status is not None else None,
        "version": info.get("version"), "session": info.get("session"), "started": info.get("started"),
        "link": link, "db": {k: v for k, v in local.items() if k != "unsent_latest"},
        "outbox": local.get("outbox"),
        "oldest_unsent_age_s": None if oldest is None else round((now_ms - oldest) / 1000, 1),
        "devices": devices,
    }


def _device_health(kind: str, state: dict | None) -> dict[str, Any]:
    """(condition, last error) from a retained state: meters say online + failure counts, cameras error."""
    if state is None:
        return {"condition": "no state on the broker", "last_error": None}
    if "on" in state:
        return {"condition": "on" if state["on"] else "off", "last_error": None}
    online = state.get("online")
    err = state.get("error")  # a camera's
    last = state.get("last_error")  # a meter's last failed transaction
    failures = state.get("failures") or {}
    if not err and isinstance(last, dict):
        err = f"{last.get('kind')}: {last.get('detail')}"
        if isinstance(last.get("ts"), int):
            err += f" (at {_when(last['ts'])})"
    if failures:
        counts = "failures so far: " + ", ".join(f"{k} {v}" for k, v in sorted(failures.items()))
        err = f"{err}; {counts}" if err else counts
    return {"condition": "online" if online else ("offline" if online is False else "unknown"),
            "last_error": err}


def site_report(retained: Retained, root: str, site: str | None) -> list[dict[str, Any]]:
    nodes: dict[tuple[str, str], dict[str, Any]] = {}

    def node(s: str, n: str) -> dict[str, Any]:
        return nodes.setdefault((s, n), {"site": s, "node": n, "status": None, "version": None,
                                         "devices": None, "started": None, "last_seen": None,
                                         "outbox": None})

    def seen(rec: dict, ts: Any) -> None:
        if isinstance(ts, int) and (rec["last_seen"] is None or ts > rec["last_seen"]):
            rec["last_seen"] = ts

    items = list(retained.messages.items()) + list(retained.live)
    for topic, payload in items:
        parts = topic.split("/")
        if len(parts) < 4 or parts[0] != root or (site and parts[1] != site):
            continue
        rec = node(parts[1], parts[2])
        leaf = parts[-1]
        if len(parts) == 4 and leaf == "status":
            rec["status"] = payload.decode(errors="replace")
        elif len(parts) == 4 and leaf == "info":
            info = _json(payload) or {}
            rec["version"], rec["started"] = info.get("version"), info.get("started")
            rec["devices"] = len(info.get("devices") or [])
            seen(rec, info.get("started"))
        elif len(parts) == 5 and leaf == "state":
            seen(rec, (_json(payload) or {}).get("ts"))
        elif len(parts) == 5 and parts[3] == "agent" and leaf == "telemetry":
            health = _json(payload) or {}
            seen(rec, health.get("ts"))
            rec["outbox"] = (health.get("values") or {}).get("outbox_pending")
    return [nodes[k] for k in sorted(nodes)]


# -- pure: rendering ---------------------------------------------------------------------------------


def _when(ts: int | None, tz: Any = None) -> str:
    if ts is None:
        return "-"
    return datetime.fromtimestamp(ts / 1000, tz).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _values(values: dict | None) -> str:
    return " ".join(f"{k}={v}" for k, v in (values or {}).items())


def render_node(r: dict[str, Any], tz: Any = None) -> str:
    lines = [f"node {r['site']}/{r['node']}  (broker {r['broker']})"]
    if r["broker_reachable"]:
        about = (f", version {r['version']}, session {r['session']}, up since {_when(r['started'], tz)}"
                 if r["version"] else "")
        lines.append(f"  on the broker: {r['status'] or 'no status retained (never connected?)'}{about}")
    else:
        lines.append(f"  broker: UNREACHABLE from here ({r['broker_error']}); what the node's own file says:")
    lines += _link_lines(r["link"], tz) + _db_lines(r) + ["  devices:"]
    for d in r["devices"]:
        lines += _device_lines(d, tz)
    return "\n".join(lines) + "\n"


def _link_lines(link: dict[str, Any] | None, tz: Any) -> list[str]:
    lines: list[str] = []
    if link:
        if link.get("connected"):
            lines.append(f"  agent link: connected since {_when(link.get('connected_since'), tz)}")
        else:
            err = describe_snapshot(link.get("last_error"))
            lines.append(f"  agent link: NOT connected (as of {_when(link.get('updated'), tz)})"
                         + (f"; last error {err}, {link['last_error'].get('count')} attempt(s) in a row"
                            if err else ""))
        if link.get("connected") and link.get("last_error"):
            lines.append(f"  last connect error: {describe_snapshot(link['last_error'])} "
                         f"at {_when(link['last_error'].get('ts_ms'), tz)}")
    return lines


def _db_lines(r: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    db = r["db"]
    if db.get("error"):
        lines.append(f"  agent database {db['path']}: {db['error']}")
    elif db.get("outbox_error"):
        lines.append(f"  outbox: {db['outbox_error']}")
    else:
        age = r["oldest_unsent_age_s"]
        oldest = f", oldest {_age(age)} old" if age is not None else ""
        # readings younger than storage.flush_ms may wait in the agent's memory only: not counted here
        lines.append(f"  outbox on disk: {r['outbox']} waiting{oldest} (readings the broker has not "
                     f"acknowledged within storage.flush_ms; younger ones wait in the agent's memory)")
    return lines


def _device_lines(d: dict[str, Any], tz: Any) -> list[str]:
    state = d["state"] or {}
    head = f"    {d['id']:<18} {d['kind'] + '/' + d['driver']:<30} {d['condition']}"
    if state.get("ts"):
        head += f" (as of {_when(state['ts'], tz)})"
    lines = [head]
    if d["last_error"]:
        lines.append(f"      last error: {d['last_error']}")
    if state.get("values"):
        lines.append(f"      last reading: {_values(state['values'])}")
    if d["unsent"]:
        lines.append(f"      newest unsent reading ({_when(d['unsent'].get('ts'), tz)}): "
                     f"{_values(d['unsent'].get('values'))}")
    return lines


def render_site(nodes: list[dict[str, Any]], now_ms: int, tz: Any = None) -> str:
    if not nodes:
        return "no nodes found on the broker\n"
    rows = [("SITE", "NODE", "STATUS", "VERSION", "DEVICES", "UP SINCE", "LAST SEEN", "OUTBOX")]
    for n in nodes:
        seen = "-"
        if n["last_seen"] is not None:
            seen = f"{_when(n['last_seen'], tz)} ({_age((now_ms - n['last_seen']) / 1000)} ago)"
        status = "online" if n["status"] == "online" else (n["status"] or "unknown").upper()
        rows.append((n["site"], n["node"], status,
                     n["version"] or "-", "-" if n["devices"] is None else str(n["devices"]),
                     _when(n["started"], tz), seen, "-" if n["outbox"] is None else str(n["outbox"])))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    online = sum(1 for n in nodes if n["status"] == "online")
    out.append(f"{online} of {len(nodes)} node(s) online")
    return "\n".join(out) + "\n"


# -- command line ------------------------------------------------------------------------------------


def _broker_settings(text: str, args: argparse.Namespace) -> dict[str, Any]:
    host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    settings: dict[str, Any] = {"host": host or text, "port": int(port) if port else 1883}
    if args.username:
        settings.update(username=args.username, password=args.password)
    if args.ca:
        settings["tls"] = {"ca": args.ca}
    return settings


def cmd_status(args: argparse.Namespace) -> int:
    from edge.i18n import zone

    now_ms = int(time.time() * 1000)
    if args.config:
        from edge.loaders.agent import load_agent_config

        cfg = load_agent_config(args.config)
        base = f"{cfg['mqtt']['root']}/{cfg['site']}/{cfg['node']}"
        retained = fetch_retained(cfg["mqtt"], [f"{base}/status", f"{base}/info", f"{base}/+/state"],
                                  timeout=args.timeout)
        report = node_report(cfg, retained, read_agent_db(cfg["storage"]["path"]), now_ms)
        tz = zone(cfg.get("timezone"))
        if args.json:
            print(json.dumps(report, ensure_ascii=False, indent=1))
        else:
            print(render_node(report, tz), end="")
        return 0 if retained.ok and report["status"] == "online" else 1
    if not args.broker:
        print("status needs -c FILE (one node) or --broker HOST[:PORT] (the whole site)", file=sys.stderr)
        return 2
    try:
        settings = _broker_settings(args.broker, args)
    except ValueError:
        print(f"--broker: expected HOST or HOST:PORT, got {args.broker!r}", file=sys.stderr)
        return 2
    site = args.site or "+"
    filters = [f"{args.root}/{site}/+/status", f"{args.root}/{site}/+/info", f"{args.root}/{site}/+/+/state",
               f"{args.root}/{site}/+/agent/telemetry"]
    retained = fetch_retained(settings, filters, listen_s=args.listen, timeout=args.timeout)
    if not retained.ok:
        where = f"{settings['host']}:{settings['port']}"
        print(f"cannot read the broker at {where}: {retained.error}", file=sys.stderr)
        return 1
    nodes = site_report(retained, args.root, args.site)
    if args.json:
        print(json.dumps(nodes, ensure_ascii=False, indent=1))
    else:
        print(render_site(nodes, now_ms), end="")
    return 0 if nodes and all(n["status"] == "online" for n in nodes) else 1


def add_parsers(sub: Any) -> None:
    s = sub.add_parser(
        "status",
        help="what a node (-c FILE) or a whole site (--broker HOST) is doing",
        description="-c FILE: one node, from the broker's retained messages and the agent's own database "
        "(read-only): link, outbox, each device's state, last error and last reading. --broker HOST[:PORT]: "
        "every node on the broker (or of --site): online/offline, version, last seen. "
        "Exit 0 when everything shown is online, 1 otherwise.",
    )
    s.add_argument("-c", "--config", metavar="FILE", help="a node's agent config (YAML)")
    s.add_argument("--broker", metavar="HOST[:PORT]", help="the site's broker (whole-site view)")
    s.add_argument("--site", help="only this site (with --broker)")
    s.add_argument("--root", default="campus", help="topic root (default campus)")
    s.add_argument("--username", help="broker user name (with --broker)")
    s.add_argument("--password", help="broker password (with --broker)")
    s.add_argument("--ca", metavar="FILE", help="CA file: connect with TLS (with --broker)")
    s.add_argument("--listen", type=float, default=0.0, metavar="SECONDS",
                   help="also wait this long for the agents' health telemetry (last seen, outbox)")
    s.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the broker (default 10)")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(func=cmd_status)
