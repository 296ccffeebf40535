"""Agent under a command flood: commands/s held, pulse lateness, peak RSS (issue 9, item 1).

    .venv/bin/python benchmarks/bench_flood.py [--commands 20000] [--qos0 50000] [--runs 3]

Each run starts a private Mosquitto and an agent process (two mock relays, health every second):
1. a 1 s `pulse` on r3, then --commands QoS 1 `toggle` commands on r1 from `mosquitto_pub -l`;
   measured: how late the pulse ended (its `state` timestamps), commands/s until every reply
   arrived, the agent's peak RSS (VmHWM) against its idle RSS;
2. the same pulse, then --qos0 QoS 0 commands (refused: bad payloads) as fast as the broker
   takes them: pulse lateness, health readings during the flood, peak RSS.
Baseline in the same run: `mosquitto_sub -q 1` draining the same QoS 1 flood (the broker's ceiling).
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
from pathlib import Path

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.broker import Mosquitto  # noqa: E402

NODE = "flood"
BASE = f"campus/bench/{NODE}"


class Watcher:
    """Records the pulse relay's states, counts replies and health readings."""

    def __init__(self, port: int) -> None:
        self.states: list[dict] = []
        self.replies = 0
        self.health = 0
        self.health_at: list[float] = []
        self.online = threading.Event()
        self.lock = threading.Lock()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.c.on_message = self._on_message
        sub = threading.Event()
        self.c.on_subscribe = lambda *a: sub.set()
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        topics = [f"{BASE}/r3/state", f"{BASE}/r1/reply", f"{BASE}/agent/telemetry", f"{BASE}/status"]
        self.c.subscribe([(t, 1) for t in topics])
        sub.wait(5)

    def _on_message(self, c, u, m) -> None:
        with self.lock:
            if m.topic.endswith("/r3/state"):
                self.states.append(json.loads(m.payload))
            elif m.topic.endswith("/reply"):
                self.replies += 1
            elif m.topic.endswith("/telemetry"):
                self.health += 1
                self.health_at.append(time.perf_counter())
            elif m.payload == b"online":
                self.online.set()

    def wait(self, pred, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                v = pred()
            if v:
                return v
            time.sleep(0.01)
        raise RuntimeError(f"timed out waiting for {what}")

    def close(self) -> None:
        self.c.disconnect()
        self.c.loop_stop()


def rss_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def publish_lines(port: int, topic: str, lines: list[str], qos: int) -> subprocess.Popen:
    p = subprocess.Popen(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", str(qos), "-t", topic, "-l"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert p.stdin is not None
    p.stdin.write(("\n".join(lines) + "\n").encode())
    p.stdin.close()
    return p


def start_agent(tmp: Path, port: int) -> subprocess.Popen:
    cfg = {
        "site": "bench",
        "node": NODE,
        "mqtt": {"host": "127.0.0.1", "port": port},
        "storage": {"path": str(tmp / "agent.db")},
        "health_seconds": 1,
        "devices": [
            {"id": "r1", "kind": "relay", "driver": "gpio", "pin": 17},
            {"id": "r3", "kind": "relay", "driver": "gpio", "pin": 22},
        ],
    }
    f = tmp / "agent.yaml"
    f.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "GPIOZERO_PIN_FACTORY": "mock", "CAMPUS_EDGE_LOG": "warning"}
    log_file = os.environ.get("BENCH_AGENT_LOG")  # the agent's log, to see what it did
    log = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115 (the child keeps it)
    return subprocess.Popen(
        [sys.executable, "-m", "edge.cli", "agent", "-c", str(f)], env=env, stdout=log, stderr=log
    )


def pulse(w: Watcher, port: int, tag: str) -> dict:
    n = len(w.states)
    cmd = json.dumps({"id": tag, "action": "pulse", "seconds": 1})
    publish_lines(port, f"{BASE}/r3/set", [cmd], 1).wait(10)
    return w.wait(lambda: next((s for s in w.states[n:] if s["on"]), None), 10, "pulse start")


def lateness_ms(w: Watcher, started: dict, timeout: float) -> float:
    ended = w.wait(
        lambda: next((s for s in w.states if not s["on"] and s["ts"] > started["ts"]), None),
        timeout,
        "pulse end",
    )
    return ended["ts"] - started["ts"] - 1000


def one_run(commands: int, qos0: int) -> dict[str, float]:
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        broker = Mosquitto(tmp / "mq").start()
        try:
            # baseline: the broker's own ceiling for this flood
            sub = subprocess.Popen(
                ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1", "-t", "bench/raw",
                 "-C", str(commands)],
                stdout=subprocess.DEVNULL,
            )
            time.sleep(0.5)
            t0 = time.perf_counter()
            lines = [json.dumps({"id": f"f{i}", "action": "toggle"}) for i in range(commands)]
            publish_lines(broker.port, "bench/raw", lines, 1).wait(300)
            sub.wait(300)
            out["ceiling_msg_s"] = commands / (time.perf_counter() - t0)

            agent = start_agent(tmp, broker.port)
            w = Watcher(broker.port)
            try:
                if not w.online.wait(30):
                    raise RuntimeError("agent did not come online")
                w.wait(lambda: w.health >= 2, 10, "health readings")
                out["idle_rss_mib"] = rss_kib(agent.pid, "VmRSS") / 1024
                # 1. QoS 1 flood of toggles
                started = pulse(w, broker.port, "p1")
                t0 = time.perf_counter()
                flood = publish_lines(broker.port, f"{BASE}/r1/set", lines, 1)
                out["qos1_pulse_late_ms"] = lateness_ms(w, started, 120)
                w.wait(lambda: w.replies >= commands, 600, "every reply")
                out["qos1_commands_s"] = commands / (time.perf_counter() - t0)
                flood.wait(60)
                out["qos1_peak_rss_mib"] = rss_kib(agent.pid, "VmHWM") / 1024
                # 2. QoS 0 flood of refused commands
                started = pulse(w, broker.port, "p2")
                t0 = time.perf_counter()
                bad = json.dumps({"id": "x", "action": "on", "seconds": 1}) + " " * 200
                flood = publish_lines(broker.port, f"{BASE}/r1/set", [bad] * qos0, 0)
                out["qos0_pulse_late_ms"] = lateness_ms(w, started, 120)
                flood.wait(600)
                time.sleep(3)
                t1 = time.perf_counter()
                beats = [t0] + [t for t in w.health_at if t > t0] + [t1]
                out["qos0_window_s"] = t1 - t0
                out["qos0_health_readings"] = len(beats) - 2
                out["qos0_longest_health_gap_s"] = max(b - a for a, b in zip(beats, beats[1:], strict=False))
                out["qos0_peak_rss_mib"] = rss_kib(agent.pid, "VmHWM") / 1024
            finally:
                agent.terminate()
                agent.wait(30)
                w.close()
        finally:
            broker.kill()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--commands", type=int, default=20_000)
    ap.add_argument("--qos0", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    runs = []
    for i in range(a.runs):
        r = one_run(a.commands, a.qos0)
        print(f"run {i + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in r.items()), flush=True)
        runs.append(r)
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"\nmedians over {a.runs} run(s), {a.commands} QoS 1 toggles, {a.qos0} QoS 0 bad commands:")
    print(f"  commands/s held under the QoS 1 flood   {med['qos1_commands_s']:8.0f}"
          f"   (broker ceiling, mosquitto_sub -q 1: {med['ceiling_msg_s']:.0f}; "
          f"ratio {med['qos1_commands_s'] / med['ceiling_msg_s']:.2f})")
    print(f"  1 s pulse lateness, QoS 1 / QoS 0 flood {med['qos1_pulse_late_ms']:8.0f} / "
          f"{med['qos0_pulse_late_ms']:.0f} ms")
    print(f"  peak RSS, QoS 1 / QoS 0 flood           {med['qos1_peak_rss_mib']:8.1f} / "
          f"{med['qos0_peak_rss_mib']:.1f} MiB   (idle {med['idle_rss_mib']:.1f} MiB; "
          f"ratio {med['qos0_peak_rss_mib'] / med['idle_rss_mib']:.2f})")
    print(f"  health during the QoS 0 flood: {med['qos0_health_readings']:.0f} readings in "
          f"{med['qos0_window_s']:.1f} s, longest gap {med['qos0_longest_health_gap_s']:.2f} s "
          "(configured: 1 s)")


if __name__ == "__main__":
    main()
