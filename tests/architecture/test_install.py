"""The package as a user gets it: `pip wheel .`, installed into a fresh virtual environment, and
`campus-edge demo` run from outside the checkout (the example configs ship as package data; the demo's
private broker is stopped when it ends).

The fresh environment gets the wheel with --no-deps; its dependencies come from this test environment's
site-packages through a .pth line (no network, no second copy of OpenCV). A path line in a .pth does not
run the .pth files it points at, so the editable install of this checkout stays out of it."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in cmd:
                found.append(f"{proc.name}: {cmd}")
    return found


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("install")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                            "-w", str(tmp / "dist"), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp / "dist").glob("campus_edge-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    site = subprocess.run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "test-env.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([py, "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return venv


def test_the_wheel_ships_the_example_configs_and_not_the_test_helpers(installed):
    py = installed / "bin" / "python"
    out = subprocess.run([py, "-c", "import edge, pathlib; p = pathlib.Path(edge.__file__).parent; "
                          "print(sorted(f.name for f in (p / 'examples').glob('*.yaml'))); "
                          "print((p / 'victoria.py').exists())"],
                         capture_output=True, text=True, cwd="/", timeout=60)
    assert out.returncode == 0, out.stderr
    assert str(ROOT) not in out.stdout
    names, victoria = out.stdout.splitlines()
    for name in ("bridge.yaml", "gate.yaml", "meter-room.yaml", "classroom-301.yaml"):
        assert f"'{name}'" in names
    assert victoria == "False"


def test_the_installed_demo_runs_from_anywhere_and_stops_its_broker(installed, tmp_path):
    workdir = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    out = subprocess.run([installed / "bin" / "campus-edge", "demo", "--seconds", "15", "--people", "8",
                          "--workdir", str(workdir)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=240)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "what the bridge stored" in out.stdout and "is online" in out.stdout
    assert _processes_mentioning(str(workdir)) == []  # broker, agents and bridge all gone
