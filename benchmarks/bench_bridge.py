"""Bridge benchmark: ingest against mosquitto_sub on the same stream, one and two bridges, CPU per message.

    .venv/bin/python benchmarks/bench_bridge.py [--messages 50000] [--devices 4] [--runs 3] [--naive 2000]
        [--no-outage]

Against a private Mosquitto (max_inflight_messages 1000 and a queue of a million, as
deploy/mosquitto/campus.conf) and a private VictoriaMetrics (InfluxDB v2 write API), both started here.
Each run measures, with the same number of messages (4 devices, QoS 1, `mosquitto_pub -l` one process per
device):

- live: the publishers send while `mosquitto_sub -q 1` and the bridge (`python -m edge.cli bridge`, a child
  process, InfluxDB sink, batch 5000 / 1 s) receive the same stream; the bridge is timed until every point
  is readable in the database. Then the same with two bridges in one share group. Everything shares the
  machine's cores, so these rates depend on its load.
- backlog: the messages are queued in the broker for sessions that are away (mosquitto_sub's, the
  bridge's), then the publishers are gone; the broker is paused (SIGSTOP) while the consumer starts and
  connects, and timed from its resumption until mosquitto_sub has every message, or every point is
  readable. No publisher competes for CPU: this is the consumer's capacity. Again with two bridges.
- naive (--naive messages): paho on_message -> one synchronous influxdb-client write per message.
- outage (unless --no-outage): the database is stopped, the stream is buffered on the bridge's disk, the
  database comes back and the drain is timed.

CPU: seconds of user + system time of every process over each timed window (/proc/<pid>/stat; the
children's rusage for mosquitto_pub and mosquitto_sub), per 1,000 messages. These do not depend on the
machine's load the way wall-clock rates do. VictoriaMetrics' figure includes this benchmark's polling.
Every bridge figure is checked: exactly one point per message in the database (VictoriaMetrics keeps
every sample it is sent, so a message written twice would count twice). Figures are medians over --runs.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
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
from typing import Any

import paho.mqtt.client as mqtt
import yaml
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge.broker import Mosquitto  # noqa: E402
from tests.support.victoria import VictoriaMetrics  # noqa: E402

T0 = 1_700_000_000_000
METRIC = "electricity_meter_energy_kwh"
PROBE = "electricity_meter_probe"  # the probe that shows a bridge is writing: not one of the counted points


# -- measuring -------------------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """user + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_jiffies() -> tuple[int, int]:
    """(busy, all) jiffies of every core since boot, every process of the machine (other jobs too)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(values) - values[3] - values[4], sum(values)


def wait_cpu(proc: subprocess.Popen, timeout: float = 300) -> float:
    """Wait for a child to exit; its CPU seconds (rusage). Polls without reaping, to time the exit."""
    deadline = time.monotonic() + timeout
    while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is None:
        if time.monotonic() > deadline:
            proc.kill()
            raise TimeoutError(f"{proc.args[0]} did not finish in {timeout} s")
        time.sleep(0.002)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def connected_to(pid: int, port: int) -> bool:
    """The process has an established TCP connection to 127.0.0.1:port."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        f = line.split()
        if f[3] == "01" and int(f[2].split(":")[1], 16) == port and f[9] in inodes:
            return True
    return False


