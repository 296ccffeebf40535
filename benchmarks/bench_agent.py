"""Agent spine benchmark: command round trip, telemetry rate through the outbox, idle RSS.

    .venv/bin/python benchmarks/bench_agent.py [--commands 300] [--messages 5000] [--runs 3]

Everything runs against a private Mosquitto started here. Baselines measured in the same run:
- raw MQTT round trip: paho publishes, a bare paho echo process republishes, paho receives;
- raw QoS 1 publish rate: paho publishing the same payloads with no outbox, waiting for every PUBACK.
Figures are medians over --runs runs (the machine is shared and noisy).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.broker import Mosquitto  # noqa: E402
from edge.mqtt.session import set_nodelay  # noqa: E402

ECHO = """
import sys, paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
def on_connect(c, u, f, rc, p):
    import socket
    c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.subscribe("bench/echo/in", qos=1)
c.on_connect = on_connect
c.on_subscribe = lambda *a: print("ready", flush=True)
c.on_message = lambda c, u, m: c.publish("bench/echo/out", m.payload, qos=1)
c.connect("127.0.0.1", int(sys.argv[1]))
c.loop_forever()
"""


def client(port: int) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.on_connect = lambda cl, u, f, rc, p: set_nodelay(cl)  # as the agent does (edge.mqtt.session)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def round_trips(port: int, out_topic: str, in_topic: str, make_payload, match, n: int) -> list[float]:
    """Publish n messages one at a time; time each until its answer arrives."""
    c = client(port)
    got = threading.Event()
    current: dict = {}
    subscribed = threading.Event()
    c.on_subscribe = lambda *a: subscribed.set()

    def on_message(cl, u, m):
        if match(m.payload, current.get("key")):
            got.set()

    c.on_message = on_message
    c.subscribe(in_topic, qos=1)
    subscribed.wait(5)
    times = []
    for i in range(n + 20):
        key = f"k{i}-{uuid.uuid4().hex[:6]}"
        current["key"] = key
        got.clear()
        t0 = time.perf_counter()
        c.publish(out_topic, make_payload(key), qos=1)
        if not got.wait(10):
            raise RuntimeError("round trip timed out")
        if i >= 20:  # warm-up
            times.append((time.perf_counter() - t0) * 1000)
    c.disconnect()
    c.loop_stop()
    return times


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def start_agent(tmp: Path, port: int, node: str, devices: list[dict]) -> subprocess.Popen:
    cfg = {
        "site": "bench",
        "node": node,
        "mqtt": {"host": "127.0.0.1", "port": port},
        "storage": {"path": str(tmp / f"{node}.db")},
        "devices": devices,
    }
    f = tmp / f"{node}.yaml"
    f.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "mock", "CAMPUS_EDGE_LOG": "warning"}
    return subprocess.Popen([sys.executable, "-m", "edge.cli", "agent", "-c", str(f)], env=env)


def wait_online(port: int, node: str) -> None:
    c = client(port)
    ev = threading.Event()
    c.on_message = lambda cl, u, m: ev.set() if m.payload == b"online" else None
    c.subscribe(f"campus/bench/{node}/status", qos=1)
    if not ev.wait(20):
        raise RuntimeError("agent did not come online")
    time.sleep(0.3)
    c.disconnect()
    c.loop_stop()


def counting_consumer(port: int, topic: str, n: int) -> tuple[mqtt.Client, threading.Event]:
    """A subscribed client whose event is set once n messages arrived."""
    c = client(port)
    done, sub = threading.Event(), threading.Event()
    count = [0]

    def on_message(cl, u, m):
        count[0] += 1
        if count[0] >= n:
            done.set()

    c.on_subscribe = lambda *a: sub.set()
    c.on_message = on_message
    c.subscribe(topic, qos=1)
    sub.wait(5)
    return c, done


def telemetry_rate(tmp: Path, port: int, n: int) -> float:
    """Messages/s from producer call to consumer receipt, through the agent's outbox."""
    from drivers.base import Resources
    from edge.agent.app import Agent, DeviceContextImpl
    from edge.config.schema import validate
    from edge.loaders.agent import AGENT

    cfg = validate(
        AGENT,
        {
            "site": "bench",
            "node": f"rate-{uuid.uuid4().hex[:4]}",
            "mqtt": {"host": "127.0.0.1", "port": port},
            "storage": {"path": str(tmp / f"rate-{uuid.uuid4().hex[:6]}.db")},
        },
    )
    agent = Agent(cfg, Resources())
    t = threading.Thread(target=agent.run, daemon=True)
    t.start()
    agent.online.wait(10)
    c, done = counting_consumer(port, f"{agent.topics.base}/m/telemetry", n)
    ctx = DeviceContextImpl(agent, "m")
    t0 = time.perf_counter()
    for i in range(n):
        ctx.telemetry({"energy_kwh": 1234.5 + i, "power_w": 800.0})
    done.wait(120)
    elapsed = time.perf_counter() - t0
    agent.stop()
    t.join(10)
    c.disconnect()
    c.loop_stop()
    return n / elapsed


