"""The gate scene simulator: seeded, labelled, in the replay format, and in each camera's raw encoding."""

import json

import numpy as np
import pytest

from drivers.thermal import codec
from simulators import gate_scene as gs


def test_same_seed_same_scene_other_seed_other_scene():
    spec = gs.SceneSpec(people=3, seed=4)
    a, b = gs.generate(spec), gs.generate(spec)
    assert np.array_equal(a.frames, b.frames)
    assert [lb.core_c for lb in a.labels] == [lb.core_c for lb in b.labels]
    c = gs.generate(gs.SceneSpec(people=3, seed=5))
    assert not np.array_equal(a.frames[:10], c.frames[:10])


def test_replay_format_and_labels():
    scene = gs.generate(gs.SceneSpec(people=4, seed=2, offset_c=0.5, drift_c=0.0, step_every_s=0))
    assert scene.frames.dtype == np.float32 and scene.frames.ndim == 3
    assert scene.frames.shape[1:] == (192, 256)
    assert len(scene.labels) == 4
    for lb in scene.labels:
        assert lb.fever == (lb.core_c >= 37.3)
        assert lb.frames, "everyone is seen at least once"
        widths = [t[3] for t in lb.track]
        assert widths[-1] > widths[0]  # walking toward the camera
    assert max(len(lb.frames) for lb in scene.labels) >= 15
    x, y, w, h = scene.blackbody_roi
    assert np.median(scene.frames[:, y:y + h, x:x + w]) == pytest.approx(35.5, abs=0.05)  # + camera offset


def test_hot_distractors_and_face_temperatures_are_where_they_belong():
    spec = gs.SceneSpec(people=1, seed=3, pair_share=0, offset_c=0.0, drift_c=0.0, step_every_s=0)
    scene = gs.generate(spec)
    assert scene.frames.max() > 50  # cup / heater
    lb = scene.labels[0]
    f, cx, cy, w = lb.track[-1]
    face = scene.frames[f, int(cy - w / 2):int(cy + w / 2), int(cx - w / 2):int(cx + w / 2)]
    canthus = lb.core_c - 0.5
    assert canthus - 1.0 < face.max() < canthus + 0.4  # the canthus, blurred a little


def test_fever_share_and_clustering_near_threshold():
    people = gs.plan(gs.SceneSpec(people=400, seed=9))
    febrile = [p for p in people if p.fever]
    assert 0.1 <= len(febrile) / len(people) <= 0.2
    assert np.median([p.core_c for p in febrile]) < 37.3 + 0.5


def test_raw_encodings_decode_back():
    scene = gs.generate(gs.SceneSpec(people=1, seed=1))
    frames = scene.frames[:3]
    for raw, f in zip(gs.raw_frames(frames, "p2pro"), frames, strict=True):
        assert raw.shape == (384, 256, 2) and raw.dtype == np.uint8
        assert np.abs(codec.decode_p2pro(raw) - f).max() < 0.01
    lepton = gs.generate(gs.SceneSpec(people=1, seed=1, width=160, height=120, hfov_deg=57)).frames[:2]
    for raw, f in zip(gs.raw_frames(lepton, "lepton"), lepton, strict=True):
        assert np.abs(codec.decode_lepton(raw) - f).max() <= 0.006
    mlx = gs.generate(gs.SceneSpec(people=1, seed=1, width=32, height=24, hfov_deg=55)).frames[:2]
    raws = gs.raw_frames(mlx, "mlx90640", dead_share=0.01, seed=3)
    assert len(raws[0]) == 768 and min(raws[0]) == pytest.approx(-273.15)
    assert codec.decode_mlx90640(raws[0]).celsius.min() > 0


def test_cli_writes_a_replay_file_and_labels(tmp_path, capsys):
    out = tmp_path / "scene.npy"
    assert gs.main(["--people", "2", "--seed", "1", "--out", str(out)]) == 0
    arr = np.load(out)
    assert arr.dtype == np.float32 and arr.ndim == 3
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["device"]["driver"] == "replay" and meta["device"]["path"] == str(out)
    assert meta["device"]["blackbody"]["roi"] == meta["blackbody_roi"]
    assert len(meta["people"]) == 2 and {"core_c", "fever", "frames"} <= set(meta["people"][0])
    assert "2 people" in capsys.readouterr().out


def test_new_scene_options_leave_existing_scenes_as_they_were_and_do_what_they_say():
    from dataclasses import replace as _replace

    base = gs.SceneSpec(people=20, seed=9)
    assert gs.plan(_replace(base, fast_share=0.0)) == gs.plan(base)  # same seed, same pupils
    fast = gs.plan(_replace(base, fast_share=1.0))
    assert all(3.0 <= p.speed_mps <= 4.0 for p in fast)
    soft = gs.with_optics(base, "soft_wide")
    assert soft.blur_sigma_px > base.blur_sigma_px and soft.canthus_scale < 1
    assert soft.hfov_deg != base.hfov_deg


def test_a_calibration_walk_is_staff_passing_one_at_a_time_with_their_truth():
    spec = gs.SceneSpec(people=1, seed=9)
    walk = gs.calibration_plan(spec, walkers=3, passes=2)
    assert len(walk) == 6 and [p.core_c for p in walk[:3]] == [p.core_c for p in walk[3:]]
    assert not any(p.fever or p.glasses or p.cup_c for p in walk)
    starts = [p.start_s for p in walk]
    assert all(b - a >= 4.0 for a, b in zip(starts, starts[1:], strict=False))
    labels = gs.labels_for(spec, walk)
    rows = gs.truth_rows(spec, labels)
    assert len(rows) == 6 and all(a < b for a, b, _ in rows)
    assert all(b1 < a2 for (_, b1, _), (a2, _, _) in zip(rows, rows[1:], strict=False))  # one at a time
