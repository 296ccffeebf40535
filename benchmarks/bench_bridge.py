"""Bridge benchmark: sustained ingest into the database, backlog drain after an outage, RSS under load.

    .venv/bin/python benchmarks/bench_bridge.py [--messages 20000] [--devices 4] [--runs 3]

Against a private Mosquitto (max_inflight_messages 1000, as deploy/mosquitto/campus.conf) and a private
VictoriaMetrics (InfluxDB v2 write API), both started here. Per run, the same stream (mosquitto_pub -l,
one process per device, QoS 1) goes to
- the bridge (`python -m edge.cli bridge`, a child process, InfluxDB sink, batch 5000 / 1 s), timed until
  every point is readable in the database;
- mosquitto_sub -q 1 subscribed to the same topics: the ceiling (a client that only receives);
and separately a naive loop (paho on_message -> one influxdb-client synchronous write per message) gets
--naive messages. Backlog: the database is stopped, --messages more are published and buffered on disk,
the database comes back and the drain is timed. Two bridges in one share group get the same stream
(--messages, checked: exactly one point per message). Figures are medians over --runs.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge.broker import Mosquitto  # noqa: E402
from tests.support.victoria import VictoriaMetrics  # noqa: E402

T0 = 1_700_000_000_000
METRIC = "electricity_meter_energy_kwh"


def vm_count(vm: VictoriaMetrics, run: str) -> int:
    """Points of one run's site in the database."""
    vm.flush()
    q = f'sum(count_over_time({METRIC}{{site="{run}"}}[100y]))'
    url = f"{vm.url}/api/v1/query?" + urllib.parse.urlencode({"query": q, "time": "2100-01-01T00:00:00Z"})
    with urllib.request.urlopen(url, timeout=10) as r:
        result = json.load(r)["data"]["result"]
    return int(float(result[0]["value"][1])) if result else 0


def wait_count(vm: VictoriaMetrics, site: str, n: int, timeout: float = 300, rss: list[int] | None = None,
               pid: int | None = None) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid is not None and rss is not None:
            rss.append(rss_kb(pid))
        if vm_count(vm, site) >= n:
            return time.monotonic()
        time.sleep(0.1)
    raise TimeoutError(f"{site}: fewer than {n} points after {timeout} s")


