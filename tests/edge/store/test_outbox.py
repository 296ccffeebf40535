"""The outbox keeps what a producer was told is accepted, through kill -9, and caps its size."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from edge.store.db import Database
from edge.store.outbox import Outbox


def make(i: int):
    return lambda seq: json.dumps({"i": i, "seq": seq}).encode()


def test_rows_leave_only_when_acked_and_seq_grows_per_device(tmp_path: Path) -> None:
    ob = Outbox(Database(tmp_path / "o.db"))
    assert ob.append("m1", "telemetry", "t/m1", make(0)) == 1
    assert ob.append("m1", "telemetry", "t/m1", make(1)) == 2
    assert ob.append("m2", "event", "t/m2", make(2)) == 1
    rows = ob.pending(0, 10)
    assert [json.loads(r.payload)["i"] for r in rows] == [0, 1, 2]
    ob.ack([rows[0].id, rows[2].id])
    assert [r.id for r in ob.pending(0, 10)] == [rows[1].id]
    assert len(ob) == 1
    # seq continues after reopening
    ob2 = Outbox(Database(tmp_path / "o.db"))
    assert ob2.append("m1", "telemetry", "t/m1", make(3)) == 3
    assert len(ob2) == 2


def test_full_outbox_drops_oldest_telemetry_first_and_counts(tmp_path: Path) -> None:
    ob = Outbox(Database(tmp_path / "o.db"), max_messages=100)
    ob.append("d", "event", "t/e", make(-1))
    for i in range(150):
        ob.append("d", "telemetry", "t/t", make(i))
    assert len(ob) == 100
    assert ob.dropped == 51  # 101st..151st appends each pushed out the oldest telemetry
    kept = [json.loads(r.payload)["i"] for r in ob.pending(0, 1000)]
    assert kept[0] == -1  # the event survived
    assert kept[1:] == list(range(51, 150))
    assert Outbox(Database(tmp_path / "o.db")).dropped == 51


def test_failed_payload_builder_stores_nothing(tmp_path: Path) -> None:
    ob = Outbox(Database(tmp_path / "o.db"))

    def boom(seq: int) -> bytes:
        raise ValueError("bad reading")

    try:
        ob.append("d", "telemetry", "t", boom)
    except ValueError:
        pass
    assert len(ob) == 0
    assert ob.append("d", "telemetry", "t", make(0)) == 1  # seq not consumed


PRODUCER = """
import sys, json
from edge.store.db import Database
from edge.store.outbox import Outbox
ob = Outbox(Database(sys.argv[1]))
i = 0
while True:
    ob.append("d", "telemetry", "t", lambda seq: json.dumps({"i": i}).encode())
    print(i, flush=True)   # the producer has been told: accepted
    i += 1
"""


def test_kill_9_loses_nothing_the_producer_was_told_was_accepted(tmp_path: Path) -> None:
    db = tmp_path / "o.db"
    proc = subprocess.Popen([sys.executable, "-c", PRODUCER, str(db)], stdout=subprocess.PIPE, text=True)
    accepted = -1
    deadline = time.monotonic() + 20
    while accepted < 300 and time.monotonic() < deadline:
        accepted = int(proc.stdout.readline())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    tail = proc.stdout.read().split()
    accepted = max([accepted, *map(int, tail)])
    assert accepted >= 300, "producer ran"
    stored = [json.loads(r.payload)["i"] for r in Outbox(Database(db)).pending(0, 100_000)]
    assert stored[: accepted + 1] == list(range(accepted + 1))
