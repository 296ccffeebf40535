"""The disk buffer: order, bound with its drop-oldest policy, survives reopening."""

from edge.bridge.buffer import DiskBuffer
from edge.bridge.lineproto import Point
from edge.store.db import Database


def batch(start: int, n: int) -> list[Point]:
    return [Point("m", (("site", "s"),), (("v", float(i)),), 1_764_000_000_000 + i)
            for i in range(start, start + n)]


def test_batches_come_back_in_order_and_leave_when_removed(tmp_path):
    buf = DiskBuffer(Database(tmp_path / "b.db"), max_points=10_000)
    for k in range(5):
        buf.append(batch(k * 100, 100))
    assert len(buf) == 500
    first = buf.oldest(250)
    assert [len(b.points) for b in first] == [100, 100]
    assert first[0].points == batch(0, 100)
    buf.remove(first)
    rest = buf.oldest(10_000)
    assert [b.points[0].ts_ms % 1000 for b in rest] == [200, 300, 400]
    assert len(buf) == 300


def test_full_buffer_drops_oldest_batches_and_counts_them(tmp_path):
    path = tmp_path / "b.db"
    buf = DiskBuffer(Database(path), max_points=1000)
    for k in range(12):
        buf.append(batch(k * 100, 100))
    assert len(buf) == 1000 and buf.dropped == 200
    assert buf.oldest(100)[0].points[0].ts_ms % 10_000 == 200
    buf.db.close()
    again = DiskBuffer(Database(path), max_points=1000)  # what was committed is there after a restart
    assert len(again) == 1000 and again.dropped == 200


def test_oversized_request_still_returns_one_batch(tmp_path):
    buf = DiskBuffer(Database(tmp_path / "b.db"), max_points=10_000)
    buf.append(batch(0, 500))
    assert len(buf.oldest(10)[0].points) == 500
    assert buf.oldest(10)[0].points == batch(0, 500)


def test_rejected_points_are_kept_for_inspection(tmp_path):
    buf = DiskBuffer(Database(tmp_path / "b.db"), max_points=1000)
    buf.reject(batch(0, 1), "HTTP 400: field type conflict")
    assert buf.rejected() == [("HTTP 400: field type conflict", batch(0, 1))]
