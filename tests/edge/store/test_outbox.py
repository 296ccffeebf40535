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


# -- staged telemetry (storage.flush_ms) -------------------------------------------------------------


def _on_disk(path: Path) -> int:
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    finally:
        conn.close()


def test_readings_acked_within_flush_ms_never_touch_the_disk(tmp_path: Path) -> None:
    ob = Outbox(Database(tmp_path / "o.db"), flush_ms=60_000)
    for i in range(50):
        ob.append("m", "telemetry", "t/m", make(i))
    assert len(ob) == 50 and ob.staged == 50 and _on_disk(tmp_path / "o.db") == 0
    rows = ob.pending(0, 100)
    assert [json.loads(r.payload)["i"] for r in rows] == list(range(50))
    ob.ack([r.id for r in rows])
    assert len(ob) == 0 and ob.flush() == 0 and _on_disk(tmp_path / "o.db") == 0 and ob.written == 0


def test_staged_and_durable_rows_go_out_as_one_stream_in_order(tmp_path: Path) -> None:
    ob = Outbox(Database(tmp_path / "o.db"), flush_ms=60_000)
    ob.append("m", "telemetry", "t/m", make(0))
    ob.append("m", "event", "t/e", make(1))  # events are written at once
    ob.append("m", "telemetry", "t/m", make(2))
    assert ob.staged == 2 and _on_disk(tmp_path / "o.db") == 1
    rows = ob.pending(0, 10)
    assert [json.loads(r.payload)["i"] for r in rows] == [0, 1, 2]
    assert [json.loads(r.payload)["seq"] for r in rows] == [1, 2, 3]  # one seq per device, both ways
    assert [r.id for r in ob.pending(rows[0].id, 10)] == [rows[1].id, rows[2].id]
    assert [r.id for r in ob.pending(0, 10, replies=False)] == [r.id for r in rows]
    assert ob.pending(0, 10, replies=True) == []
    assert [r.id for r in ob.rows([rows[2].id, rows[1].id])] == [rows[1].id, rows[2].id]


def test_unacknowledged_readings_are_written_after_flush_ms_in_one_go(tmp_path: Path) -> None:
    ob = Outbox(Database(tmp_path / "o.db"), flush_ms=200)
    for i in range(20):
        ob.append("m", "telemetry", "t/m", make(i))
    assert ob.flush() == 0, "nothing is due yet"
    wait = ob.next_flush_in()
    assert wait is not None and 0 < wait <= 0.2
    time.sleep(0.25)
    assert ob.next_flush_in() == 0
    assert ob.flush() == 20 and ob.staged == 0 and _on_disk(tmp_path / "o.db") == 20
    rows = ob.pending(0, 100)
    assert [json.loads(r.payload)["i"] for r in rows] == list(range(20))
    ob.ack([r.id for r in rows[:5]])  # acknowledged after they were written: deleted from disk
    assert len(ob) == 15 and _on_disk(tmp_path / "o.db") == 15
    # what was written survives a crash (no close) and comes back in order
    again = Outbox(Database(tmp_path / "o.db"), flush_ms=200)
    assert [json.loads(r.payload)["i"] for r in again.pending(0, 100)] == list(range(5, 20))


def test_seq_survives_a_clean_stop_exactly_and_jumps_after_a_crash(tmp_path: Path) -> None:
    ob = Outbox(Database(tmp_path / "o.db"), flush_ms=60_000)
    for i in range(3):
        ob.append("m", "telemetry", "t/m", make(i))
    ob.close()  # a clean stop writes what is staged and the exact seq
    ob = Outbox(Database(tmp_path / "o.db"), flush_ms=60_000)
    assert [json.loads(r.payload)["seq"] for r in ob.pending(0, 10)] == [1, 2, 3]
    assert ob.append("m", "telemetry", "t/m", make(3)) == 4  # no gap
    # a crash: the staged reading 4 is lost; the next seq is past everything that may have been sent
    crashed = Outbox(Database(tmp_path / "o.db"), flush_ms=60_000)
    seq = crashed.append("m", "telemetry", "t/m", make(4))
    assert seq > 4, "a seq handed out before the crash is never reused"
    assert [json.loads(r.payload)["seq"] for r in crashed.pending(0, 10)] == [1, 2, 3, seq]


def test_full_outbox_drops_oldest_telemetry_staged_or_written(tmp_path: Path) -> None:
    ob = Outbox(Database(tmp_path / "o.db"), max_messages=100, flush_ms=60_000)
    ob.append("d", "event", "t/e", make(-1))
    for i in range(150):
        ob.append("m", "telemetry", "t/m", make(i))
    assert len(ob) == 100 and ob.dropped == 51
    rows = ob.pending(0, 200)
    assert json.loads(rows[0].payload)["i"] == -1, "the event is kept"
    assert [json.loads(r.payload)["i"] for r in rows[1:]] == list(range(51, 150))
    ob.close()
    assert Outbox(Database(tmp_path / "o.db")).dropped == 51, "the drop count is stored"
