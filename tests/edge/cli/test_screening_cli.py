"""`campus-edge screening calibrate` and `check-config --probe`, run as the installer runs them."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.cli import main
from edge.loaders.agent import load_agent_config
from simulators import gate_scene as gs

ROOT = Path(__file__).resolve().parents[3]


def gate_config(tmp_path: Path, npy: Path, roi: list[int] | None = None) -> Path:
    text = (ROOT / "config" / "gate.yaml").read_text(encoding="utf-8")
    text = text.replace("/tmp/gate-scene.npy", str(npy)).replace("/tmp/campus-edge-gate.db",
                                                                   str(tmp_path / "gate.db"))
    if roi is not None:
        text = text.replace("roi: [242, 6, 8, 8]", f"roi: {roi}")
    path = tmp_path / "gate.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def walk(tmp_path_factory) -> tuple[Path, Path]:
    """Five staff x four passes through a lens unlike the simulator's default, with their truth."""
    tmp = tmp_path_factory.mktemp("walk")
    spec = gs.with_optics(gs.SceneSpec(people=1, seed=41), "soft_wide")
    scene = gs.generate(spec, gs.calibration_plan(spec, 5, 4))
    npy, _ = scene.save(tmp / "walk.npy")
    truth = tmp / "walk.csv"
    truth.write_text("start_s,end_s,core_c\n" + "".join(f"{a},{b},{c}\n" for a, b, c in
                                                         gs.truth_rows(spec, scene.labels)))
    return npy, truth


def test_calibrate_prints_the_fit_and_writes_it_into_the_device_keeping_comments(tmp_path, walk, capsys):
    npy, truth = walk
    config = gate_config(tmp_path, npy)
    rc = main(["screening", "calibrate", "--recording", str(npy), "--fps", "9", "--truth", str(truth),
               "--device", "gate-cam", "-c", str(config), "--write"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert out.startswith("canthus_offset_c: ") and out.count("residual_c: ") == 20 and "warnings: []" in out
    offset = float(out.splitlines()[0].split(": ")[1])
    written = config.read_text(encoding="utf-8")
    assert "# China's school threshold" in written and "# The school gate node" in written  # comments kept
    assert "comments kept" in err and (tmp_path / "gate.yaml.bak").exists()
    cam = next(d for d in load_agent_config(config)["devices"] if d["id"] == "gate-cam")
    assert cam["canthus_offset_c"] == pytest.approx(offset, abs=1e-3) and cam["canthus_offset_c"] != 0.5
    assert [w for w, _ in cam["blur_table_c"]][:3] == [8, 10, 12] and cam["blur_table_c"][0][1] > 0.3
    line = next(ln for ln in out.splitlines() if ln.startswith("fallback_offset_c: "))
    fallback = float(line.split(": ")[1])
    assert cam["fallback_offset_c"] == pytest.approx(fallback, abs=1e-3) and 1.0 < fallback < 3.0


def test_calibrate_refuses_a_bad_truth_file_with_its_line(tmp_path, walk, capsys):
    npy, _ = walk
    bad = tmp_path / "truth.csv"
    bad.write_text("start_s,end_s,core_c\n1,4,36.8\n5,4,36.9\n")
    rc = main(["screening", "calibrate", "--recording", str(npy), "--fps", "9", "--truth", str(bad),
               "--blackbody", "242,6,8,8,35"])
    assert rc == 2 and "line 3: end_s 4 must be after start_s 5" in capsys.readouterr().err


def test_calibrate_will_not_write_a_fit_with_warnings(tmp_path, walk, capsys):
    npy, truth = walk
    config = gate_config(tmp_path, npy)
    few = tmp_path / "few.csv"
    few.write_text("\n".join(truth.read_text().splitlines()[:4]) + "\n")  # three passes
    before = config.read_text(encoding="utf-8")
    rc = main(["screening", "calibrate", "--recording", str(npy), "--fps", "9", "--truth", str(few),
               "--device", "gate-cam", "-c", str(config), "--write"])
    out, err = capsys.readouterr()
    assert rc == 2 and "too few for a calibration" in out and "not written" in err
    assert config.read_text(encoding="utf-8") == before


def test_check_config_probe_names_an_roi_across_the_blackbody_edge_and_a_fix(tmp_path, capsys):
    spec = gs.SceneSpec(people=1, seed=42)
    npy, _ = gs.generate(spec).save(tmp_path / "scene.npy")
    bad = gate_config(tmp_path, npy, roi=[228, 8, 16, 16])
    assert main(["check-config", str(bad)]) == 0  # without --probe only the file is checked
    capsys.readouterr()
    assert main(["check-config", str(bad), "--probe"]) == 2
    err = capsys.readouterr().err
    assert "devices[gate-cam].blackbody.roi: ROI [228, 8, 16, 16] spans the blackbody's edge: " in err
    assert "use an ROI inside it, e.g. [" in err
    good = gate_config(tmp_path, npy)
    assert main(["check-config", str(good), "--probe"]) == 0
    assert "OK" in capsys.readouterr().out


def test_write_without_ruamel_yaml_updates_the_entry_and_says_comments_were_lost(tmp_path, monkeypatch):
    import sys

    from edge.screening_cli import write_device

    config = gate_config(tmp_path, tmp_path / "scene.npy")
    before = config.read_text(encoding="utf-8")
    monkeypatch.setitem(sys.modules, "ruamel", None)  # the optional library is not installed
    monkeypatch.setitem(sys.modules, "ruamel.yaml", None)
    note = write_device(config, "gate-cam", 0.612, ((8, 0.91), (16, 0.4), (32, 0.05)))
    assert note.startswith("comments were lost (install ruamel.yaml")
    assert (tmp_path / "gate.yaml.bak").read_text(encoding="utf-8") == before
    cam = next(d for d in load_agent_config(config)["devices"] if d["id"] == "gate-cam")
    assert cam["canthus_offset_c"] == 0.612
    assert [list(r) for r in cam["blur_table_c"]] == [[8, 0.91], [16, 0.4], [32, 0.05]]
    assert cam["blackbody"]["temp_c"] == 35.0 and "# China's school threshold" not in config.read_text()
