"""Hub benchmark: alert latency to the robot, journal ingest rate with snapshots.

    .venv/bin/python benchmarks/bench_hub.py [--alerts 200] [--ingest 500] [--rounds 3] [--in-process]

A private Mosquitto, the local robot server (simulators/robots.py, speaking WeCom's format) and the hub as
a real process (`campus-edge hub -c bench-hub.yaml`), all started here. An agent-like publisher sends
fever events at a gate camera's real topic (QoS 1, as the agent's outbox does), each with a ~16 KB
false-colour thermal snapshot made by the screening pipeline's own encoder (edge/screening/snapshot.py).

- Latency: --alerts fevers, one at a time; from the publish to the WeCom text request arriving at the
  robot server (decode, snapshot file fsynced, journal row and planned delivery committed, PUBACK,
  dispatcher, HTTP), next to the raw MQTT one-way latency of the same messages to a plain paho
  subscriber in the same run. p50 / p99 and their ratios.
- Ingest: --rounds rounds of --ingest events with snapshots published back to back (no rule matches
  them); events/s until the last is in the journal, next to the plain subscriber's rate for the same
  stream (until its last message). Medians over the rounds and their ratio.

--in-process runs the hub on a thread of this process instead (as the console would embed it).
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge.broker import Mosquitto  # noqa: E402
from edge.screening.snapshot import false_colour_png  # noqa: E402
from simulators.robots import RobotServer  # noqa: E402

SITE = "bench"
TOPIC = f"campus/{SITE}/gate/gate-cam/event"


def snapshot(seed: int) -> str:
    """A face-like thermal crop (about 16 KB of PNG), base64 as in a fever event."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:60, 0:48]
    face = 30 + 7.5 * np.exp(-(((x - 24) / 16) ** 2 + ((y - 30) / 23) ** 2)) + rng.normal(0, 0.35, (60, 48))
    return base64.b64encode(false_colour_png(face)).decode()


class Sub:
    """A plain subscriber: the raw one-way latency, and the ceiling for ingest."""

    def __init__(self, broker: Mosquitto) -> None:
        self.times: dict[int, float] = {}
        self.ready = threading.Event()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.c.on_message = lambda c, u, m: self.times.setdefault(json.loads(m.payload)["seq"], time.time())
        self.c.on_subscribe = lambda *a: self.ready.set()
        self.c.connect(broker.host, broker.port)
        self.c.loop_start()
        self.c.subscribe(TOPIC, qos=1)
        if not self.ready.wait(5):
            raise SystemExit("the plain subscriber was not subscribed")

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class InProcessHub:
    """The hub on a thread here, with the few Popen methods the benchmark uses."""

    def __init__(self, cfg: dict) -> None:
        from edge.hub.app import Hub
        from edge.hub.config import parse_hub_config

        logging.basicConfig(level=logging.WARNING)
        self.hub = Hub(parse_hub_config(cfg))
        self.thread = threading.Thread(target=self.hub.run, daemon=True)
        self.thread.start()
        self.returncode = None

    def poll(self) -> int | None:
        return None if self.thread.is_alive() else 1

    def terminate(self) -> None:
        self.hub.stop()

    def wait(self, timeout: float) -> None:
        self.thread.join(timeout)

    kill = terminate


