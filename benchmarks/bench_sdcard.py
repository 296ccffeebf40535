"""SD-card wear benchmark: bytes the agent writes per reading, and outbox throughput.

    .venv/bin/python benchmarks/bench_sdcard.py [--seconds 30] [--runs 3] [--rates 1,10,100] [--messages 5000]

Measured from outside, as issue 13 did: the agent runs as a real process (`campus-edge agent`) with ten
simulated SDM120 Modbus meters (`port: "sim:modbus?..."`, real pyserial on ptys, docs/meters.md) against a
private Mosquitto. After a warm-up, for --seconds, the agent's `/proc/<pid>/io` write_bytes grows by W while
N meter readings reach a subscriber at the broker: W / N is the figure. Rates: ten meters polled every
10 / 1 / 0.1 s (1, 10, 100 readings/s); at 100/s each meter has its own bus at 115200 baud, so the wire
is not the limit. Medians over --runs runs.

Throughput (same run, benchmarks/bench_agent.py's measurement): --messages readings through the agent's
outbox (producer call to consumer receipt) against raw paho QoS 1 publishing the same payloads.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_agent import client, raw_rate, telemetry_rate, wait_online  # noqa: E402

from edge.broker import Mosquitto  # noqa: E402

METERS = 10


def meters(rate: float) -> list[dict]:
    poll = METERS / rate
    fast = rate > 20
    out = []
    for unit in range(1, METERS + 1):
        # one bus for all (as a meter room has) unless the rate needs more wire than 9600 baud gives
        port = f"sim:modbus?profile=school_day&model=sdm120&units={unit if fast else '1,2,3,4,5,6,7,8,9,10'}"
        out.append({
            "id": f"m{unit:02d}", "kind": "electricity_meter", "driver": "modbus", "port": port,
            "baudrate": 115200 if fast else 9600, "parity": "N", "unit": unit, "model": "sdm120",
            "poll_seconds": poll,
        })
    return out


def write_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("write_bytes:"):
            return int(line.split()[1])
    raise RuntimeError("no write_bytes in /proc/<pid>/io")


def wear(tmp: Path, port: int, rate: float, seconds: float, extra: dict) -> tuple[float, float]:
    """(bytes written per reading, readings/s seen at the broker) for one run at ``rate``."""
    node = f"wear-{int(rate)}-{time.monotonic_ns() % 100000}"
    cfg = {
        "site": "bench", "node": node, "mqtt": {"host": "127.0.0.1", "port": port},
        "storage": {"path": str(tmp / f"{node}.db"), **extra}, "devices": meters(rate),
    }
    f = tmp / f"{node}.yaml"
    f.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "mock", "CAMPUS_EDGE_LOG": "warning"}
    proc = subprocess.Popen([sys.executable, "-m", "edge.cli", "agent", "-c", str(f)], env=env)
    sub = client(port)
    count = [0]
    lock = threading.Lock()

    def on_message(cl, u, m) -> None:
        if not m.topic.endswith("/agent/telemetry"):
            with lock:
                count[0] += 1

    sub.on_message = on_message
    sub.subscribe(f"campus/bench/{node}/+/telemetry", qos=1)
    try:
        wait_online(port, node)
        time.sleep(max(3.0, 2 * METERS / rate))  # warm-up: first polls, birth, discovery
        with lock:
            n0 = count[0]
        w0 = write_bytes(proc.pid)
        time.sleep(seconds)
        w1 = write_bytes(proc.pid)
        with lock:
            n1 = count[0]
    finally:
        proc.terminate()
        proc.wait(15)
        sub.disconnect()
        sub.loop_stop()
    n = n1 - n0
    if n <= 0:
        raise RuntimeError(f"no readings reached the broker at {rate}/s")
    return (w1 - w0) / n, n / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rates", default="1,10,100")
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--flush-ms", type=int, default=None,
                    help="storage.flush_ms for the agent (default: its own default)")
    args = ap.parse_args()
    extra = {} if args.flush_ms is None else {"flush_ms": args.flush_ms}
    tmp = Path(tempfile.mkdtemp(prefix="bench-sdcard-"))
    broker = Mosquitto(tmp / "mosquitto").start()
    med = statistics.median
    try:
        results = []
        for rate in [float(r) for r in args.rates.split(",")]:
            runs = [wear(tmp, broker.port, rate, args.seconds, extra) for _ in range(args.runs)]
            results.append((rate, med(r[0] for r in runs), med(r[1] for r in runs), [r[0] for r in runs]))
        if args.messages:
            rates = [telemetry_rate(tmp, broker.port, args.messages) for _ in range(args.runs)]
            raws = [raw_rate(broker.port, args.messages) for _ in range(args.runs)]
    finally:
        broker.kill()
    print(f"{METERS} SDM120 meters, {args.seconds:.0f} s x {args.runs} runs per rate, "
          f"write_bytes of the agent process")
    for rate, per, seen, runs in results:
        day = per * seen * 86400 / 2**30
        spread = ", ".join(f"{r:,.0f}" for r in runs)
        print(f"  {rate:5.0f} readings/s asked ({seen:6.1f} seen): {per:9,.0f} B per reading"
              f"  ({day:7.2f} GiB/day; runs: {spread})")
    if args.messages:
        print(f"telemetry via outbox {med(rates):8.0f} msg/s")
        print(f"raw paho QoS 1       {med(raws):8.0f} msg/s  ratio {med(rates) / med(raws):.2f}")


if __name__ == "__main__":
    main()
