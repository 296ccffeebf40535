"""A district on this machine: schools' readings through a school broker, the WAN uplinks, the district
broker and the district's bridges into VictoriaMetrics, all from the shipped files in deploy/.

    .venv/bin/python benchmarks/bench_district.py [--sites 100] [--devices 50] [--every 10] \
        [--minutes 2] [--bridges 2]

One school broker (deploy/mosquitto/campus.conf) carries every simulated site, with one uplink per site
(deploy/district/make-uplink.py) to the district broker (deploy/district/district.conf) through a TCP
forwarder; --bridges bridges (deploy/district/district-bridge.yaml) share the stream into
VictoriaMetrics (which keeps every sample it is sent, so a reading written twice is counted). One
publisher per site (user {site}.node-0) sends each device's telemetry {"ts", "seq", "values"} every
--every seconds, spread evenly. A plain `mosquitto_sub` on the district broker counts what arrived there
(the receiving baseline). Reported: readings delivered / lost / stored twice, end-to-end latency from
the reading's ts to its visibility in the database (polled every 0.5 s, so figures carry up to 0.5 s of
polling), and the CPU each process used.
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
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402
import yaml  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from tests.support.district import District, password  # noqa: E402
from tests.support.victoria import VictoriaMetrics  # noqa: E402

METRIC = "electricity_meter_energy_kwh"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def export(vm: VictoriaMetrics, start_ms: int | None = None) -> list[dict]:
    vm.flush()
    q = {"match[]": f'{{__name__="{METRIC}"}}'}
    if start_ms is not None:
        q["start"] = str(start_ms / 1000)
    with urllib.request.urlopen(f"{vm.url}/api/v1/export?" + urllib.parse.urlencode(q), timeout=60) as r:
        return [json.loads(line) for line in r.read().decode().splitlines() if line.strip()]


class Sites:
    """One MQTT client per site (node-0), publishing its devices' readings at a steady pace."""

    def __init__(self, district: District, devices: int) -> None:
        self.devices = [f"m{i}" for i in range(devices)]
        self.clients: dict[str, mqtt.Client] = {}
        for site in district.sites:
            user = f"{site}.node-0"
            c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"agent-{site}", protocol=mqtt.MQTTv5)
            c.username_pw_set(user, password(user))
            c.max_inflight_messages_set(100)
            c.connect("127.0.0.1", district.school_port)
            c.loop_start()
            info = {"version": "bench", "session": 1, "started": 0,
                    "devices": [{"id": d, "kind": "electricity_meter", "driver": "sim"}
                                for d in self.devices]}
            c.publish(f"campus/{site}/node-0/info", json.dumps(info), qos=1, retain=True).wait_for_publish(10)
            self.clients[site] = c
        self.sent: dict[tuple[str, str, int], int] = {}  # (site, device, ts) -> seq

    def run(self, seconds: float, every: float, stop: threading.Event) -> None:
        pairs = [(s, d) for s in self.clients for d in self.devices]
        step = every / len(pairs)
        t0 = time.monotonic()
        seq = 0
        while not stop.is_set() and time.monotonic() - t0 < seconds:
            for i, (site, dev) in enumerate(pairs):
                due = t0 + seq * every + i * step
                if (delay := due - time.monotonic()) > 0:
                    time.sleep(delay)
                ts = int(time.time() * 1000)
                while (site, dev, ts) in self.sent:
                    ts += 1
                self.sent[(site, dev, ts)] = seq
                payload = {"ts": ts, "seq": seq, "values": {"energy_kwh": float(seq)}}
                topic = f"campus/{site}/node-0/{dev}/telemetry"
                self.clients[site].publish(topic, json.dumps(payload), qos=1)
            seq += 1

    def close(self) -> None:
        for c in self.clients.values():
            c.disconnect()
            c.loop_stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sites", type=int, default=100)
    ap.add_argument("--devices", type=int, default=50)
    ap.add_argument("--every", type=float, default=10.0, help="seconds between a device's readings")
    ap.add_argument("--minutes", type=float, default=2.0)
    ap.add_argument("--bridges", type=int, default=2)
    args = ap.parse_args()
    rate = args.sites * args.devices / args.every
    print(f"{args.sites} sites x {args.devices} devices every {args.every:g} s = {rate:.0f} msg/s for "
          f"{args.minutes:g} min, {args.bridges} bridge(s)", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-district-") as tmp:
        t = time.monotonic()
        district = District(Path(tmp) / "lab", [f"s{i:03d}" for i in range(args.sites)]).start()
        vm = VictoriaMetrics(Path(tmp) / "vm").start()
        procs: dict[str, subprocess.Popen] = {}
        try:
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            for i in range(args.bridges):
                cfg = district.bridge_config(f"district-{i + 1}", vm.url)
                path = Path(tmp) / f"district-{i + 1}.yaml"
                path.write_text(yaml.safe_dump(cfg))
                with open(Path(tmp) / f"district-{i + 1}.log", "ab") as log:
                    procs[f"bridge {i + 1}"] = subprocess.Popen(
                        [sys.executable, "-m", "edge.cli", "--log-level", "warning", "bridge", "-c",
                         str(path)],
                        stdout=log, stderr=log, env=env, cwd=ROOT)
            sub_out = open(Path(tmp) / "sub.txt", "wb")  # noqa: SIM115 (closed below)
            procs["mosquitto_sub (district)"] = subprocess.Popen(
                ["mosquitto_sub", "-p", str(district.district_port), "-u", "bridge", "-P", password("bridge"),
                 "-q", "1", "-t", "campus/+/+/+/telemetry", "-F", "%t"], stdout=sub_out)
            # every bridge subscribed: each says so (retained) right after subscribing (edge/bridge/peers.py)
            subprocess.run(["mosquitto_sub", "-p", str(district.district_port), "-u", "bridge", "-P",
                            password("bridge"), "-t", "campus-edge/bridges/district/+",
                            "-C", str(args.bridges),
                            "-W", "60"], check=True, stdout=subprocess.DEVNULL, timeout=70)
            sites = Sites(district, args.devices)
            time.sleep(2)  # mosquitto_sub subscribed, uplinks up
            print(f"set up in {time.monotonic() - t:.0f} s", flush=True)
            pids = {"school broker": district.school.proc.pid, "district broker": district.district.proc.pid,
                    "VictoriaMetrics": vm.proc.pid, "publishers (this process)": os.getpid(),
                    **{k: p.pid for k, p in procs.items()}}
            cpu0 = {k: cpu_seconds(p) for k, p in pids.items()}
            stop = threading.Event()
            sender = threading.Thread(target=sites.run, args=(args.minutes * 60, args.every, stop))
            t0 = time.monotonic()
            sender.start()
            seen: dict[tuple[str, str, int], float] = {}
            while sender.is_alive() or time.monotonic() < t0 + args.minutes * 60 + 30:
                polled = time.time() * 1000
                for s in export(vm, int(polled) - 15_000):
                    m = s["metric"]
                    for ts in s["timestamps"]:
                        seen.setdefault((m["site"], m["device"], ts), polled)
                if not sender.is_alive() and len(seen) >= len(sites.sent):
                    break
                time.sleep(0.5)
            elapsed = time.monotonic() - t0
            cpu = {k: cpu_seconds(p) - cpu0[k] for k, p in pids.items()}
            sites.close()
            samples = Counter()
            for s in export(vm):
                m = s["metric"]
                for ts in s["timestamps"]:
                    samples[(m["site"], m["device"], ts)] += 1
            procs["mosquitto_sub (district)"].terminate()
            procs["mosquitto_sub (district)"].wait(10)
            sub_out.close()
            at_district = len((Path(tmp) / "sub.txt").read_bytes().splitlines())
        finally:
            for p in procs.values():
                p.terminate()
                p.wait(30)
            vm.kill()
            district.close()
    sent = set(sites.sent)
    lost = sent - set(samples)
    doubled = sum(n - 1 for k, n in samples.items() if k in sent and n > 1)
    lat = sorted(seen[k] - k[2] for k in sent if k in seen)
    if lost and os.environ.get("BENCH_DEBUG"):
        print(sorted(lost)[:20], Counter(k[0] for k in lost), Counter(sites.sent[k] for k in lost))
    print(f"\nsent {len(sent)} readings ({len(sent) / (args.minutes * 60):.0f} msg/s) in "
          f"{args.minutes:g} min;"
          f" measured over {elapsed:.0f} s")
    print(f"  in the database: {len(sent) - len(lost)} delivered, {len(lost)} lost, {doubled} stored twice")
    print(f"  at the district broker (mosquitto_sub): {at_district} messages")
    if lat:
        print(f"  end-to-end latency, reading ts -> readable in the database: "
              f"p50 {statistics.median(lat):.0f} "
              f"ms, p99 {lat[int(len(lat) * 0.99) - 1]:.0f} ms, max {lat[-1]:.0f} ms (0.5 s polling)")
    print("  CPU over the run (share of one core):")
    for k, v in cpu.items():
        print(f"    {k:28s} {v:7.1f} s  {v / elapsed * 100:5.1f} %")


if __name__ == "__main__":
    main()
