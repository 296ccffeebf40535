"""On-site calibration and the crowd reference (edge/screening/calibrate.py, crowd.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from edge.screening import CalibrationDrift, Pipeline, ScreeningConfig, TrackEnded
from edge.screening.calibrate import Pass, TruthError, calibrate, read_truth, to_yaml
from edge.screening.config import Blackbody
from edge.screening.crowd import CrowdReference
from simulators import gate_scene as gs
from tests.edge.screening.scenes import people_with, run, scene_spec


def core_errors(spec: gs.SceneSpec, cfg: ScreeningConfig) -> np.ndarray:
    """Final core estimate minus the truth, per screened person (the track's faces matched to the labels)."""
    people = gs.plan(spec)
    labels = gs.labels_for(spec, people)
    at_frame: dict[int, list] = {}
    for lb in labels:
        for i, cx, cy, w in lb.track:
            at_frame.setdefault(i, []).append((lb, cx, cy, w))
    cfg = replace(cfg, blackbody=Blackbody(tuple(gs.blackbody_roi(spec)), spec.blackbody_c))
    pipe = Pipeline(cfg)
    owner: dict[int, Counter] = {}
    events = []
    for i, f in enumerate(gs.iter_frames(spec, people)):
        res = pipe.process(f, i / spec.fps)
        events += res.events
        for ob in res.observations:
            near = [lb for lb, cx, cy, w in at_frame.get(i, [])
                    if ((cx - ob.blob.cx) ** 2 + (cy - ob.blob.cy) ** 2) ** 0.5 < 0.8 * w]
            if near:
                owner.setdefault(ob.track, Counter())[near[0].core_c] += 1
    events += pipe.flush()
    return np.array([e.temp_c - owner[e.track].most_common(1)[0][0] for e in events
                     if isinstance(e, TrackEnded) and e.screened and e.temp_c is not None
                     and e.track in owner])


def test_calibration_on_other_optics_removes_their_bias():
    # another lens: softer blur, a smaller-looking canthus, a wider field of view
    optics = gs.with_optics(gs.SceneSpec(people=1, seed=21), "soft_wide")
    walk = gs.calibration_plan(optics, walkers=5, passes=4)
    scene = gs.generate(optics, walk)
    truth = [Pass(*row) for row in gs.truth_rows(optics, scene.labels)]
    fit = calibrate(scene.frames, optics.fps, truth, ScreeningConfig(blackbody=Blackbody(
        tuple(scene.blackbody_roi), 35.0)))
    assert len(fit.passes) == 20 and fit.warnings == ()
    # the same walk fits the glasses fallback: core - forehead, the walkers' own (simulated: canthus + 0.5 -
    # forehead, 1.5 to 2.5 degC), pooled over the passes
    assert fit.fallback_passes == 20
    assert fit.fallback_offset_c == pytest.approx(np.mean([p.core_c - p.skin_c for p in walk]), abs=0.15)
    assert f"fallback_offset_c: {fit.fallback_offset_c:.3f}" in to_yaml(fit)
    # a fresh scene through the same optics, one pupil at a time
    fresh = replace(optics, seed=22, people=12, pair_share=0.0, glasses_share=0.0, cup_carry_share=0.0,
                    spacing_s=(3.5, 4.0))
    before = core_errors(fresh, ScreeningConfig())
    after = core_errors(fresh, ScreeningConfig(canthus_offset_c=fit.canthus_offset_c,
                                               blur_table_c=fit.blur_table_c))
    assert np.mean(before) < -0.2  # the default table, derived on our own simulator's optics, reads low
    assert len(after) >= 10
    assert np.mean(np.abs(after)) <= 0.15 and abs(np.mean(after)) <= 0.1


def test_a_site_whose_foreheads_run_cooler_gets_a_larger_fallback_offset():
    spec = gs.SceneSpec(people=1, seed=24)
    walk = gs.calibration_plan(spec, walkers=3, passes=2)
    cfg = ScreeningConfig(blackbody=Blackbody(tuple(gs.blackbody_roi(spec)), 35.0))
    fits = []
    for cooler in (0.0, 1.0):  # e.g. a cold morning: foreheads 1 degC further below the core
        people = [replace(p, skin_c=p.skin_c - cooler) for p in walk]
        scene = gs.generate(spec, people)
        truth = [Pass(*r) for r in gs.truth_rows(spec, scene.labels)]
        fits.append(calibrate(scene.frames, spec.fps, truth, cfg))
    assert all(f.fallback_passes == 6 for f in fits)
    assert fits[1].fallback_offset_c - fits[0].fallback_offset_c == pytest.approx(1.0, abs=0.15)
    assert fits[0].canthus_offset_c == pytest.approx(fits[1].canthus_offset_c, abs=0.05)  # the canthus is not


def test_too_few_or_inconsistent_passes_are_warned_about():
    spec = gs.SceneSpec(people=1, seed=23)
    walk = gs.calibration_plan(spec, walkers=2, passes=2)
    scene = gs.generate(spec, walk)
    rows = gs.truth_rows(spec, scene.labels)
    rows[1] = (rows[1][0], rows[1][1], rows[1][2] + 1.0)  # a thermometer reading written down wrong
    fit = calibrate(scene.frames, spec.fps, [Pass(*r) for r in rows],
                    ScreeningConfig(blackbody=Blackbody(tuple(scene.blackbody_roi), 35.0)))
    text = " ".join(fit.warnings)
    assert "too few for a calibration" in text and "inconsistent" in text and "pass 2 off by" in text
    yaml_text = to_yaml(fit)
    assert yaml_text.startswith("canthus_offset_c: ") and "residual_c:" in yaml_text
    assert "warnings:\n  - " in yaml_text


def test_truth_csv_is_checked_line_by_line():
    rows = read_truth("start_s,end_s,core_c\n1,3.5,36.8\n\n5,8,37.1\n")
    assert rows == [Pass(1, 3.5, 36.8), Pass(5, 8, 37.1)]
    with pytest.raises(TruthError, match="line 3: expected start_s,end_s,core_c"):
        read_truth("start_s,end_s,core_c\n1,2,36.8\n1,2\n")
    with pytest.raises(TruthError, match="line 1: end_s 1 must be after start_s 2"):
        read_truth("2,1,36.8\n")
    with pytest.raises(TruthError, match="not a body temperature"):
        read_truth("1,2,98.6\n")


def test_crowd_reference_is_a_trimmed_mean_of_the_last_samples():
    crowd = CrowdReference(ScreeningConfig(crowd_samples=5))
    for v in (36.0, 36.6, 36.7, 36.8):
        assert crowd.add(v, 0.0) is None and crowd.mean() is None
    crowd.add(39.0, 0.0)  # the highest and the lowest are dropped
    assert crowd.mean() == pytest.approx(36.7)
    crowd.add(36.9, 0.0)  # the oldest (36.0) leaves the window
    assert crowd.mean() == pytest.approx((36.7 + 36.8 + 36.9) / 3)


def test_a_drifting_crowd_raises_calibration_drift_once_and_never_moves_the_threshold():
    cfg = ScreeningConfig(crowd_samples=5)
    crowd = CrowdReference(cfg)
    drifts = [d for v in [36.7] * 5 + [35.9] * 10 for d in [crowd.add(v, 1.0)] if d]
    assert drifts == [CalibrationDrift(36.17, (36.3, 37.1), 5, 1.0)]  # (35.9 + 35.9 + 36.7) / 3: trimmed
    again = [d for v in [36.7] * 5 + [37.6] * 5 for d in [crowd.add(v, 2.0)] if d]
    assert len(again) == 1 and again[0].mean_c > 37.1  # back inside the band re-arms it
    assert cfg.threshold_c == 37.3


def test_relative_threshold_alarms_above_the_crowd_plus_the_allowed_deviation():
    crowd = CrowdReference(ScreeningConfig(crowd_samples=4, allowed_deviation_c=0.6))
    assert crowd.threshold() is None
    for v in (36.5, 36.6, 36.7, 36.8):
        crowd.add(v, 0.0)
    assert crowd.threshold() == pytest.approx(36.65 + 0.6)


def test_relative_mode_screens_a_camera_without_blackbody_that_reads_high():
    # no blackbody and a camera reading 1.5 degC high: an absolute threshold would alarm at everybody
    spec = scene_spec(blackbody=False, offset_c=1.5, drift_c=0.0, step_every_s=0)
    cores = [36.6, 36.8, 36.7, 36.9, 36.5, 36.8, 36.7, 36.6, 36.8, 36.7, 38.6, 36.7, 36.8]
    cfg = ScreeningConfig(threshold_mode="relative", crowd_samples=8, allowed_deviation_c=0.7)
    _, events = run(spec, people_with(spec, cores), cfg)
    (fever,) = [e for e in events if type(e).__name__ == "Fever"]  # the pupil at 38.6, nobody else
    assert 38.6 + 1.5 - 0.3 < fever.temp_c < 38.6 + 1.5 + 0.3
    assert 36.75 + 1.5 + 0.7 - 0.25 < fever.threshold_c < 36.75 + 1.5 + 0.7 + 0.25  # crowd mean + deviation
    reasons = [e.reasons for e in events if type(e).__name__ == "HealthChange"]
    assert reasons == [("crowd_reference_filling",), ()]  # no alarm before the crowd is known, then ready