def wait_until(cond, timeout: float, what: str, hub: subprocess.Popen | InProcessHub) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if hub.poll() is not None:
            raise SystemExit(f"the hub exited ({hub.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.001)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--alerts", type=int, default=200, help="fevers for the latency (default 200)")
    ap.add_argument("--ingest", type=int, default=500, help="events per ingest round (default 500)")
    ap.add_argument("--rounds", type=int, default=3, help="ingest rounds (default 3)")
    ap.add_argument("--in-process", action="store_true", help="the hub on a thread here, not a process")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    broker = Mosquitto(work / "mosquitto").start()
    robots = RobotServer().start()
    db = work / "hub" / "hub.db"
    cfg = {
        "site": SITE, "mqtt": {"host": broker.host, "port": broker.port, "client_id": "ce-hub-bench"},
        "storage": {"path": str(db)}, "timezone": "Asia/Shanghai", "status_seconds": 3600,
        "channels": [{"id": "gate", "type": "wecom", "url": robots.wecom_url(robots.wecom_key()),
                      "rate_limit": {"messages": 100000, "per_seconds": 1}}],
        "rules": [{"events": ["fever"], "channels": ["gate"]}],
    }
    (work / "bench-hub.yaml").write_text(yaml.safe_dump(cfg))
    log = open(work / "hub.log", "wb")  # noqa: SIM115 (open for the hub's whole life)
    if args.in_process:
        hub: subprocess.Popen | InProcessHub = InProcessHub(cfg)
        wait_until(hub.hub.subscribed.is_set, 30, "the hub to subscribe", hub)
    else:
        hub = subprocess.Popen([sys.executable, "-m", "edge.cli", "hub", "-c", str(work / "bench-hub.yaml")],
                               stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
        wait_until(lambda: b"connected to" in (work / "hub.log").read_bytes(), 30, "the hub to connect", hub)
        time.sleep(1.0)  # its subscriptions confirmed
    print(f"hub {'in this process' if args.in_process else 'as a process (campus-edge hub)'}")
    sub = Sub(broker)
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.max_inflight_messages_set(100)
    pub.connect(broker.host, broker.port)
    pub.loop_start()
    try:
        # -- latency ------------------------------------------------------------------------------
        texts = lambda: [r for r in robots.messages("wecom") if r.body.get("msgtype") == "markdown"]  # noqa: E731
        sent: dict[int, float] = {}
        arrived: dict[int, float] = {}
        payloads = {i: json.dumps({"ts": int(time.time() * 1000), "seq": i, "type": "fever", "track": i,
                                   "temp_c": 38.1, "threshold_c": 37.3, "uncertainty_c": 0.3, "frames": 5,
                                   "blackbody": True, "snapshot_png": snapshot(i)})
                    for i in range(1, args.alerts + 1)}
        size_kb = len(base64.b64decode(json.loads(payloads[1])["snapshot_png"])) / 1024
        for i, payload in payloads.items():
            sent[i] = time.time()
            pub.publish(TOPIC, payload, qos=1)
            wait_until(lambda i=i: len(texts()) >= i, 20, f"alert {i} at the robot", hub)
            arrived[i] = texts()[i - 1].at
            # the next alert once this one is done (its image too), so each is measured alone
            wait_until(lambda i=i: len(robots.messages("wecom")) >= 2 * i, 20, f"alert {i}'s image", hub)
            time.sleep(0.02)
        hub_ms = [(arrived[i] - sent[i]) * 1000 for i in sent]
        raw_ms = [(sub.times[i] - sent[i]) * 1000 for i in sent]
        print(f"alert latency, fever publish -> WeCom request at the robot ({args.alerts} alerts, "
              f"{size_kb:.1f} KB PNG snapshot each, one at a time):")
        print(f"  hub   p50 {statistics.median(hub_ms):7.2f} ms   p99 {pct(hub_ms, 99):7.2f} ms")
        print(f"  MQTT  p50 {statistics.median(raw_ms):7.2f} ms   p99 {pct(raw_ms, 99):7.2f} ms  "
              "(one way to a plain subscriber, same messages)")
        print(f"  ratio p50 {statistics.median(hub_ms) / statistics.median(raw_ms):7.1f}x        "
              f"p99 {pct(hub_ms, 99) / pct(raw_ms, 99):7.1f}x")
        # -- ingest -------------------------------------------------------------------------------
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        count = lambda: con.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]  # noqa: E731
        hub_rates: list[float] = []
        sub_rates: list[float] = []
        for r in range(args.rounds):
            base = 100_000 * (r + 1)
            stream = [json.dumps({"ts": 1_764_547_200_000 + base + i, "seq": base + i, "type": "bench_event",
                                  "snapshot_png": snapshot(base + i)}) for i in range(args.ingest)]
            before = count()
            start = time.time()
            for p in stream:
                pub.publish(TOPIC, p, qos=1)
            wait_until(lambda b=before: count() >= b + args.ingest, 600, "the ingest round", hub)
            hub_rates.append(args.ingest / (time.time() - start))
            wait_until(lambda b=base: all(b + i in sub.times for i in range(args.ingest)), 60,
                       "the subscriber", hub)
            sub_rates.append(args.ingest / (max(sub.times[base + i] for i in range(args.ingest)) - start))
        con.close()
        snaps = len(list((db.parent / "snapshots").rglob("*.png")))
        hub_med, sub_med = statistics.median(hub_rates), statistics.median(sub_rates)
        print(f"journal ingest, {args.rounds} rounds of {args.ingest} events with a {size_kb:.0f} KB "
              f"snapshot each ({snaps} snapshot files in all), median:")
        print(f"  hub        {hub_med:8.0f} events/s  (journalled: snapshot file and row fsynced, then "
              f"acknowledged)   rounds {', '.join(f'{x:.0f}' for x in hub_rates)}")
        print(f"  subscriber {sub_med:8.0f} events/s  (received only)   "
              f"rounds {', '.join(f'{x:.0f}' for x in sub_rates)}")
        print(f"  ratio      {hub_med / sub_med:8.2f}x")
    finally:
        pub.loop_stop()
        sub.close()
        hub.terminate()
        try:
            hub.wait(30)
        except subprocess.TimeoutExpired:
            hub.kill()
        log.close()
        robots.stop()
        broker.kill()


if __name__ == "__main__":
    main()
