"""Broker persistence settings: QoS 1 messages acknowledged per second to an away persistent subscriber.

    .venv/bin/python benchmarks/bench_broker_persistence.py [--messages 1000] [--runs 3]

Why deploy/mosquitto/campus.conf saves every second (autosave_interval 1, time-based) rather than on every
change (autosave_on_changes true, autosave_interval 1): Mosquitto 2.0 rewrites its whole persistence file
at each save. Baseline measured in the same run: persistence off (nothing saved; what a kill -9 loses
entirely). Each run starts a private Mosquitto, registers a persistent subscriber that goes away, and
publishes --messages QoS 1 messages of 150 bytes, waiting for every PUBACK. Medians over --runs runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.broker import Mosquitto  # noqa: E402

SETTINGS = {
    "persistence off (baseline)": "persistence false\n",
    "autosave_interval 1 (shipped)": "autosave_interval 1\nautosave_on_changes false\n",
    "autosave_on_changes true, interval 1": "autosave_interval 1\nautosave_on_changes true\n",
}


def run(extra: str, messages: int) -> float:
    with tempfile.TemporaryDirectory() as d:
        broker = Mosquitto(Path(d), extra_conf=extra).start()
        try:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = 600
            sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="away", protocol=mqtt.MQTTv5)
            sub.connect(broker.host, broker.port, clean_start=False, properties=props)
            sub.loop_start()
            sub.subscribe("bench/#", qos=1)
            time.sleep(0.5)
            sub.disconnect()
            sub.loop_stop()
            pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="pub", protocol=mqtt.MQTTv5)
            pub.max_inflight_messages_set(100)
            pub.connect(broker.host, broker.port)
            pub.loop_start()
            t0 = time.monotonic()
            infos = [pub.publish("bench/x", b"x" * 150, qos=1) for _ in range(messages)]
            for info in infos:
                info.wait_for_publish(600)
            rate = messages / (time.monotonic() - t0)
            pub.disconnect()
            pub.loop_stop()
            return rate
        finally:
            broker.kill()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--messages", type=int, default=1000)
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args()
    medians = {}
    for name, extra in SETTINGS.items():
        medians[name] = statistics.median(run(extra, args.messages) for _ in range(args.runs))
    base = medians["persistence off (baseline)"]
    print(f"{args.messages} QoS 1 messages to an away persistent subscriber, median of {args.runs} runs")
    for name, rate in medians.items():
        print(f"  {name:40s} {rate:8.0f} msg/s  ({rate / base:.2f} x baseline)")


if __name__ == "__main__":
    main()
