"""`campus-edge history` in local time: printed times and --since/--until dates (bridge zone or machine's)."""

from __future__ import annotations

import csv
import io
import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from edge.bridge import history
from edge.cli import main

SH = ZoneInfo("Asia/Shanghai")
DAY = int(datetime(2026, 11, 25, tzinfo=SH).timestamp() * 1000)  # 00:00 Beijing = 16:00Z the day before


def make_db(path) -> None:
    """A history file with the sink's table shape: readings at 07:00 and 09:00 Beijing on 25 November."""
    from edge.bridge.sinks import make_sink

    make_sink({"type": "sqlite", "path": str(path)}).close()  # the sink creates its own schema
    conn = sqlite3.connect(path)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(points)")]
    for hour in (-1, 7, 9):
        row = {"ts": DAY + hour * 3_600_000, "site": "s", "node": "n", "device": "m",
               "measurement": "water_meter", "tags": "{}", "field": "volume_m3", "value": 10.0 + hour}
        conn.execute(f"INSERT INTO points({','.join(cols)}) VALUES({','.join('?' * len(cols))})",
                     [row.get(c) for c in cols])
    conn.commit()
    conn.close()


def test_parse_time_reads_dates_at_local_midnight():
    assert history.parse_time("2026-11-25", tz=SH) == DAY
    assert history.parse_time("2026-11-25T08:00", tz=SH) == DAY + 8 * 3_600_000
    assert history.parse_time("2026-11-25T00:00+00:00", tz=SH) == DAY + 8 * 3_600_000  # an offset wins
    assert history.iso(DAY, SH) == "2026-11-25T00:00:00.000+08:00"
    assert history.iso(DAY) == "2026-11-24T16:00:00.000Z"


def test_history_prints_and_filters_in_the_bridge_timezone(tmp_path, capsys):
    db = tmp_path / "h.db"
    make_db(db)
    config = tmp_path / "bridge.yaml"
    config.write_text(f"sink: {{type: sqlite, path: {db}}}\nstorage: {{path: {tmp_path / 'b.db'}}}\n"
                      "timezone: Asia/Shanghai\n")
    day = ["--since", "2026-11-25", "--until", "2026-11-26"]
    assert main(["history", "s/n/m", "-c", str(config), *day]) == 0
    out = capsys.readouterr().out.splitlines()
    # the day is the school's day: 23:00 the evening before is not in it, 07:00 and 09:00 are
    assert [line.split()[0] for line in out] == ["2026-11-25T07:00:00.000+08:00",
                                                 "2026-11-25T09:00:00.000+08:00"]
    assert main(["history", "s/n/m", "--db", str(db), "--timezone", "UTC", "--since", "2026-11-25",
                 "--until", "2026-11-26", "--format", "csv"]) == 0
    table = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert [r[0] for r in table[1:]] == ["2026-11-25T01:00:00.000Z"]


def test_history_without_a_zone_uses_the_machines(tmp_path, capsys, monkeypatch):
    db = tmp_path / "h.db"
    make_db(db)
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    assert main(["history", "s/n/m", "--db", str(db), "--since", "2026-11-25", "--until", "2026-11-26"]) == 0
    assert capsys.readouterr().out.startswith("2026-11-25T07:00:00.000+08:00")


def test_bridge_refuses_an_unknown_zone(tmp_path):
    from edge.bridge.config import BRIDGE
    from edge.config.schema import ConfigError, validate

    with pytest.raises(ConfigError, match="timezone: unknown time zone 'Mars/Olympus'"):
        validate(BRIDGE, {"sink": {"type": "sqlite", "path": str(tmp_path / "x.db")},
                          "timezone": "Mars/Olympus"})