def raw_rate(port: int, n: int) -> float:
    """The same payloads published with paho QoS 1, no outbox, until all are received."""
    c, done = counting_consumer(port, "bench/raw", n)
    p = client(port)
    t0 = time.perf_counter()
    for i in range(n):
        payload = json.dumps(
            {"ts": int(time.time() * 1000), "seq": i, "values": {"energy_kwh": 1234.5 + i, "power_w": 800.0}}
        )
        p.publish("bench/raw", payload, qos=1)
    done.wait(120)
    elapsed = time.perf_counter() - t0
    for x in (c, p):
        x.disconnect()
        x.loop_stop()
    return n / elapsed


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commands", type=int, default=300)
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-agent-"))
    broker = Mosquitto(tmp / "mosquitto").start()
    echo = subprocess.Popen([sys.executable, "-c", ECHO, str(broker.port)], stdout=subprocess.PIPE, text=True)
    echo.stdout.readline()
    relays = [
        {"id": "ac", "kind": "relay", "driver": "gpio", "pin": 17},
        {"id": "light", "kind": "relay", "driver": "gpio", "pin": 27},
    ]
    agent = start_agent(tmp, broker.port, "rtt", relays)
    try:
        wait_online(broker.port, "rtt")
        raw_p50, raw_p99, cmd_p50, cmd_p99 = [], [], [], []
        for _ in range(args.runs):
            raw = round_trips(
                broker.port,
                "bench/echo/in",
                "bench/echo/out",
                lambda k: k.encode(),
                lambda payload, key: payload == key.encode(),
                args.commands,
            )
            cmd = round_trips(
                broker.port,
                "campus/bench/rtt/ac/set",
                "campus/bench/rtt/ac/reply",
                lambda k: json.dumps({"id": k, "action": "toggle"}),
                lambda payload, key: json.loads(payload).get("id") == key,
                args.commands,
            )
            raw_p50.append(pct(raw, 50))
            raw_p99.append(pct(raw, 99))
            cmd_p50.append(pct(cmd, 50))
            cmd_p99.append(pct(cmd, 99))
        rates = [telemetry_rate(tmp, broker.port, args.messages) for _ in range(args.runs)]
        raws = [raw_rate(broker.port, args.messages) for _ in range(args.runs)]
        idle = start_agent(tmp, broker.port, "idle", relays)
        wait_online(broker.port, "idle")
        time.sleep(5)
        rss = peak_rss_kib(idle.pid)
        idle.terminate()
        idle.wait(10)
    finally:
        agent.terminate()
        agent.wait(10)
        echo.terminate()
        broker.kill()
    med = statistics.median
    print(
        f"command round trip   p50 {med(cmd_p50):6.2f} ms  p99 {med(cmd_p99):6.2f} ms  "
        f"(n={args.commands} x {args.runs} runs)"
    )
    print(
        f"raw MQTT round trip  p50 {med(raw_p50):6.2f} ms  p99 {med(raw_p99):6.2f} ms  (paho -> echo -> paho)"
    )
    r50, r99 = med(cmd_p50) / med(raw_p50), med(cmd_p99) / med(raw_p99)
    print(f"  ratio command/raw  p50 {r50:5.2f}x  p99 {r99:5.2f}x")
    print(f"telemetry via outbox {med(rates):8.0f} msg/s  (staged: storage.flush_ms)")
    print(f"raw paho QoS 1       {med(raws):8.0f} msg/s  ratio {med(rates) / med(raws):.2f}")
    print(f"idle agent, 2 relays: peak RSS {rss / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
