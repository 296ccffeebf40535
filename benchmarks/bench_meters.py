"""Meter benchmarks: bus throughput against the simulators, and alert detection delay.

    .venv/bin/python benchmarks/bench_meters.py [--quick]

1. Transactions per second one serial port sustains against the simulator on a
   pty, at 9600 and 2400 baud, for DL/T 645 (read total energy: 20-byte request
   incl. 4 FE, 21-byte reply incl. 1 FE) and Modbus RTU (read 2 input registers:
   8 + 9 bytes), compared with the bus's theoretical frame rate at that baud,
   baud / ((request + reply bytes) x 11 bits). A pty does not enforce a baud
   rate: the simulator paces each reply to the wire time of request + reply at
   the configured baud, so the figure means something. Baseline in the same
   run: the same transaction against an unpaced simulator (software overhead
   only). Also full meter polls per second (5 values DL/T 645, 4 values SDM120).
2. Alert detection delay in simulated time on the slow-leak, burst-pipe and
   AC-left-on profiles (default alert settings), and how long the replay took.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.base import Resources  # noqa: E402
from drivers.dlt645 import codec  # noqa: E402
from drivers.dlt645.meter import Dlt645Meter  # noqa: E402
from drivers.modbus.meter import ModbusMeter  # noqa: E402
from drivers.serial_bus import SerialBus  # noqa: E402
from edge.alerts.after_hours import AfterHoursDetector  # noqa: E402
from edge.alerts.config import AFTER_HOURS, LEAK  # noqa: E402
from edge.alerts.leak import LeakDetector  # noqa: E402
from edge.config.schema import validate  # noqa: E402
from simulators.meters import profiles  # noqa: E402
from simulators.meters.clock import ManualClock, SimClock  # noqa: E402
from simulators.meters.dlt645 import Dlt645Bus  # noqa: E402
from simulators.meters.modbus import ModbusBus  # noqa: E402
from simulators.meters.model import SimMeter  # noqa: E402
from simulators.meters.pty import PtyLink  # noqa: E402

BITS = 11  # 8E1 (DL/T 645) / 8E1 or 8N2 (Modbus RTU as the standard wants): 11 bits a byte


class Quiet:
    """Enough of a DeviceContext for the benchmark: the bus is what is measured."""

    def __init__(self) -> None:
        self.device_id = "bench"
        self.log = logging.getLogger("bench")
        self.resources = Resources()

    def telemetry(self, *a, **k): ...
    def event(self, *a, **k): ...
    def state(self, *a, **k): ...
    def load(self, key, default=None): return default
    def save(self, key, value): ...
    def save_soon(self, key, value): ...


def _meter(protocol: str, path: str, baud: int):
    common = {"id": "bench", "port": path, "baudrate": baud, "stopbits": 1, "poll_seconds": 1.0,
              "timeout_seconds": 2.0, "retries": 0, "offline_after": 3, "max_backoff_seconds": 1.0,
              "after_hours": None, "kind": "electricity_meter"}
    if protocol == "dlt645":
        return Dlt645Meter({**common, "driver": "dlt645", "parity": "E", "address": "000000000161"}, Quiet())
    return ModbusMeter({**common, "driver": "modbus", "parity": "E", "unit": 1, "model": "sdm120",
                        "registers": None}, Quiet())


def measure(protocol: str, baud: int, pace_baud: float, n: int, polls: int) -> dict[str, float]:
    clock = SimClock()
    make = lambda a: SimMeter(a, profiles.night, clock, energy_kwh=1234.5)  # noqa: E731
    handler = Dlt645Bus(make) if protocol == "dlt645" else ModbusBus(make, model="sdm120")
    link = PtyLink(handler, pace_baud, BITS, turnaround=0.0).start()
    bus = SerialBus(link.path, baud, "E", 1)
    meter = _meter(protocol, link.path, baud)
    try:
        one = (lambda: meter.read_di(bus, 0x00010000)) if protocol == "dlt645" else (
            lambda: meter.read_register(bus, meter.map[3]))
        one()  # open the port
        times = []
        for _ in range(n):
            t = time.perf_counter()
            one()
            times.append(time.perf_counter() - t)
        poll_times = []
        for _ in range(polls):
            t = time.perf_counter()
            meter.read(bus)
            poll_times.append(time.perf_counter() - t)
    finally:
        bus.stop()
        link.stop()
    frame = 41 if protocol == "dlt645" else 17  # request + reply bytes on the wire
    return {"tx_per_s": 1 / statistics.median(times), "polls_per_s": 1 / statistics.median(poll_times),
            "theory_tx_per_s": baud / (frame * BITS), "frame_bytes": frame}


def throughput(quick: bool) -> None:
    assert len(codec.encode_read("000000000161", 0x00010000)) == 20
    print("\n## Bus throughput (median of N transactions; 11 bits per byte)\n")
    print("| protocol | baud | theory tx/s | measured tx/s | ratio | unpaced baseline tx/s | polls/s |")
    print("|---|---|---|---|---|---|---|")
    for protocol in ("dlt645", "modbus"):
        for baud in (9600, 2400):
            n = (8 if baud == 2400 else 20) if quick else (20 if baud == 2400 else 60)
            paced = measure(protocol, baud, baud, n, 2 if quick else 4)
            free = measure(protocol, baud, 1e9, n, 2)
            print(f"| {protocol} | {baud} | {paced['theory_tx_per_s']:.1f} | {paced['tx_per_s']:.1f} | "
                  f"{paced['tx_per_s'] / paced['theory_tx_per_s']:.2f} | {free['tx_per_s']:.0f} | "
                  f"{paced['polls_per_s']:.2f} |")


START = datetime(2026, 2, 2, tzinfo=UTC)  # a Monday


def delay(detector, profile, learn_days: float, onset: datetime, days: float, step_s: float = 60):
    clock = ManualClock(START, tz=UTC)
    meter = SimMeter("1", profile, clock, energy_kwh=100.0, volume_m3=10.0)
    t0 = time.perf_counter()
    steps = int((learn_days + days) * 86400 / step_s)
    first: dict[str, tuple[timedelta, object]] = {}  # reason -> (delay, alert)
    for _ in range(steps):
        clock.advance(step_s)
        r = meter.readings()
        alerts = detector.feed(int(clock.now() * 1000), {"energy_kwh": round(r["energy_kwh"], 2),
                                                        "volume_m3": round(r["volume_m3"], 4)})
        for a in alerts:
            reason = a.fields.get("reason", a.type)
            if reason not in first and clock.now() >= onset.timestamp():
                first[reason] = (clock.datetime() - onset, a)
    return first, time.perf_counter() - t0, steps


def detection() -> None:
    print("\n## Alert detection delay (simulated time, readings every 60 s, default settings)\n")
    print("| profile | onset | first alert | delay | replayed | replay took |")
    print("|---|---|---|---|---|---|")
    leak_cfg = validate(LEAK, {"timezone": "UTC", "burst_lpm": 50})
    cases = [
        ("slow_leak 2 L/min", LeakDetector(leak_cfg), 14, START + timedelta(days=14, hours=12),
         profiles.make("slow_leak", onset=START + timedelta(days=14, hours=12), leak_lpm=2)),
        ("burst_pipe 80 L/min", LeakDetector(leak_cfg), 14, START + timedelta(days=14, hours=3),
         profiles.make("burst_pipe", onset=START + timedelta(days=14, hours=3))),
        ("ac_overnight 2.5 kW", AfterHoursDetector(validate(AFTER_HOURS, {"timezone": "UTC"})), 14,
         START + timedelta(days=14, hours=18),
         profiles.make("ac_overnight", onset=START + timedelta(days=14, hours=12))),
    ]
    for name, det, learn, onset, profile in cases:
        first, took, steps = delay(det, profile, learn, onset, 4)
        if not first:
            print(f"| {name} | {onset:%a %H:%M} | none | - | {learn + 4} days | {took:.2f} s |")
        for what, (d, _alert) in sorted(first.items(), key=lambda kv: kv[1][0]):
            print(f"| {name} | {onset:%a %H:%M} | {what} | {d} | {learn + 4} days ({steps} readings) | "
                  f"{took:.2f} s |")
    print("\n(ac_overnight: the delay is counted from closing time, 18:00, when the load becomes after-hours."
          "\n continuous_flow counts wet hours before the onset too: the school's own daytime use.)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer transactions (for a smoke run)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    throughput(args.quick)
    detection()


if __name__ == "__main__":
    main()
