"""Hub benchmark: alert latency to the robot, journal ingest rate with snapshots.

    .venv/bin/python benchmarks/bench_hub.py [--alerts 200] [--ingest 1000]

Against a private Mosquitto and the local robot server (tests/support/robots.py, speaking WeCom's
format), both started here, with the hub in this process (its own threads, as `campus-edge hub` runs).
- Latency: --alerts fever events, one at a time, each with a 5 KB PNG snapshot, published as an agent
  does (QoS 1); measured from the publish to the WeCom request arriving at the robot server (journal
  entry, snapshot file, planned delivery, commit, PUBACK, dispatcher, HTTP), next to the raw MQTT
  one-way latency of the same messages to a plain subscriber in the same run.
- Ingest: --ingest events with snapshots published back to back; events/s until every one is journalled
  (no rule matches them), next to a plain subscriber receiving the same stream.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge.broker import Mosquitto  # noqa: E402
from edge.hub.app import Hub  # noqa: E402
from edge.hub.config import parse_hub_config  # noqa: E402
from tests.support.robots import RobotServer  # noqa: E402

SITE = "bench"


def snapshot(seed: int) -> str:
    img = np.random.default_rng(seed).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    return base64.b64encode(cv2.imencode(".png", img)[1].tobytes()).decode()


class Sub:
    """A plain subscriber: the ceiling, and the raw one-way latency."""

    def __init__(self, broker: Mosquitto, topic: str) -> None:
        self.times: dict[int, float] = {}
        self.ready = threading.Event()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.c.on_message = lambda c, u, m: self.times.setdefault(json.loads(m.payload)["seq"], time.time())
        self.c.on_subscribe = lambda *a: self.ready.set()
        self.c.connect(broker.host, broker.port)
        self.c.loop_start()
        self.c.subscribe(topic, qos=1)
        assert self.ready.wait(5)


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--alerts", type=int, default=200)
    ap.add_argument("--ingest", type=int, default=1000)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-hub-"))
    broker = Mosquitto(work / "mosquitto").start()
    robots = RobotServer().start()
    key = robots.wecom_key()
    cfg = parse_hub_config({
        "site": SITE, "mqtt": {"host": broker.host, "port": broker.port, "client_id": "ce-hub-bench"},
        "storage": {"path": str(work / "hub" / "hub.db")}, "timezone": "Asia/Shanghai",
        "status_seconds": 3600,
        "channels": [{"id": "gate", "type": "wecom", "url": robots.wecom_url(key),
                      "rate_limit": {"messages": 100000, "per_seconds": 1}}],
        "rules": [{"events": ["fever"], "channels": ["gate"]}],
    })
    hub = Hub(cfg)
    t = threading.Thread(target=hub.run, daemon=True)
    t.start()
    assert hub.subscribed.wait(10)
    topic = f"campus/{SITE}/gate/cam/event"
    sub = Sub(broker, topic)
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    pub.max_inflight_messages_set(100)
    pub.connect(broker.host, broker.port)
    pub.loop_start()
    try:
        # -- latency ---------------------------------------------------------------------------------
        sent: dict[int, float] = {}
        arrived: dict[int, float] = {}
        for i in range(1, args.alerts + 1):
            body = {"ts": int(time.time() * 1000), "seq": i, "type": "fever", "temp_c": 38.1,
                    "threshold_c": 37.3, "uncertainty_c": 0.3, "frames": 7, "snapshot_png": snapshot(i)}
            payload = json.dumps(body)
            sent[i] = time.time()
            pub.publish(topic, payload, qos=1)
            deadline = time.monotonic() + 10
            while len([r for r in robots.messages("wecom") if r.body.get("msgtype") == "markdown"]) < i:
                assert time.monotonic() < deadline, f"alert {i} did not arrive"
                time.sleep(0.0005)
            # the next alert once this one is done (text and image answered), so each is measured alone
            while hub.journal.delivery_counts().get("sent", 0) < i:
                assert time.monotonic() < deadline, f"alert {i} was not confirmed"
                time.sleep(0.001)
        by_id = {a.id: a.seq for a in hub.journal.alerts(limit=None)}
        for r in robots.messages("wecom"):
            if r.body.get("msgtype") == "markdown":
                m = re.search(r"#(\d+)", r.body["markdown"]["content"])
                arrived[by_id[int(m.group(1))]] = r.at
        hub_ms = [(arrived[i] - sent[i]) * 1000 for i in sent]
        raw_ms = [(sub.times[i] - sent[i]) * 1000 for i in sent]
        print(f"alert latency, publish -> WeCom request at the robot ({args.alerts} fevers with snapshots):")
        print(f"  hub   p50 {statistics.median(hub_ms):7.2f} ms   p99 {pct(hub_ms, 99):7.2f} ms")
        print(f"  MQTT  p50 {statistics.median(raw_ms):7.2f} ms   p99 {pct(raw_ms, 99):7.2f} ms  "
              "(one way, raw)")
        print(f"  ratio p50 {statistics.median(hub_ms) / statistics.median(raw_ms):7.1f}x")
        # -- ingest ----------------------------------------------------------------------------------
        base = 100_000
        payloads = [json.dumps({"ts": 1_764_547_200_000 + i, "seq": base + i, "type": "bench_event",
                                "snapshot_png": snapshot(i)}) for i in range(args.ingest)]
        before = hub.journal.count()
        start = time.time()
        for p in payloads:
            pub.publish(topic, p, qos=1)
        deadline = time.monotonic() + 300
        while hub.journal.count() < before + args.ingest:
            assert time.monotonic() < deadline, "ingest did not finish"
            time.sleep(0.01)
        hub_s = time.time() - start
        last_sub = max(sub.times[base + i] for i in range(args.ingest))
        sub_s = last_sub - start
        snaps = len(list((work / "hub" / "snapshots").rglob("*.png")))
        print(f"journal ingest, {args.ingest} events with a {len(payloads[0]) // 1024} KB message each "
              f"({snaps} snapshot files in all):")
        print(f"  hub        {args.ingest / hub_s:8.0f} events/s  (journalled, fsynced, acknowledged)")
        print(f"  subscriber {args.ingest / sub_s:8.0f} events/s  (received only)")
    finally:
        pub.loop_stop()
        hub.stop()
        t.join(30)
        robots.stop()
        broker.kill()


if __name__ == "__main__":
    main()
