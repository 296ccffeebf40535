"""Lighter installs: what runs without an extra, and a config that needs a missing extra fails when it loads
with the pip command that fixes it (exit 2). A missing package is simulated in a real `campus-edge` process:
its module is set to None in sys.modules before anything is imported, which makes every import of it fail
exactly as on a Pi where it was never installed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
THERMAL = "numpy,cv2"
EVERY_EXTRA = "numpy,cv2,influxdb_client,httpx,starlette,jinja2,uvicorn,argon2,openpyxl"

BLOCKED_CLI = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None
sys.argv = ["campus-edge", *sys.argv[2:]]
from edge.cli import main
sys.exit(main())
"""


def campus_edge(blocked: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKED_CLI, blocked, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_relays_and_meters_need_no_extra(tmp_path):
    """The classroom and meter-room examples build all their devices with no extra installed at all."""
    script = textwrap.dedent(f"""
        import sys
        for name in {EVERY_EXTRA!r}.split(","):
            sys.modules[name] = None
        from drivers.base import Resources
        from edge.agent.app import Agent
        from edge.loaders.agent import load_agent_config
        from gpiozero.pins.mock import MockFactory, MockPWMPin
        for i, name in enumerate(("classroom-301", "meter-room")):
            cfg = load_agent_config({str(ROOT / "config")!r} + f"/{{name}}.yaml")
            cfg["storage"]["path"] = {str(tmp_path)!r} + f"/{{name}}.db"
            agent = Agent(cfg, Resources(pin_factory=MockFactory(pin_class=MockPWMPin)))
            print(name, sorted(agent.devices))
            agent.db.close() if hasattr(agent.db, "close") else None
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "classroom-301 [" in out.stdout and "meter-room [" in out.stdout


def test_a_camera_without_the_thermal_extra_is_a_config_error_with_the_fix(tmp_path):
    out = campus_edge(THERMAL, "check-config", str(ROOT / "config" / "gate.yaml"), cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "devices[0].kind: thermal_camera needs the `thermal` extra" in out.stderr
    assert "pip install 'campus-edge[thermal]'" in out.stderr and "Traceback" not in out.stderr
    ok = campus_edge("influxdb_client,httpx,starlette", "check-config", str(ROOT / "config" / "gate.yaml"),
                     cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr  # with the thermal extra the same file is fine


def test_an_influxdb_sink_without_the_bridge_extra_is_a_config_error_with_the_fix(tmp_path):
    cfg = yaml.safe_load((ROOT / "config" / "bridge.yaml").read_text())
    cfg["sink"] = {"type": "influxdb", "url": "http://127.0.0.1:9", "token": "t", "org": "o", "bucket": "b"}
    path = tmp_path / "bridge.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = campus_edge("influxdb_client", "bridge", "-c", str(path), cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    assert "sink.type: influxdb needs the `bridge` extra" in out.stderr
    assert "pip install 'campus-edge[bridge]'" in out.stderr and "Traceback" not in out.stderr


def test_the_hub_without_its_extra_says_how_to_install_it(tmp_path):
    out = campus_edge("starlette", "hub", "-c", str(ROOT / "config" / "hub.yaml"), cwd=tmp_path)
    assert out.returncode == 2 and "pip install 'campus-edge[hub]'" in out.stderr, out.stderr
    helped = campus_edge("starlette", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "agent" in helped.stdout  # the rest of the CLI is unaffected


def test_the_command_line_loads_no_optional_package_it_does_not_use(tmp_path):
    """Checking whether an extra is installed finds it without importing it (an agent's memory)."""
    script = ("import sys; from edge.cli import build_parser; build_parser(); "
              "print(sorted(m for m in ('numpy', 'cv2', 'influxdb_client', 'httpx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         timeout=60, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
