"""`campus-edge hub ...` as a person types it: config mistakes, alerts, ack, close, report; exit codes."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from openpyxl import load_workbook

from edge.hub.ingest import EventIn
from edge.hub.journal import Journal
from tests.edge.hub.support import T0, run_cli

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    db = tmp_path / "hub.db"
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(yaml.safe_dump({"site": "s1", "storage": {"path": str(db)}, "timezone": "Asia/Shanghai",
                                   "language": "en"}))
    j = Journal(db, SH)
    j.record_event(EventIn("s1", "gate", "cam-e", 1, T0 + 42 * 60_000, "fever", {"temp_c": 38.1}), "东门", T0)
    j.record_event(EventIn("s1", "meters", "water", 1, T0, "leak", {"reason": "burst"}), "水表", T0)
    j.shutdown()
    return cfg, db


def test_alerts_ack_close_and_report(setup: tuple[Path, Path], tmp_path: Path) -> None:
    cfg, db = setup
    r = run_cli("hub", "alerts", "-c", str(cfg))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "TIME", "TYPE"]
    assert "2025-12-01 08:42:00" in lines[1] and "Fever" in lines[1] and "38.1" in lines[1]  # local time
    assert "Water leak" in lines[2] and "burst" in lines[2]
    r = run_cli("hub", "alerts", "-c", str(cfg), "--type", "leak")
    assert len(r.stdout.splitlines()) == 2
    r = run_cli("hub", "alerts", "-c", str(cfg), "--date", "2025-12-01", "--state", "new", "--limit", "1")
    assert len(r.stdout.splitlines()) == 2 and "Fever" in r.stdout
    assert run_cli("hub", "ack", "1", "--by", "王老师", "-c", str(cfg)).returncode == 0
    r = run_cli("hub", "ack", "1", "--by", "王老师", "-c", str(cfg))
    assert r.returncode == 2 and "only a new alert" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("hub", "close", "1", "--outcome", "sent_home", "--reading", "37.9", "--note", "ok", "--by",
                "校医", "-c", str(cfg))
    assert r.returncode == 0 and "37.9" in r.stdout
    j = Journal(db, SH)
    assert j.get(1).state == "closed" and j.actions(1)[-1].reading_c == 37.9
    j.shutdown()
    r = run_cli("hub", "close", "2", "--outcome", "sent_home", "--by", "x", "-c", str(cfg))
    assert r.returncode == 2 and "valve_closed" in r.stderr
    r = run_cli("hub", "report", "-c", str(cfg), "--date", "2025-12-01")
    assert r.returncode == 0 and "| 08:42:00 | Fever | 东门 | 38.1 | Closed | Sent home | 37.9 |" in r.stdout
    out = tmp_path / "day.xlsx"
    r = run_cli("hub", "report", "-c", str(cfg), "--date", "2025-12-01", "--format", "xlsx", "-o", str(out))
    assert r.returncode == 0 and load_workbook(out).worksheets[1]["C2"].value == "Fever"
    r = run_cli("hub", "report", "-c", str(cfg), "--date", "2025-12-01", "--format", "csv", "-o",
                str(tmp_path / "d.csv"))
    assert r.returncode == 0 and "Fever" in (tmp_path / "d.csv").read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("args, words", [
    (["report", "--date", "12/01/2026"], "not a date"),
    (["report", "--format", "xlsx"], "xlsx needs -o"),
    (["alerts", "--since", "yesterday"], "not a time"),
    (["alerts", "--state", "open"], "--state"),
    (["alerts", "--limit", "0"], "--limit"),
    (["close", "1", "--outcome", "cleared", "--reading", "3.79", "--by", "x"], "body temperature"),
])
def test_bad_arguments_exit_2_with_a_message(setup: tuple[Path, Path], args: list[str], words: str) -> None:
    cfg, _ = setup
    r = run_cli("hub", *args, "-c", str(cfg))
    assert r.returncode == 2 and words in r.stderr and "Traceback" not in r.stderr


def test_missing_journal_and_missing_config(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(yaml.safe_dump({"site": "s1", "storage": {"path": str(tmp_path / "none.db")}}))
    r = run_cli("hub", "alerts", "-c", str(cfg))
    assert r.returncode == 1 and "no journal" in r.stderr
    r = run_cli("hub", "alerts")
    assert r.returncode == 2 and "-c FILE" in r.stderr


def test_config_mistakes_each_with_its_place_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(yaml.safe_dump({
        "site": "S 1", "language": "fr", "timezone": "Mars/Olympus", "colour": 1,
        "mqtt": {"password": "p", "password_file": "/nonexistent"},
        "channels": [{"id": "gate", "type": "webhook", "url": "http://127.0.0.1:9/x"}],
        "rules": [{"events": ["fever"], "channels": ["gate", "nobody"], "quiet_hours": "9pm-7am",
                   "escalate": {"after_minutes": 0, "channels": ["ghost"]}}],
    }))
    r = run_cli("hub", "-c", str(cfg), "--check")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    for place in ("site[0]", "language", "timezone", "colour", "mqtt.password_file", "rules[0].channels[1]",
                  "rules[0].quiet_hours", "rules[0].escalate.after_minutes"):
        assert place in r.stderr, place


def test_secrets_from_files_and_environment_are_not_printed(tmp_path: Path, monkeypatch) -> None:
    pw = tmp_path / "mqtt.pw"
    pw.write_text("s3cret-pw\n")
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(yaml.safe_dump({"site": ["s1", "s2"], "mqtt": {"password_file": str(pw),
                                                                  "username": "${HUB_USER}"},
                                   "storage": {"path": str(tmp_path / "h.db")}}))
    import os

    from edge.hub.config import load_hub_config
    os.environ["HUB_USER"] = "hub-user"
    try:
        c = load_hub_config(cfg)
    finally:
        del os.environ["HUB_USER"]
    assert c["mqtt"]["password"] == "s3cret-pw" and c["mqtt"]["username"] == "hub-user"
    assert c["site"] == ["s1", "s2"] and c["language"] == "zh-CN"
    assert (c["web"]["host"], c["web"]["port"]) == ("127.0.0.1", 8080)  # the console adds more web keys
    r = run_cli("hub", "-c", str(cfg), "--check", env={"HUB_USER": "u"})
    assert r.returncode == 0 and "s3cret" not in r.stdout + r.stderr
    r = run_cli("hub", "-c", str(cfg), "--check")
    assert r.returncode == 2 and "HUB_USER is not set" in r.stderr


def test_example_config_is_valid(monkeypatch, tmp_path: Path) -> None:
    from edge.config.common import load_yaml
    from edge.hub.config import parse_hub_config

    root = Path(__file__).resolve().parents[3]
    raw = load_yaml(root / "config" / "hub.yaml")
    for ch in raw["channels"]:  # the secrets live in /etc on the school's server
        for key in ("secret_file", "password_file"):
            if key in ch:
                (tmp_path / key).write_text("SECxyz\n")
                ch[key] = str(tmp_path / key)
    monkeypatch.setenv("WECOM_GATE_KEY", "k")
    monkeypatch.setenv("DINGTALK_TOKEN", "t")
    cfg = parse_hub_config(raw)
    assert [r["events"] for r in cfg["rules"]][0] == ["fever", "recheck", "unscreened"]