class Window:
    """CPU of long-running processes and of the machine over a timed window."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
        self.machine0 = machine_jiffies()
        self.t0 = time.monotonic()

    def close(self) -> dict[str, float]:
        cpu = {k: cpu_seconds(p) - self.cpu0[k] for k, p in self.pids.items()}
        busy, total = (a - b for a, b in zip(machine_jiffies(), self.machine0, strict=True))
        cpu["machine_busy"] = busy / total if total else 0.0
        return cpu


def per_1000(cpu: dict[str, float], n: int) -> dict[str, float]:
    """CPU seconds -> ms per 1,000 messages (the machine's busy share is kept as it is)."""
    return {k: v if k == "machine_busy" else v * 1e6 / n for k, v in cpu.items()}


# -- the database ----------------------------------------------------------------------------------------
def vm_count(vm: VictoriaMetrics, site: str, metric: str = METRIC) -> int:
    """Points of one site in the database."""
    vm.flush()
    q = f'sum(count_over_time({metric}{{site="{site}"}}[100y]))'
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
        time.sleep(0.05)
    raise TimeoutError(f"{site}: fewer than {n} points after {timeout} s")


def check_exact(vm: VictoriaMetrics, site: str, n: int) -> None:
    got = vm_count(vm, site)
    if got != n:  # VictoriaMetrics keeps every sample sent: more is a message written twice
        raise AssertionError(f"{site}: {got} points in the database for {n} messages")


# -- publishing ------------------------------------------------------------------------------------------
def stream_files(workdir: Path, site: str, devices: int, n: int) -> list[tuple[str, Path]]:
    """One file of JSON lines per device, n messages in all, distinct timestamps."""
    out = []
    per = n // devices
    for d in range(devices):
        path = workdir / f"{site}-m{d}.jsonl"
        with open(path, "w") as f:
            for i in range(d * per, (d + 1) * per):
                f.write(json.dumps({"ts": T0 + i, "seq": i, "values": {"energy_kwh": i * 0.01,
                                                                       "power_w": 1500.0}}) + "\n")
        out.append((f"campus/{site}/node-1/m{d}/telemetry", path))
    return out


def publish(broker: Mosquitto, files: list[tuple[str, Path]], out: dict[str, float] | None = None) -> None:
    """mosquitto_pub -l, one process per device; their CPU seconds in out["publishers"]."""
    procs = []
    for topic, path in files:
        with open(path, "rb") as f:  # the child keeps its own copy of the descriptor
            cmd = ["mosquitto_pub", "-p", str(broker.port), "-q", "1", "-t", topic, "-l"]
            procs.append(subprocess.Popen(cmd, stdin=f))
    cpu = sum(wait_cpu(p) for p in procs)
    if out is not None:
        out["publishers"] = cpu


def publish_info(broker: Mosquitto, site: str, devices: int) -> None:
    info = {"version": "bench", "session": 1, "started": T0,
            "devices": [{"id": f"m{d}", "kind": "electricity_meter", "driver": "sim"}
                        for d in range(devices)]}
    subprocess.run(["mosquitto_pub", "-p", str(broker.port), "-q", "1", "-r", "-t",
                    f"campus/{site}/node-1/info", "-m", json.dumps(info)], check=True)


# -- bridges ---------------------------------------------------------------------------------------------
class Bench:
    def __init__(self, workdir: Path, broker: Mosquitto, vm: VictoriaMetrics, devices: int) -> None:
        self.workdir, self.broker, self.vm, self.devices = workdir, broker, vm, devices

    def start_bridge(self, name: str, group: str | None = None, session_expiry: int = 0) -> subprocess.Popen:
        cfg: dict[str, Any] = {
            # session_expiry 0: a finished run's bridge must not keep a session that the broker then fills
            "mqtt": {"host": self.broker.host, "port": self.broker.port, "client_id": f"bench-{name}",
                     "session_expiry": session_expiry},
            "sink": {"type": "influxdb", "url": self.vm.url, "token": "bench", "org": "campus",
                     "bucket": "campus", "timeout_seconds": 5},
            "storage": {"path": str(self.workdir / f"{name}.db")},
            "retry": {"min_seconds": 0.2, "max_seconds": 0.5},
            "status_seconds": 5,
        }
        if group:
            cfg["share_group"] = group
        path = self.workdir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(cfg))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(self.workdir / f"{name}.log", "ab") as log:
            level = os.environ.get("BENCH_LOG", "warning")  # info: the bridges' logs say what they did
            return subprocess.Popen([sys.executable, "-m", "edge.cli", "--log-level", level, "bridge",
                                     "-c", str(path)], stdout=log, stderr=log, env=env, cwd=ROOT)

    def wait_subscribed(self, site: str, group: str | None, members: int) -> None:
        """A probe point reaches the database (a bridge is subscribed and writing); in a group, every
        member said it is online, which it does right after subscribing (edge/bridge/peers.py)."""
        if group:
            subprocess.run(["mosquitto_sub", "-p", str(self.broker.port), "-t",
                            f"campus-edge/bridges/{group}/+", "-C", str(members), "-W", "60"],
                           check=True, stdout=subprocess.DEVNULL, timeout=70)
        probe = {"ts": T0 - 1, "seq": 0, "values": {"probe": 0.0}}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            subprocess.run(["mosquitto_pub", "-p", str(self.broker.port), "-q", "1", "-t",
                            f"campus/{site}/node-1/m0/telemetry", "-m", json.dumps(probe)], check=True)
            time.sleep(0.5)
            if vm_count(self.vm, site, PROBE) >= 1:
                return
        raise TimeoutError("the bridge did not start writing")

    def wait_wills(self, group: str, members: int) -> None:
        """Every member's will (offline, retained) is published: the broker sends it when it sees the
        connection gone, which may come after our next publish."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            out = subprocess.run(["mosquitto_sub", "-p", str(self.broker.port), "-t",
                                  f"campus-edge/bridges/{group}/+", "-C", str(members), "-W", "2"],
                                 capture_output=True, text=True, timeout=10).stdout
            if out.count('"offline"') == members:
                return
            time.sleep(0.1)
        raise TimeoutError("the bridges' wills were not published")

    def take_queued(self, client_id: str) -> None:
        """Receive (and acknowledge) what a session has queued, keeping the session."""
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 3600
        client.connect(self.broker.host, self.broker.port, clean_start=False, properties=props)
        client.loop_start()
        time.sleep(0.5)
        client.disconnect()
        client.loop_stop()

    def stop(self, procs: list[subprocess.Popen]) -> None:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(30)

    def live(self, run: int, n: int, bridges: int) -> dict[str, Any]:
        """Publishers, mosquitto_sub and the bridge(s) at once, on one stream."""
        site = f"live{bridges}-{run}"
        publish_info(self.broker, site, self.devices)
        group = f"live{run}" if bridges > 1 else None
        procs = [self.start_bridge(f"{site}-{i}", group) for i in range(bridges)]
        try:
            self.wait_subscribed(site, group, bridges)
            files = stream_files(self.workdir, site, self.devices, n)
            total = n // self.devices * self.devices
            sub = subprocess.Popen(["mosquitto_sub", "-p", str(self.broker.port), "-q", "1", "-C", str(total),
                                    "-t", f"campus/{site}/+/+/telemetry"], stdout=subprocess.DEVNULL)
            time.sleep(0.5)  # mosquitto_sub subscribed
            rss: list[int] = []
            window = Window({"broker": self.broker.proc.pid, "VictoriaMetrics": self.vm.proc.pid,
                             **{f"bridge {i + 1}": p.pid for i, p in enumerate(procs)}})
            pub_cpu: dict[str, float] = {}
            pub = threading.Thread(target=publish, args=(self.broker, files, pub_cpu))
            pub.start()
            sub_cpu = wait_cpu(sub)
            t_sub = time.monotonic()
            t_bridge = wait_count(self.vm, site, total, rss=rss, pid=procs[0].pid)
            cpu = window.close()
            pub.join()
            check_exact(self.vm, site, total)
            cpu.update(pub_cpu, mosquitto_sub=sub_cpu)
            return {"sub": total / (t_sub - window.t0), "bridge": total / (t_bridge - window.t0),
                    "cpu": per_1000(cpu, total), "rss_max_mb": max(rss) / 1024,
                    "rss_median_mb": statistics.median(rss) / 1024}
        finally:
            self.stop(procs)

    def paused_start(self, start: Any, watch: dict[str, int],
                     name: str | None = "bridge") -> tuple[list[subprocess.Popen], Window]:
        """Start consumers while the broker is paused; once each is connected, open the CPU window (the
        broker, `watch` and the consumers as `name` 1, 2..., if named) and resume the broker."""
        os.kill(self.broker.proc.pid, signal.SIGSTOP)
        try:
            procs = start()
            deadline = time.monotonic() + 60
            while not all(connected_to(p.pid, self.broker.port) for p in procs):
                if time.monotonic() > deadline:
                    raise TimeoutError("consumers did not connect")
                time.sleep(0.02)
            window = Window({"broker": self.broker.proc.pid, **watch,
                             **{f"{name} {i + 1}": p.pid for i, p in enumerate(procs) if name}})
        finally:
            os.kill(self.broker.proc.pid, signal.SIGCONT)
        window.t0 = time.monotonic()
        return procs, window

    def backlog(self, run: int, n: int, bridges: int) -> dict[str, Any]:
        """Messages queued in the broker for away sessions, then drained without a publisher."""
        site = f"backlog{bridges}-{run}"
        publish_info(self.broker, site, self.devices)
        group = f"backlog{run}" if bridges > 1 else None
        names = [f"{site}-{i}" for i in range(bridges)]
        procs = [self.start_bridge(name, group, session_expiry=3600) for name in names]
        try:
            self.wait_subscribed(site, group, bridges)
        finally:  # killed together: a member stopping cleanly could see the other go and take its session
            for p in procs:
                p.kill()
            for p in procs:
                p.wait(30)
        if group:  # their wills say offline (retained, and queued for the other): a restarted member would
            self.wait_wills(group, bridges)  # take the other's session over (not measured here)
            for name in names:
                self.take_queued(f"bench-{name}")
                subprocess.run(["mosquitto_pub", "-p", str(self.broker.port), "-r", "-n", "-t",
                                f"campus-edge/bridges/{group}/bench-{name}"], check=True)
        topic = f"campus/{site}/+/+/telemetry"
        sub_id = f"bench-sub-{site}"
        sub_cmd = ["mosquitto_sub", "-p", str(self.broker.port), "-q", "1", "-i", sub_id, "-t", topic]
        subprocess.run([*sub_cmd, "-c", "-E"], check=True)  # a persistent session that queues for it
        total = n // self.devices * self.devices
        out: dict[str, Any] = {}
        pub_cpu: dict[str, float] = {}
        window = Window({"broker": self.broker.proc.pid})
        publish(self.broker, stream_files(self.workdir, site, self.devices, n), pub_cpu)
        out["queue_cpu"] = per_1000({**window.close(), **pub_cpu}, total)
        # mosquitto_sub drains its queue alone
        (sub,), window = self.paused_start(lambda: [subprocess.Popen(
            [*sub_cmd, "-c", "-C", str(total)], stdout=subprocess.DEVNULL)], {}, None)
        sub_cpu = wait_cpu(sub)  # its whole life (rusage): a C program's start-up is negligible
        out["sub"] = total / (time.monotonic() - window.t0)
        out["sub_cpu"] = per_1000({**window.close(), "mosquitto_sub": sub_cpu}, total)
        subprocess.run([*sub_cmd, "-E"], check=True)  # a clean session: the broker forgets the queue
        # then the bridge(s): session expiry 0 on this connection, so the session ends with it
        procs, window = self.paused_start(lambda: [self.start_bridge(name, group) for name in names],
                                          {"VictoriaMetrics": self.vm.proc.pid})
        try:
            t1 = wait_count(self.vm, site, total)
            out["cpu"] = per_1000(window.close(), total)
            check_exact(self.vm, site, total)
        finally:
            self.stop(procs)
        out["bridge"] = total / (t1 - window.t0)
        return out

    def naive(self, run: int, n: int) -> float:
        """paho (auto ack) + one synchronous influxdb-client write per message: a first attempt."""
        from influxdb_client import InfluxDBClient, WritePrecision
        from influxdb_client.client.write_api import SYNCHRONOUS

        site = f"naive-{run}"
        inbox: queue.Queue = queue.Queue()
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"naive-{run}", protocol=mqtt.MQTTv5)
        client.on_message = lambda c, u, m: inbox.put(m)
        subscribed = threading.Event()
        client.on_subscribe = lambda *a: subscribed.set()
        client.connect(self.broker.host, self.broker.port)
        client.loop_start()
        client.subscribe(f"campus/{site}/+/+/telemetry", qos=1)
        subscribed.wait(5)
        db = InfluxDBClient(url=self.vm.url, token="bench", org="campus")
        api = db.write_api(write_options=SYNCHRONOUS)
        files = stream_files(self.workdir, site, 1, n)
        t0 = time.monotonic()
        pub = threading.Thread(target=publish, args=(self.broker, files))
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

    def outage(self, run: int, n: int) -> dict[str, float]:
        """Database down: the stream goes to the disk buffer; then the drain when it is back."""
        site = f"outage-{run}"
        publish_info(self.broker, site, self.devices)
        name = f"outage-{run}"
        bridge = self.start_bridge(name)
        try:
            self.wait_subscribed(site, None, 1)
            self.vm.stop()
            total = n // self.devices * self.devices
            t_pub = time.monotonic()
            publish(self.broker, stream_files(self.workdir, site, self.devices, n))
            db = self.workdir / f"{name}.db"
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
            self.vm.start()
            t0 = time.monotonic()
            t1 = wait_count(self.vm, site, total)
            return {"drain": total / (t1 - t0), "buffer_in": total / (t_buffered - t_pub)}
        finally:
            self.stop([bridge])


# -- report ----------------------------------------------------------------------------------------------
def med(rows: list[Any], *keys: str) -> float:
    def get(row: Any) -> float:
        for k in keys:
            row = row[k]
        return float(row)
    return statistics.median(get(r) for r in rows)


def cpu_table(columns: dict[str, list[dict[str, Any]]], bridges: dict[str, int]) -> dict[str, float]:
    """Print CPU ms per 1,000 messages per process (medians); returns each column's total."""
    print("\nCPU per 1,000 messages, ms (medians; user + system time over the timed window):")
    names = list(columns)
    print(f"  {'process':32s}" + "".join(f"{c:>16s}" for c in names))
    rows = [("broker (mosquitto)", ["broker"]), ("publishers (4 x mosquitto_pub)", ["publishers"]),
            ("mosquitto_sub", ["mosquitto_sub"]), ("bridge 1", ["bridge 1"]), ("bridge 2", ["bridge 2"]),
            ("VictoriaMetrics (+ our polls)", ["VictoriaMetrics"])]
    totals = dict.fromkeys(names, 0.0)
    for label, (key,) in rows:
        cells = []
        for c in names:
            if all(key in r for r in columns[c]):
                v = statistics.median(r[key] for r in columns[c])
                totals[c] += v
                cells.append(f"{v:16.1f}")
            else:
                cells.append(f"{'-':>16s}")
        print(f"  {label:32s}" + "".join(cells))
    print(f"  {'all of these':32s}" + "".join(f"{totals[c]:16.1f}" for c in names))
    print(f"  {'bridges together':32s}" + "".join(
        f"{sum(statistics.median(r[f'bridge {i + 1}'] for r in columns[c]) for i in range(bridges[c])):16.1f}"
        if bridges[c] else f"{'-':>16s}" for c in names))
    print(f"  {'machine busy (all jobs), of 2 cores':32s}" + "".join(
        f"{statistics.median(r['machine_busy'] for r in columns[c]) * 100:15.0f}%" for c in names))
    return totals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=50000)
    ap.add_argument("--devices", type=int, default=4)
    ap.add_argument("--naive", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-outage", action="store_true", help="skip the database-outage measurement")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-bridge-") as tmp:
        workdir = Path(tmp)
        broker = Mosquitto(workdir / "mosquitto")
        broker.conf.write_text(broker.conf.read_text()
                               .replace("max_inflight_messages 100\n", "max_inflight_messages 1000\n")
                               .replace("max_queued_messages 100000\n", "max_queued_messages 1000000\n"))
        broker.start()
        vm = VictoriaMetrics(workdir / "vm").start()
        bench = Bench(workdir, broker, vm, args.devices)
        live1: list[dict] = []
        live2: list[dict] = []
        back1: list[dict] = []
        back2: list[dict] = []
        naive: list[float] = []
        outage: list[dict] = []
        try:
            for run in range(args.runs):
                live1.append(bench.live(run, args.messages, 1))
                live2.append(bench.live(run, args.messages, 2))
                back1.append(bench.backlog(run, args.messages, 1))
                back2.append(bench.backlog(run, args.messages, 2))
                naive.append(bench.naive(run, args.naive))
                if not args.no_outage:
                    outage.append(bench.outage(run, args.messages))
                print(f"run {run + 1}: live: mosquitto_sub {live1[-1]['sub']:.0f}, bridge "
                      f"{live1[-1]['bridge']:.0f}, two bridges {live2[-1]['bridge']:.0f} msg/s; backlog: "
                      f"mosquitto_sub {back1[-1]['sub']:.0f}, bridge {back1[-1]['bridge']:.0f}, two bridges "
                      f"{back2[-1]['bridge']:.0f} msg/s; naive {naive[-1]:.0f} msg/s; bridge CPU "
                      f"{live1[-1]['cpu']['bridge 1']:.1f} ms / 1,000 (live), "
                      f"{back1[-1]['cpu']['bridge 1']:.1f} (backlog)", flush=True)
        finally:
            vm.kill()
            broker.kill()

    total = args.messages // args.devices * args.devices
    print(f"\nmedians over {args.runs} runs, {total} messages per measurement ({args.devices} devices, "
          "QoS 1):")
    s1, b1, b2 = med(live1, "sub"), med(live1, "bridge"), med(live2, "bridge")
    print("live stream (publishers, mosquitto_sub and the bridges at once):")
    print(f"  mosquitto_sub -q 1 on the same stream    {s1:8.0f} msg/s")
    print(f"  one bridge -> database                   {b1:8.0f} msg/s   bridge / mosquitto_sub = "
          f"{b1 / s1:.2f}")
    print(f"  two bridges, one share group             {b2:8.0f} msg/s   two / one = {b2 / b1:.2f}x "
          f"(mosquitto_sub in that run {med(live2, 'sub'):.0f} msg/s)")
    s1b, k1, k2 = med(back1, "sub"), med(back1, "bridge"), med(back2, "bridge")
    print(f"backlog ({total} messages queued in the broker, no publisher; consumer alone):")
    print(f"  mosquitto_sub -q 1                       {s1b:8.0f} msg/s")
    print(f"  one bridge -> database                   {k1:8.0f} msg/s   bridge / mosquitto_sub = "
          f"{k1 / s1b:.2f}")
    print(f"  two bridges, one share group             {k2:8.0f} msg/s   two / one = {k2 / k1:.2f}x "
          f"(mosquitto_sub in that run {med(back2, 'sub'):.0f} msg/s)")
    nv = med(naive)
    print(f"naive paho + 1 write per message ({args.naive} msgs)   {nv:6.0f} msg/s   one bridge (live) / "
          f"naive = {b1 / nv:.1f}x")
    if outage:
        print(f"database down: stream into the disk buffer {med(outage, 'buffer_in'):7.0f} msg/s; drain "
              f"after the outage {med(outage, 'drain'):.0f} points/s")
    print(f"bridge RSS under load (live): median {med(live1, 'rss_median_mb'):.0f} MB, "
          f"max {med(live1, 'rss_max_mb'):.0f} MB")

    columns = {"live, 1 bridge": [r["cpu"] for r in live1], "live, 2 bridges": [r["cpu"] for r in live2],
               "backlog, 1": [r["cpu"] for r in back1], "backlog, 2": [r["cpu"] for r in back2],
               "sub backlog": [r["sub_cpu"] for r in back1], "queueing it": [r["queue_cpu"] for r in back1]}
    totals = cpu_table(columns, {"live, 1 bridge": 1, "live, 2 bridges": 2, "backlog, 1": 1, "backlog, 2": 2,
                                 "sub backlog": 0, "queueing it": 0})
    one = med([r["cpu"] for r in live1], "bridge 1")
    two = totals["live, 2 bridges"]
    print("\nthe arithmetic (CPU is what 2 cores can give, whatever the load of the moment):")
    print(f"  one bridge with a core to itself: 1,000,000 / {one:.1f} ms = {1e6 / one:.0f} msg/s "
          f"(live figure; backlog {1e6 / med([r['cpu'] for r in back1], 'bridge 1'):.0f})")
    print(f"  live stream with two bridges: every process together {two:.1f} ms per 1,000 messages, so 2 "
          f"cores carry at most {2e6 / two:.0f} msg/s of it; 1.7 x one bridge (live) = {1.7 * b1:.0f} msg/s"
          + (" - the machine, not the bridge, is the ceiling" if 2e6 / two < 1.7 * b1 else ""))
    back_two = totals["backlog, 2"]
    print(f"  backlog with two bridges: broker + bridges + database {back_two:.1f} ms per 1,000, so 2 cores "
          f"carry at most {2e6 / back_two:.0f} msg/s; 1.7 x one bridge (backlog) = {1.7 * k1:.0f} msg/s"
          + (" - the machine is the ceiling" if 2e6 / back_two < 1.7 * k1 else ""))


if __name__ == "__main__":
    main()