def cpu_seconds(pid: int) -> float:
    """user + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def stream_files(workdir: Path, site: str, devices: int, n: int, offset: int = 0) -> list[tuple[str, Path]]:
    """One file of JSON lines per device, n messages in all, distinct timestamps."""
    out = []
    per = n // devices
    for d in range(devices):
        path = workdir / f"{site}-m{d}-{offset}.jsonl"
        with open(path, "w") as f:
            for i in range(offset + d * per, offset + (d + 1) * per):
                f.write(json.dumps({"ts": T0 + i, "seq": i, "values": {"energy_kwh": i * 0.01,
                                                                       "power_w": 1500.0}}) + "\n")
        out.append((f"campus/{site}/node-1/m{d}/telemetry", path))
    return out


def publish(broker: Mosquitto, files: list[tuple[str, Path]]) -> None:
    procs = []
    for topic, path in files:
        with open(path, "rb") as f:  # the child keeps its own copy of the descriptor
            cmd = ["mosquitto_pub", "-p", str(broker.port), "-q", "1", "-t", topic, "-l"]
            procs.append(subprocess.Popen(cmd, stdin=f))
    for p in procs:
        p.wait()


def publish_info(broker: Mosquitto, site: str, devices: int) -> None:
    info = {"version": "bench", "session": 1, "started": T0,
            "devices": [{"id": f"m{d}", "kind": "electricity_meter", "driver": "sim"}
                        for d in range(devices)]}
    subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-q", "1", "-r", "-t",
                    f"campus/{site}/node-1/info", "-m", json.dumps(info)], check=True)


def start_bridge(broker: Mosquitto, vm: VictoriaMetrics, workdir: Path, name: str,
                 group: str | None = None) -> subprocess.Popen:
    cfg = {
        # session_expiry 0: a finished run's bridge must not keep a session that the broker then fills
        "mqtt": {"host": broker.host, "port": broker.port, "client_id": f"bench-{name}", "session_expiry": 0},
        "sink": {"type": "influxdb", "url": vm.url, "token": "bench", "org": "campus", "bucket": "campus",
                 "timeout_seconds": 5},
        "storage": {"path": str(workdir / f"{name}.db")},
        "retry": {"min_seconds": 0.2, "max_seconds": 0.5},
        "status_seconds": 5,
    }
    if group:
        cfg["share_group"] = group
    path = workdir / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(workdir / f"{name}.log", "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "edge.cli", "--log-level", "warning", "bridge", "-c",
                                 str(path)], stdout=log, stderr=log, env=env, cwd=ROOT)


def wait_subscribed(broker: Mosquitto, vm: VictoriaMetrics, site: str) -> None:
    """Publish a probe point until it is in the database: the bridge is subscribed and writing."""
    probe = {"ts": T0 - 1, "seq": 0, "values": {"energy_kwh": 0.0}}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-q", "1", "-t",
                        f"campus/{site}/node-1/m0/telemetry", "-m", json.dumps(probe)], check=True)
        time.sleep(0.5)
        if vm_count(vm, site) >= 1:
            return
    raise TimeoutError("the bridge did not start writing")


def ingest_run(broker, vm, workdir, run: int, n: int, devices: int, bridges: int = 1) -> dict[str, float]:
    site = f"ingest{bridges}-{run}"
    publish_info(broker, site, devices)
    group = f"bench{run}" if bridges > 1 else None
    procs = [start_bridge(broker, vm, workdir, f"{site}-{i}", group) for i in range(bridges)]
    bridge = procs[0]
    try:
        wait_subscribed(broker, vm, site)
        time.sleep(1.0 if bridges > 1 else 0)  # every member subscribed
        files = stream_files(workdir, site, devices, n)
        total = n // devices * devices
        sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker.port), "-q", "1", "-C", str(total),
                                "-t", f"campus/{site}/+/+/telemetry"], stdout=subprocess.DEVNULL)
        time.sleep(0.5)  # mosquitto_sub subscribed
        rss: list[int] = []
        t0 = time.monotonic()
        pub = threading.Thread(target=publish, args=(broker, files))
        pub.start()
        sub.wait(300)
        t_sub = time.monotonic()
        cpu0 = [cpu_seconds(b.pid) for b in procs]
        t_bridge = wait_count(vm, site, total + 1, rss=rss, pid=bridge.pid)
        cpu = sum(cpu_seconds(b.pid) for b in procs) - sum(cpu0)
        pub.join()
        got = vm_count(vm, site)
        if got != total + 1:  # VictoriaMetrics keeps every sample sent: more is a message written twice
            raise AssertionError(f"{site}: {got} points in the database for {total + 1} messages")
        return {"bridge": total / (t_bridge - t0), "ceiling": total / (t_sub - t0),
                "cpu_ms_per_1000": cpu * 1000 / total * 1000,
                "rss_max_mb": max(rss) / 1024, "rss_median_mb": statistics.median(rss) / 1024}
    finally:
        for b in procs:
            b.terminate()
            b.wait(30)


def naive_run(broker, vm, workdir, run: int, n: int) -> float:
    """paho (auto ack) + one synchronous influxdb-client write per message, as a first attempt would be."""
    from influxdb_client import InfluxDBClient, WritePrecision
    from influxdb_client.client.write_api import SYNCHRONOUS

    site = f"naive-{run}"
    inbox: queue.Queue = queue.Queue()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"naive-{run}", protocol=mqtt.MQTTv5)
    client.on_message = lambda c, u, m: inbox.put(m)
    subscribed = threading.Event()
    client.on_subscribe = lambda *a: subscribed.set()
    client.connect(broker.host, broker.port)
    client.loop_start()
    client.subscribe(f"campus/{site}/+/+/telemetry", qos=1)
    subscribed.wait(5)
    db = InfluxDBClient(url=vm.url, token="bench", org="campus")
    api = db.write_api(write_options=SYNCHRONOUS)
    files = stream_files(workdir, site, 1, n)
    t0 = time.monotonic()
    pub = threading.Thread(target=publish, args=(broker, files))
    pub.start()
    for _ in range(n):
        m = inbox.get(timeout=60)
        p = json.loads(m.payload)
        fields = ",".join(f"{k}={float(v)!r}" for k, v in p["values"].items())
        parts = m.topic.split("/")
        line = f"electricity_meter,site={parts[1]},node={parts[2]},device={parts[3]} {fields} {p['ts']}"
        api.write(bucket="campus", org="campus", record=line, write_precision=WritePrecision.MS)
    elapsed = time.monotonic() - t0
    pub.join()
    client.disconnect()
    client.loop_stop()
    db.close()
    return n / elapsed


def drain_run(broker, vm, workdir, run: int, n: int, devices: int) -> dict[str, float]:
    site = f"drain-{run}"
    publish_info(broker, site, devices)
    name = f"drain-{run}"
    bridge = start_bridge(broker, vm, workdir, name)
    try:
        wait_subscribed(broker, vm, site)
        vm.stop()
        total = n // devices * devices
        t_pub = time.monotonic()
        publish(broker, stream_files(workdir, site, devices, n))
        db = workdir / f"{name}.db"
        deadline = time.monotonic() + 300
        while True:  # every message buffered on disk (and acknowledged)
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
                buffered = c.execute("SELECT COALESCE(SUM(n), 0) FROM buffer").fetchone()[0]
            if buffered >= total:
                break
            if time.monotonic() > deadline:
                raise TimeoutError("backlog not buffered")
            time.sleep(0.1)
        t_buffered = time.monotonic()
        vm.start()
        t0 = time.monotonic()
        t1 = wait_count(vm, site, total + 1)
        return {"drain": total / (t1 - t0), "buffer_in": total / (t_buffered - t_pub)}
    finally:
        bridge.terminate()
        bridge.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--devices", type=int, default=4)
    ap.add_argument("--naive", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp:
        workdir = Path(tmp)
        broker = Mosquitto(workdir / "mosquitto")
        broker.conf.write_text(broker.conf.read_text().replace("max_inflight_messages 100\n",
                                                               "max_inflight_messages 1000\n"))
        broker.start()
        vm = VictoriaMetrics(workdir / "vm").start()
        try:
            ingest, ingest2, naive, drain = [], [], [], []
            for run in range(args.runs):
                ingest.append(ingest_run(broker, vm, workdir, run, args.messages, args.devices))
                ingest2.append(ingest_run(broker, vm, workdir, run, args.messages, args.devices, bridges=2))
                naive.append(naive_run(broker, vm, workdir, run, args.naive))
                drain.append(drain_run(broker, vm, workdir, run, args.messages, args.devices))
                print(f"run {run + 1}: bridge {ingest[-1]['bridge']:.0f} msg/s, two bridges "
                      f"{ingest2[-1]['bridge']:.0f} msg/s, mosquitto_sub "
                      f"{ingest[-1]['ceiling']:.0f} msg/s, naive {naive[-1]:.0f} msg/s, drain "
                      f"{drain[-1]['drain']:.0f} points/s, RSS max {ingest[-1]['rss_max_mb']:.0f} MB",
                      flush=True)
        finally:
            vm.kill()
            broker.kill()

    def med(rows, key=None):
        return statistics.median(r[key] if key else r for r in rows)

    b, c, nv = med(ingest, "bridge"), med(ingest, "ceiling"), med(naive)
    print(f"\nmedians over {args.runs} runs ({args.messages} messages from {args.devices} devices per run; "
          f"naive loop {args.naive} messages):")
    print(f"  sustained ingest, bridge -> database : {b:8.0f} msg/s")
    print(f"  mosquitto_sub, same stream (ceiling) : {c:8.0f} msg/s   bridge/ceiling = {b / c:.2f}")
    b2 = med(ingest2, "bridge")
    print(f"  two bridges, one share group         : {b2:8.0f} msg/s   two/one = {b2 / b:.2f}x "
          f"(mosquitto_sub in that run {med(ingest2, 'ceiling'):.0f} msg/s)")
    cpu1 = med(ingest, 'cpu_ms_per_1000')
    print(f"  bridge CPU per 1000 messages         : one {cpu1:.0f} ms, two together "
          f"{med(ingest2, 'cpu_ms_per_1000'):.0f} ms (the rate one core allows: "
          f"{1e6 / cpu1:.0f} msg/s per bridge)")
    print(f"  naive paho + 1 write per message     : {nv:8.0f} msg/s   bridge/naive = {b / nv:.1f}x")
    print(f"  backlog into the disk buffer (db down): {med(drain, 'buffer_in'):7.0f} msg/s")
    print(f"  backlog drain after the outage       : {med(drain, 'drain'):8.0f} points/s "
          f"({args.messages} buffered points)")
    print(f"  bridge RSS under load: median {med(ingest, 'rss_median_mb'):.0f} MB, "
          f"max {med(ingest, 'rss_max_mb'):.0f} MB")


if __name__ == "__main__":
    main()
