"""Covered eyes fall back to the forehead (a recheck, never a fever); blur compensation by face width."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from edge.screening import Recheck, ScreeningConfig
from edge.screening.config import BLUR_TABLE_C
from edge.screening.faces import Blob
from edge.screening.measure import Measurement, blur_compensation
from edge.screening.reference import NO_BLACKBODY
from edge.screening.tracking import Fever, Tracker
from tests.edge.screening.scenes import ended, fevers, people_with, run, scene_spec, screened


def rechecks(events) -> list[Recheck]:
    return [e for e in events if isinstance(e, Recheck)]


# -- glasses: the forehead fallback -------------------------------------------------------------------------
def test_a_febrile_glasses_wearer_is_sent_to_a_recheck_exactly_once():
    spec = scene_spec()
    _, events = run(spec, people_with(spec, [38.4], glasses=True))
    assert fevers(events) == [] and screened(events) == []  # the canthus was never seen: no fever, ever
    (recheck,) = rechecks(events)
    assert recheck.temp_c == pytest.approx(38.4, abs=0.6)  # the forehead estimate, wide as it says
    assert recheck.uncertainty_c == 0.6 and recheck.threshold_c == 37.3 and recheck.frames >= 3
    assert recheck.blackbody is True
    img = cv2.imdecode(np.frombuffer(recheck.snapshot_png, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None  # staff need to know whom to stop
    (end,) = ended(events)
    assert end.covered and end.rechecked and not end.screened
    assert end.fallback_c == pytest.approx(38.4, abs=0.6)


def test_a_healthy_glasses_wearer_is_neither_alerted_nor_rechecked():
    spec = scene_spec(people=2)
    _, events = run(spec, people_with(spec, [36.4, 36.6], glasses=True))
    assert fevers(events) == [] and rechecks(events) == []
    assert all(e.covered and not e.rechecked and e.fallback_c is not None for e in ended(events))


def test_the_fallback_can_be_turned_off():
    spec = scene_spec()
    _, events = run(spec, people_with(spec, [38.4], glasses=True), ScreeningConfig(fallback=False))
    assert fevers(events) == [] and rechecks(events) == []


def _covered(tracker, ts, blobs, forehead_c):
    m = Measurement(None, 0, covered=True, forehead_c=forehead_c)
    events, obs = tracker.update(ts, blobs, [m for _ in blobs], NO_BLACKBODY)
    return rechecks(events), obs


def test_a_face_breaking_off_a_rechecked_one_does_not_recheck_again():
    tracker = Tracker(ScreeningConfig(merge_seconds=3.0), measure_width=10)
    face = Blob(100, 50, 30, 40, 900, 1, 115.0, 70.0)
    out = []
    for i in range(6):
        out += _covered(tracker, i * 0.1, [face], 35.9)[0]  # core 37.9 from the forehead
    assert len(out) == 1 and out[0].temp_c == pytest.approx(37.9)
    beside = Blob(136, 50, 28, 40, 800, 2, 151.0, 70.0)
    for i in range(6, 14):
        new, obs = _covered(tracker, i * 0.1, [face, beside], 35.9)
        out += new
    assert len({o.track for o in obs}) == 2 and len(out) == 1


# -- blur compensation ---------------------------------------------------------------------------------------
def test_blur_compensation_interpolates_and_holds_at_the_ends():
    table = ((10, 0.8), (20, 0.3), (40, 0.0))
    assert blur_compensation(table, 15) == pytest.approx(0.55)
    assert blur_compensation(table, 5) == 0.8 and blur_compensation(table, 60) == 0.0
    assert blur_compensation((), 12) == 0.0
    widths = [w for w, _ in BLUR_TABLE_C]
    assert widths == sorted(widths)
    losses = [c for _, c in BLUR_TABLE_C]
    assert losses == sorted(losses, reverse=True)  # smaller faces lose more


def test_compensation_removes_most_of_the_bias_on_small_faces():
    # 160x120 (Lepton): faces are 10-20 px wide, and uncompensated readings run ~0.45 degC low
    spec = scene_spec(people=3, width=160, height=120, hfov_deg=57.0, seed=21)
    cores = [36.5, 36.9, 37.1]
    people = people_with(spec, cores)

    def bias(cfg: ScreeningConfig) -> float:
        ends = {e.track: e for e in ended(run(spec, people, cfg)[1])}
        assert len(ends) == 3 and all(e.screened for e in ends.values())
        estimates = [ends[t].temp_c for t in sorted(ends)]
        return float(np.mean(np.subtract(estimates, cores)))

    before = bias(ScreeningConfig(blur_table_c=()))
    after = bias(ScreeningConfig())
    assert before < -0.25
    assert abs(after) < 0.12 and abs(after) < 0.35 * abs(before)


def test_the_alert_margin_keeps_an_estimate_just_over_the_threshold_from_alerting():
    face = Blob(100, 50, 48, 60, 2000, 1, 124.0, 80.0)  # wide: BLUR_TABLE_C adds -0.08

    def alerts(cfg: ScreeningConfig) -> int:
        tracker = Tracker(cfg, measure_width=10)
        n = 0
        for i in range(8):  # core = 36.9 + 0.5 - 0.08 = 37.32
            events, _ = tracker.update(i * 0.1, [face], [Measurement(36.9, 4)], NO_BLACKBODY)
            n += sum(isinstance(e, Fever) for e in events)
        return n

    assert alerts(ScreeningConfig()) == 0  # default margin 0.1
    assert alerts(ScreeningConfig(alert_margin_c=0.0)) == 1


def test_the_next_person_in_the_lane_is_a_new_track():
    # where one face passed the camera, the next (a metre or more behind) is half as wide: not the same face
    tracker = Tracker(ScreeningConfig(), measure_width=10)
    near = Blob(110, 60, 28, 40, 900, 1, 124.0, 80.0)
    tracks = []
    for i, blob in enumerate([near, replace(near, w=32), Blob(117, 70, 14, 20, 220, 1, 124.0, 80.0)]):
        _, obs = tracker.update(i * 0.1, [blob], [Measurement(36.5, 2)], NO_BLACKBODY)
        tracks.append(obs[0].track)
    assert tracks[0] == tracks[1] != tracks[2]  # a face grows as it comes closer; the next one is new
