"""deploy/: systemd units (notify, watchdog, hardening score), Grafana, the compose procedure and context."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
UNITS = {"agent": DEPLOY / "systemd/campus-edge-agent@.service",
         "bridge": DEPLOY / "systemd/campus-edge-bridge@.service"}
MAX_EXPOSURE = 2.0  # both were 8.5 EXPOSED before (docs/operations.md)


def directives(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


@pytest.mark.parametrize("name", sorted(UNITS))
def test_units_are_notify_with_a_watchdog_and_wait_for_the_clock(name):
    d = directives(UNITS[name])
    assert d["Type"] == ["notify"] and d["NotifyAccess"] == ["main"]
    assert int(d["WatchdogSec"][0]) >= 30
    assert "time-sync.target" in d["Wants"][0] and "time-sync.target" in d["After"][0]
    assert d["CapabilityBoundingSet"] == [""] and d["NoNewPrivileges"] == ["yes"]
    assert d["ProtectSystem"] == ["strict"] and d["ReadWritePaths"] == ["/var/lib/campus-edge"]
    assert d["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]


def test_agent_reaches_only_the_devices_of_its_groups():
    d = directives(UNITS["agent"])
    assert d["DevicePolicy"] == ["closed"]
    allowed = {v.split()[0] for v in d["DeviceAllow"]}
    assert allowed == {"char-gpiochip", "/dev/gpiomem", "char-ttyUSB", "char-ttyACM", "char-ttyAMA",
                       "char-ttyS", "char-video4linux", "char-i2c", "/dev/ptmx", "char-pts"}
    assert d["SupplementaryGroups"] == ["gpio dialout video i2c"]


def _installable(tmp_path: Path, name: str) -> Path:
    """The unit as an instance, its commands pointing at this checkout's entry point (for verify)."""
    exe = shutil.which("campus-edge", path=str(Path(sys.executable).parent)) or sys.executable
    text = UNITS[name].read_text().replace("/opt/campus-edge/.venv/bin/campus-edge", exe)
    unit = tmp_path / UNITS[name].name.replace("@.", "@test.")
    unit.write_text(text)
    return unit


@pytest.mark.parametrize("name", sorted(UNITS))
def test_systemd_accepts_the_units_and_rates_them_ok(tmp_path, name):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed here: the units' score is not measured")
    unit = _installable(tmp_path, name)
    verify = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (verify.stdout + verify.stderr).splitlines()
                if any(w in line for w in ("Unknown", "Invalid", "Failed to parse", "not executable"))]
    assert not problems, verify.stderr
    r = subprocess.run([analyze, "security", "--offline=yes", str(unit)], capture_output=True, text=True,
                       timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    score = float(m.group(1))
    print(f"{UNITS[name].name}: systemd-analyze security {score}")
    assert score <= MAX_EXPOSURE


def test_grafana_uses_unit_ids_local_days_and_ignores_meter_resets():
    dashboards = {p.name: json.loads(p.read_text()) for p in (DEPLOY / "grafana/dashboards").glob("*.json")}
    text = json.dumps(dashboards)
    assert "litre/min" not in text and '"flowlpm"' in text
    for d in dashboards.values():
        tz = next(v for v in d["templating"]["list"] if v["name"] == "tz")
        assert tz["current"]["value"] == "Asia/Shanghai"
    per_day = dashboards["energy.json"]["panels"][0]["targets"][0]["query"]
    assert "spread" not in per_day
    assert "difference(nonNegative: false)" in per_day and "r._value >= 0.0" in per_day
    assert per_day.index("difference") < per_day.index("aggregateWindow(every: 1d, fn: sum")
    provider = yaml.safe_load((DEPLOY / "grafana/provisioning/dashboards/campus.yaml").read_text())
    assert provider["providers"][0]["allowUiUpdates"] is True  # a chosen zone can be saved


def test_compose_password_file_grafana_token_and_build_context():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    mosq = compose["services"]["mosquitto"]["volumes"]
    auth = next(v for v in mosq if "/mosquitto/auth" in v)
    assert auth.split(":")[0] == "./mosquitto/auth" and not auth.split("#")[0].strip().endswith(":ro")
    assert (DEPLOY / "mosquitto/auth").is_dir()  # exists: Docker never makes a directory in its place
    conf = (DEPLOY / "mosquitto/mosquitto.conf").read_text()
    assert "password_file /mosquitto/auth/passwd" in conf
    assert "mosquitto_passwd -c /mosquitto/auth/passwd" in conf and "chown mosquitto" in conf
    grafana = compose["services"]["grafana"]["environment"]
    assert grafana["INFLUXDB_TOKEN"] == "${INFLUXDB_READ_TOKEN:-}"  # never the admin token
    assert any("/campus-edge/influxdb" in v for v in compose["services"]["influxdb"]["volumes"])
    assert "--read-bucket" in (DEPLOY / "influxdb/tokens.sh").read_text()
    for script in ("tokens.sh", "setup.sh"):
        subprocess.run(["sh", "-n", str(DEPLOY / "influxdb" / script)], check=True, timeout=30)
    ignore = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "**/.env", "var"} <= set(ignore)
    dockerfile = (DEPLOY / "bridge/Dockerfile").read_text()
    for src in re.findall(r"^COPY (.+) \./", dockerfile, re.M):
        for item in src.split():
            assert item not in ignore, f"{item} is copied by the Dockerfile but ignored"
