"""Hostile and clumsy input against the agent (issue 9), each against a real Mosquitto.

Floods, retained commands, a full disk (a real 8 MB tmpfs), kill -9 between a command's
PUBACK and its reply, damaged database files, an unbounded command log, oversized birth
info, malformed JSON and log injection. Run alone with ``pytest -m adversarial``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from edge.store.db import Database
from tests.conftest import wait_for

pytestmark = pytest.mark.adversarial

R1 = {"id": "r1", "kind": "relay", "driver": "gpio", "pin": 17}
R3 = {"id": "r3", "kind": "relay", "driver": "gpio", "pin": 22}


def pin(factory, n: int) -> int:
    return int(factory.pin(n).state)


def flood(broker, topic: str, lines: list[str], qos: int = 1) -> subprocess.Popen:
    """mosquitto_pub publishing one message per line, as fast as the broker takes them."""
    proc = subprocess.Popen(
        ["mosquitto_pub", "-h", broker.host, "-p", str(broker.port), "-q", str(qos), "-t", topic, "-l"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None
    proc.stdin.write(("\n".join(lines) + "\n").encode())
    proc.stdin.close()
    return proc


# -- 1. floods --------------------------------------------------------------------------------------


def test_pulse_ends_on_time_while_a_command_flood_arrives(run_agent, mqtt_probe, broker, pin_factory):
    ra = run_agent([R1, R3], health_seconds=1)
    probe = mqtt_probe([f"{ra.base}/r3/state", f"{ra.base}/agent/telemetry"])
    probe.publish(f"{ra.base}/r3/set", {"id": "p1", "action": "pulse", "seconds": 1})
    started = probe.wait_json(f"{ra.base}/r3/state", lambda s: s["on"] and s["cause"] == "command")
    toggles = [json.dumps({"id": f"f{i}", "action": "toggle"}) for i in range(6000)]
    pub = flood(broker, f"{ra.base}/r1/set", toggles)
    ended = probe.wait_json(
        f"{ra.base}/r3/state", lambda s: not s["on"] and s["ts"] > started["ts"], timeout=60
    )
    late_ms = ended["ts"] - started["ts"] - 1000
    queued = [q for q in (ra.agent.inbox, getattr(ra.agent, "messages", None)) if q is not None]
    still_flooding = pub.poll() is None or any(not q.empty() for q in queued)
    pub.wait(120)
    # generous for a shared machine; before the fix the pulse waited for the whole flood (seconds)
    assert late_ms < 500, f"pulse ended {late_ms} ms late"
    assert still_flooding, "the flood was over before the pulse ended: the test proved nothing"
    assert pin(pin_factory, 22) == 0
    # the agent got through the flood and its health readings kept coming meanwhile
    wait_for(lambda: ra.agent.switching.counters["commands_ok"] >= 6001, timeout=120, what="flood handled")


def test_qos0_flood_is_held_at_the_broker_not_in_agent_memory(broker, tmp_path: Path, mqtt_probe):
    """An agent process under 40,000 QoS 0 commands: its peak RSS stays near its idle size."""
    db, cmd, env = agent_process(broker, tmp_path, "flood-node", health_seconds=1)
    base = "campus/test-site/flood-node"
    probe = mqtt_probe([f"{base}/status", f"{base}/agent/telemetry"])
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: [m for m in probe.on(f"{base}/status") if m.payload == b"online"], what="online")
        probe.wait_json(f"{base}/agent/telemetry", timeout=15)
        idle_kb = _rss_kb(proc.pid, "VmRSS")
        payload = json.dumps({"id": "x", "action": "on", "seconds": None}) + " " * 200  # refused, ~260 B
        pub = flood(broker, f"{base}/ac/set", [payload] * 40_000, qos=0)
        health_before = len(probe.on(f"{base}/agent/telemetry"))
        pub.wait(120)
        # health readings kept coming during the flood (timers are not starved)
        wait_for(
            lambda: len(probe.on(f"{base}/agent/telemetry")) >= health_before + 2, timeout=30, what="health"
        )
        peak_kb = _rss_kb(proc.pid, "VmHWM")
    finally:
        proc.terminate()
        proc.wait(20)
    # Before the bound the agent read every message into memory (hundreds of MB for 150k messages).
    assert peak_kb - idle_kb < 60_000, f"RSS grew from {idle_kb} kB to a peak of {peak_kb} kB"


def _rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


# -- 3. retained commands ---------------------------------------------------------------------------


def test_retained_commands_do_not_run_at_start_or_reconnect(
    broker, tmp_path: Path, pin_factory, mqtt_probe
):
    from tests.conftest import RunningAgent, agent_config

    cfg = agent_config(broker, tmp_path, [R1, R3])
    base = "campus/test-site/node-1"
    probe = mqtt_probe([f"{base}/+/reply"], client_id="retained-watch", persistent=True)
    probe.publish(f"{base}/r1/set", b"TOGGLE", retain=True)  # Home Assistant's `retain: true`
    probe.publish(f"{base}/r3/set", {"id": "morning-on", "action": "on"}, retain=True)
    for start in range(2):
        ra = RunningAgent(cfg, pin_factory)
        wait_for(lambda n=start: len(probe.on(f"{base}/r3/reply")) > n, what="retained command answered")
        if start == 0:
            broker.restart()  # a forced reconnect: the broker sends its retained copies again
            wait_for(lambda a=ra.agent: a.session.connected, timeout=20, what="reconnected")
            time.sleep(1.0)
        assert pin(pin_factory, 17) == 0 and pin(pin_factory, 22) == 0, "a retained command ran"
        ra.stop()
    replies = probe.json_on(f"{base}/r3/reply")
    assert {r["error"] for r in replies} == {"retained command ignored"}
    assert {r["id"] for r in replies} == {"morning-on"} and not any(r["ok"] for r in replies)
    # once per run: the reconnect did not answer again
    assert len(replies) == 2 and len(probe.on(f"{base}/r1/reply")) == 2
    # a live command on the same topic still runs
    ra = RunningAgent(cfg, pin_factory)
    try:
        probe.publish(f"{base}/r3/set", {"id": "live-1", "action": "on"})
        assert probe.wait_json(f"{base}/r3/reply", lambda r: r["id"] == "live-1")["ok"] is True
        assert pin(pin_factory, 22) == 1
    finally:
        ra.stop()


# -- 2. disk full -----------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real 8 MB filesystem (tmpfs), so writes fail with ENOSPC as on a full SD card (8 MB: room for
    SQLite's WAL to reach its 4 MB checkpoint once space is freed)."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("needs root to mount an 8 MB tmpfs (real full-disk test)")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(mnt: Path) -> Path:
    """Fill the filesystem to its last byte."""
    filler = mnt / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    for chunk in (65536, 4096, 1):
        try:
            while True:
                os.write(fd, b"\0" * chunk)
        except OSError:
            pass
    os.close(fd)
    return filler


def test_disk_full_degrades_loudly_and_safely_and_recovers(
    run_agent, mqtt_probe, broker, pin_factory, small_disk: Path, caplog
):
    water = {"id": "water", "kind": "water_meter", "driver": "pulse", "pin": 5, "litres_per_pulse": 1,
             "poll_seconds": 0.01}
    failsafe = {**R1, "failsafe": {"offline_seconds": 3, "state": "off"}}
    ra = run_agent([failsafe, water], storage={"path": str(small_disk / "agent.db")})
    base = ra.base
    probe = mqtt_probe([f"{base}/#"], client_id="full-watch", persistent=True)
    probe.publish(f"{base}/r1/set", {"id": "c1", "action": "toggle"})
    assert probe.wait_json(f"{base}/r1/reply", lambda r: r["id"] == "c1")["ok"] is True
    assert pin(pin_factory, 17) == 1
    caplog.set_level(logging.WARNING)
    caplog.clear()
    filler = fill(small_disk)
    ra.agent.online.clear()
    broker.restart()  # one reconnect while the disk is full
    assert ra.agent.online.wait(20), "agent did not subscribe again with the disk full"
    state = probe.wait_json(f"{base}/agent/state", lambda s: s["storage"] == "full", timeout=15)
    assert "full" in state["error"]
    probe.wait_json(f"{base}/agent/event", lambda e: e["type"] == "storage_full")
    time.sleep(4)  # longer than the failsafe's 3 s: it must not fire while connected
    assert ra.agent.switching.states["r1"]["cause"] != "failsafe" and pin(pin_factory, 17) == 1
    # a replay of an executed id is a duplicate, not a second toggle; a new command is refused clearly
    probe.publish(f"{base}/r1/set", {"id": "c1", "action": "toggle"})
    probe.publish(f"{base}/r1/set", {"id": "c2", "action": "toggle"})
    dup = probe.wait_json(f"{base}/r1/reply", lambda r: r["id"] == "c1" and r.get("duplicate"))
    refused = probe.wait_json(f"{base}/r1/reply", lambda r: r["id"] == "c2")
    assert dup["ok"] is True and refused["ok"] is False and "not executed" in refused["error"]
    assert pin(pin_factory, 17) == 1
    # the meter reports 100 times a second, and fails each time: the log says so a few times, not 500
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    meter = [r for r in errors if r.name == "edge.agent.app.device.water"]
    assert len(meter) <= 10 and len(errors) < 30, f"{len(meter)} meter and {len(errors)} error lines in 5 s"
    freed = time.monotonic()
    filler.unlink()
    ok = probe.wait_json(f"{base}/agent/event", lambda e: e["type"] == "storage_ok", timeout=20)
    recovery = time.monotonic() - freed
    assert probe.wait_json(f"{base}/agent/state", lambda s: s["storage"] == "ok")
    probe.publish(f"{base}/r1/set", {"id": "c2", "action": "toggle"})  # the refused id, sent again
    again = probe.wait_json(f"{base}/r1/reply", lambda r: r["id"] == "c2" and r["ok"])
    assert not again.get("duplicate") and pin(pin_factory, 17) == 0
    print(f"recovered {recovery:.2f} s after space was freed (full for {ok['full_seconds']} s)")


# -- 5. replies survive kill -9 ---------------------------------------------------------------------


def agent_process(broker, tmp_path: Path, node: str, **extra) -> tuple[Path, list[str], dict[str, str]]:
    from tests.edge.agent.test_outbox_faults import agent_process as make

    return make(broker, tmp_path, node, **extra)


def test_every_command_gets_its_reply_across_kill_9(broker, tmp_path: Path, mqtt_probe):
    db, cmd, env = agent_process(broker, tmp_path, "kill-reply")
    base = "campus/test-site/kill-reply"
    probe = mqtt_probe([f"{base}/ac/reply", f"{base}/status"])
    sender = mqtt_probe()
    n, kills = 1500, 5
    ids = [f"k{i}" for i in range(n)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: [m for m in probe.on(f"{base}/status") if m.payload == b"online"], what="online")
        time.sleep(0.3)
        for cid in ids:
            sender.client.publish(f"{base}/ac/set", json.dumps({"id": cid, "action": "toggle"}), qos=1)
        for _ in range(kills):
            got = len(probe.on(f"{base}/ac/reply"))
            wait_for(lambda g=got: len(probe.on(f"{base}/ac/reply")) > g + 50, timeout=30, what="progress")
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(
            lambda: {r["id"] for r in probe.json_on(f"{base}/ac/reply")} >= set(ids),
            timeout=120,
            what="a reply to every command",
        )
    finally:
        proc.terminate()
        proc.wait(20)
    replies = probe.json_on(f"{base}/ac/reply")
    # ok, or ok and duplicate when the agent died after recording it but before storing its reply
    assert {r["id"] for r in replies if r["ok"]} == set(ids), "every command executed"
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT COUNT(*) FROM commands").fetchone()[0] == n
    conn.close()


# -- 6. damaged database ----------------------------------------------------------------------------


def _database_with_pages(path: Path) -> None:
    d = Database(path)
    d.execute("CREATE TABLE filler (x TEXT)")
    for i in range(400):
        d.execute("INSERT INTO filler VALUES (?)", ("x" * 200 + str(i),))
    d.put("r1", "state", {"on": True, "ts": 1, "cause": "command"})
    d.close()


def _garbage_header(path: Path) -> None:
    with open(path, "r+b") as f:
        f.write(b"this is not sqlite at all" * 4)


def _truncated(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 3)


def _damaged_pages(path: Path) -> None:
    page = 4096
    with open(path, "r+b") as f:
        for n in (2, 5, 9):
            f.seek(n * page + 8)
            f.write(os.urandom(page - 16))


@pytest.mark.parametrize("damage", [_garbage_header, _truncated, _damaged_pages])
def test_damaged_database_is_quarantined_and_a_fresh_one_started(tmp_path: Path, damage):
    path = tmp_path / "agent.db"
    _database_with_pages(path)
    sqlite3.connect(path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    original = path.read_bytes()
    damage(path)
    damaged = path.read_bytes()
    assert damaged != original
    db = Database(path)
    assert db.reset and "damaged" in db.reset
    kept = [p for p in tmp_path.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1 and kept[0].read_bytes() == damaged, "the damaged file is kept as it was"
    db.put("a", "b", 1)
    assert db.get("a", "b") == 1 and db.get("r1", "state") is None
    db.close()
    assert Database(path).reset is None, "the fresh file opens cleanly next time"


def test_agent_with_a_damaged_database_starts_safe_and_says_so(
    broker, tmp_path: Path, pin_factory, mqtt_probe
):
    from tests.conftest import RunningAgent, agent_config

    relay = {**R1, "initial": "restore", "safe_state": "off"}
    cfg = agent_config(broker, tmp_path, [relay], storage={"path": str(tmp_path / "agent.db")})
    ra = RunningAgent(cfg, pin_factory)
    probe = mqtt_probe([f"{ra.base}/#"], client_id="watcher", persistent=True)
    probe.publish(f"{ra.base}/r1/set", {"id": "on-1", "action": "on"})
    probe.wait_json(f"{ra.base}/r1/reply", lambda r: r["id"] == "on-1")
    ra.stop()  # its last state, `on`, is on disk: `restore` would switch it on again
    _garbage_header(tmp_path / "agent.db")
    ra = RunningAgent(cfg, pin_factory)  # before the fix: `database disk image is malformed`, exit 1
    try:
        ev = probe.wait_json(f"{ra.base}/agent/event", lambda e: e["type"] == "storage_reset", timeout=15)
        assert "damaged" in ev["reason"]
        state = probe.wait_json(f"{ra.base}/agent/state", lambda s: s["storage"] == "reset")
        assert state["reason"] == ev["reason"]
        assert pin(pin_factory, 17) == 0, "relay in its safe state"
        probe.publish(f"{ra.base}/r1/set", {"id": "on-2", "action": "on"})
        assert probe.wait_json(f"{ra.base}/r1/reply", lambda r: r["id"] == "on-2")["ok"] is True
    finally:
        ra.stop()
    assert any(".corrupt-" in p.name for p in tmp_path.iterdir())


# -- 10. command log bounded by rows ----------------------------------------------------------------


def test_command_log_is_bounded_by_rows_and_never_forgets_an_unexpired_command(run_agent, mqtt_probe):
    ra = run_agent([R1])
    ra.agent.commands.max_rows = 50
    probe = mqtt_probe([f"{ra.base}/r1/reply"])
    for i in range(120):  # no `expires`: de-duplicated while kept
        probe.client.publish(f"{ra.base}/r1/set", json.dumps({"id": f"plain-{i}", "action": "on"}), qos=1)
    wait_for(lambda: len(probe.on(f"{ra.base}/r1/reply")) >= 120, what="120 replies")
    ra.agent.commands.prune()
    rows = ra.agent.db.query("SELECT COUNT(*) FROM commands")[0][0]
    assert rows <= 50
    # commands whose expiry is ahead fill the log: new ones are refused, none is forgotten
    later = int(time.time() * 1000) + 3_600_000
    for i in range(60):
        probe.client.publish(
            f"{ra.base}/r1/set", json.dumps({"id": f"exp-{i}", "action": "on", "expires": later}), qos=1
        )
    wait_for(lambda: len(probe.on(f"{ra.base}/r1/reply")) >= 180, what="60 more replies")
    replies = {r["id"]: r for r in probe.json_on(f"{ra.base}/r1/reply")}
    refused = [i for i in range(60) if not replies[f"exp-{i}"]["ok"]]
    assert refused and all("command log full" in replies[f"exp-{i}"]["error"] for i in refused)
    executed = [i for i in range(60) if replies[f"exp-{i}"]["ok"]]
    for i in executed:  # every executed command with expiry is still known: a replay is a duplicate
        assert ra.agent.commands.lookup(f"exp-{i}", "r1") is not None
    assert ra.agent.db.query("SELECT COUNT(*) FROM commands")[0][0] <= 50


# -- birth info of a large node ---------------------------------------------------------------------


def test_large_node_info_is_paged_under_the_limit(run_agent, mqtt_probe, monkeypatch):
    from edge.mqtt import payloads

    monkeypatch.setattr(payloads, "INFO_PAGE_BYTES", 400)
    relays = [{"id": f"relay-{i:02d}", "kind": "relay", "driver": "gpio", "pin": 4 + i, "name": "x" * 30}
              for i in range(12)]
    ra = run_agent(relays)
    probe = mqtt_probe([f"{ra.base}/info", f"{ra.base}/info/+"])
    first = probe.wait_json(f"{ra.base}/info")
    assert first["pages"] > 2 and first["device_count"] == 12
    wait_for(lambda: len(probe.on(f"{ra.base}/info")) + len([
        m for m in probe.seen if m.topic.startswith(f"{ra.base}/info/")]) >= first["pages"], what="all pages")
    devices = list(first["devices"])
    for n in range(2, first["pages"] + 1):
        page = probe.wait_json(f"{ra.base}/info/{n}")
        assert page["page"] == n and page["session"] == first["session"]
        devices += page["devices"]
    assert [d["id"] for d in devices] == [r["id"] for r in relays]
    assert all(len(m.payload) <= 600 for m in probe.seen)


# -- malformed JSON, log injection ------------------------------------------------------------------


def test_deep_json_and_lone_surrogates_get_replies_and_short_logs(run_agent, mqtt_probe, caplog):
    ra = run_agent([R1])
    probe = mqtt_probe([f"{ra.base}/r1/reply"])
    caplog.set_level(logging.WARNING)
    probe.publish(f"{ra.base}/r1/set", b"[" * 2000 + b"]" * 2000)
    probe.publish(f"{ra.base}/r1/set", b'{"id":"\\ud800","action":"on"}')
    wait_for(lambda: len(probe.on(f"{ra.base}/r1/reply")) >= 2, what="two error replies")
    deep, surrogate = probe.json_on(f"{ra.base}/r1/reply")
    assert deep["ok"] is False and "nested deeper" in deep["error"]
    assert surrogate["ok"] is False and "surrogate" in surrogate["error"]
    assert ra.agent.counters["errors"] == 0
    assert all(len(r.getMessage()) < 600 and not r.exc_info for r in caplog.records)


def test_untrusted_ids_cannot_forge_log_lines(run_agent, mqtt_probe, caplog):
    ra = run_agent([R1])
    probe = mqtt_probe([f"{ra.base}/r1/reply"])
    caplog.set_level(logging.INFO)
    evil = "x\n2026-11-30 22:00:00 INFO campus-edge.agent connected to evil\x1b[2J\x1b[31m"
    probe.publish(f"{ra.base}/r1/set", {"id": evil, "action": "explode"})
    probe.publish(f"{ra.base}/r1/set", {"id": evil, "action": "on", "expires": 1})
    wait_for(lambda: len(probe.on(f"{ra.base}/r1/reply")) >= 2, what="replies")
    assert all(r["id"] == evil for r in probe.json_on(f"{ra.base}/r1/reply")), "replies keep the id as sent"
    lines = [r.getMessage() for r in caplog.records if r.name.startswith(("campus-edge", "edge"))]
    assert any("connected to evil" in m for m in lines), "the refusals are logged"
    assert not any("\n" in m or "\x1b" in m for m in lines)
