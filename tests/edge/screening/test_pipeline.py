"""Behaviour of the screening pipeline on small simulated gate scenes."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from edge.screening import Pipeline, ScreeningConfig
from edge.screening.config import Blackbody
from simulators import gate_scene as gs
from tests.edge.screening.scenes import ended, fevers, people_with, run, scene_spec, screened


def test_a_febrile_person_alerts_exactly_once_with_a_snapshot():
    spec = scene_spec()
    results, events = run(spec, people_with(spec, [38.6]))
    alerts = fevers(events)
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert.temp_c == pytest.approx(38.6, abs=0.4)
    assert alert.threshold_c == 37.3 and alert.blackbody is True
    assert alert.frames >= 3
    img = cv2.imdecode(np.frombuffer(alert.snapshot_png, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None and img.shape[2] == 3  # a false-colour picture, nothing else
    assert len(screened(events)) == 1


def test_normal_people_do_not_alert_but_are_screened():
    spec = scene_spec(people=4)
    _, events = run(spec, people_with(spec, [36.4, 36.7, 36.9, 37.0]))
    assert fevers(events) == []
    assert len(screened(events)) == 4
    for e in ended(events):
        assert e.screened and e.temp_c == pytest.approx(36.7, abs=0.6)


def test_hot_cups_heater_and_sunlit_wall_do_not_alert():
    spec = scene_spec(people=2, distractors=("cup", "wall", "heater"))
    people = [replace(p, cup_c=68.0) for p in people_with(spec, [36.6, 36.8])]  # tea in hand
    results, events = run(spec, people)
    assert fevers(events) == []
    assert len(screened(events)) == 2
    # nothing but the two faces was ever taken for a face
    assert max(len(r.observations) for r in results) <= 2


def test_an_empty_gate_with_distractors_finds_no_face():
    spec = scene_spec(people=0, distractors=("cup", "wall", "heater"), lead_in_s=4.0)
    results, events = run(spec, [])
    assert len(results) > 30
    assert all(not r.observations for r in results)
    # nothing happened but the screening saying, once, that it is ready
    assert [(type(e).__name__, e.ready) for e in events] == [("HealthChange", True)]


def test_without_blackbody_every_reading_says_so():
    spec = scene_spec(blackbody=False, offset_c=0.0)
    results, events = run(spec, people_with(spec, [38.8]))
    assert all(r.reference.blackbody is False for r in results)
    alerts = fevers(events)
    assert len(alerts) == 1 and alerts[0].blackbody is False
    assert all(e.blackbody is False for e in screened(events) + ended(events))


def test_blackbody_corrects_the_camera_offset():
    spec = scene_spec(offset_c=1.5)  # the camera reads 1.5 degC high
    corrected = ended(run(spec, people_with(spec, [36.9]))[1])
    raw = ended(run(spec, people_with(spec, [36.9]), blackbody=False)[1])
    assert corrected[0].temp_c == pytest.approx(36.9, abs=0.35)
    assert raw[0].temp_c > corrected[0].temp_c + 1.0
    assert fevers(run(spec, people_with(spec, [36.9]), blackbody=False)[1])  # uncorrected: a false alarm


def test_occluded_blackbody_degrades_readings_and_holds_the_offset():
    spec = scene_spec(people=0, lead_in_s=1.0)
    frames = list(gs.iter_frames(spec, []))
    roi = gs.blackbody_roi(spec)
    pipe = Pipeline(ScreeningConfig(blackbody=Blackbody(tuple(roi), 35.0)))
    good = [pipe.process(f, i) for i, f in enumerate(frames)][-1].reference
    assert not good.degraded and good.offset_c == pytest.approx(-0.8, abs=0.1)
    blocked = frames[-1].copy()
    x, y, w, h = roi
    blocked[y:y + h, x:x + w // 2] = 22.0  # a hand over half of it
    ref = pipe.process(blocked, 99).reference
    assert ref.degraded and ref.offset_c == pytest.approx(good.offset_c)


def test_glasses_hide_the_canthus_so_the_person_is_not_screened_by_it():
    spec = scene_spec()
    _, events = run(spec, people_with(spec, [38.5], glasses=True))
    assert fevers(events) == [] and screened(events) == []  # the forehead fallback only asks for a recheck
    (end,) = ended(events)
    assert end.covered and not end.screened and end.rechecked


def test_a_new_track_next_to_an_alerted_one_is_the_same_person():
    spec = scene_spec()
    results, events = run(spec, people_with(spec, [38.6]))
    (alert,) = fevers(events)
    frames = list(gs.iter_frames(spec, people_with(spec, [38.6])))
    # replay the scene but blank the face for a stretch after the alert: the track is lost and found again
    bb = Blackbody(tuple(gs.blackbody_roi(spec)), 35.0)
    pipe = Pipeline(ScreeningConfig(blackbody=bb, lost_seconds=0.1, merge_seconds=3.0))
    alert_frame = round(alert.ts * spec.fps)
    out = []
    for i, f in enumerate(frames):
        if alert_frame < i <= alert_frame + 3:
            f = np.full_like(f, 20.0)
        out += pipe.process(f, i / spec.fps).events
    out += pipe.flush()
    assert len(fevers(out)) == 1


def test_hysteresis_one_alert_even_if_readings_dip_and_return():
    from edge.screening.faces import Blob
    from edge.screening.measure import Measurement
    from edge.screening.reference import NO_BLACKBODY
    from edge.screening.tracking import Fever, Tracker

    tracker = Tracker(ScreeningConfig(), measure_width=10)
    blob = Blob(100, 50, 30, 40, 900, 1, 115.0, 70.0)
    canthus = [37.0, 37.1, 37.2, 37.0, 37.0, 36.8, 37.1, 36.5, 37.0, 37.2]  # core = + 0.5
    alerts = []
    for i, c in enumerate(canthus):
        events, _ = tracker.update(i * 0.1, [blob], [Measurement(c, 2)], NO_BLACKBODY)
        alerts += [e for e in events if isinstance(e, Fever)]
    assert len(alerts) == 1


def test_a_single_hot_pixel_does_not_make_a_fever():
    spec = scene_spec()
    people = people_with(spec, [36.6])
    pipe = Pipeline(ScreeningConfig(blackbody=Blackbody(tuple(gs.blackbody_roi(spec)), 35.0)))
    labels = {f: (cx, cy, w) for f, cx, cy, w in gs.labels_for(spec, people)[0].track}
    events = []
    for i, f in enumerate(gs.iter_frames(spec, people)):
        if i in labels:  # one 41 degC pixel in the eye band on every frame
            cx, cy, w = labels[i]
            f[int(cy), int(cx)] = 41.0
        events += pipe.process(f, i / spec.fps).events
    assert fevers(events + pipe.flush()) == []


def test_static_masks_hide_an_area():
    spec = scene_spec()
    people = people_with(spec, [38.6])
    cfg = ScreeningConfig(masks=((0, 0, spec.width, spec.height),))
    results, events = run(spec, people, cfg)
    assert all(not r.observations for r in results) and fevers(events) == []


def test_two_people_side_by_side_are_two_tracks():
    spec = scene_spec(people=2, pair_share=1.0)
    people = people_with(spec, [38.4, 36.6])
    assert abs(people[0].start_s - people[1].start_s) < 0.5
    results, events = run(spec, people)
    assert max(len(r.observations) for r in results) == 2
    assert len(screened(events)) == 2
    assert len(fevers(events)) == 1


def test_coarse_sensor_face_max_reports_a_wide_uncertainty():
    spec = scene_spec(width=32, height=24, hfov_deg=55.0, end_m=0.6, distractors=())
    cfg = ScreeningConfig(method="face_max", min_frames=2, confirm_frames=1)
    _, events = run(spec, people_with(spec, [39.5]), cfg)
    alerts = fevers(events)
    assert len(alerts) == 1 and alerts[0].uncertainty_c == 1.0


def test_frames_of_another_size_reset_the_pipeline():
    pipe = Pipeline(ScreeningConfig())
    pipe.process(np.full((120, 160), 20.0, np.float32), 0.0)
    assert pipe.process(np.full((192, 256), 20.0, np.float32), 0.1).observations == []
    with pytest.raises(ValueError, match="2-D"):
        pipe.process(np.zeros((2, 2, 2), np.float32), 0.2)


def _feed(tracker, ts, blobs, canthus):
    from edge.screening.measure import Measurement
    from edge.screening.reference import NO_BLACKBODY
    from edge.screening.tracking import Fever

    events, obs = tracker.update(ts, blobs, [Measurement(canthus, 2) for _ in blobs], NO_BLACKBODY)
    return [e for e in events if isinstance(e, Fever)], obs


def test_a_second_face_appearing_beside_an_alerted_track_never_alerts_until_merge_time_passes():
    from edge.screening.faces import Blob
    from edge.screening.tracking import Tracker

    tracker = Tracker(ScreeningConfig(merge_seconds=3.0), measure_width=10)
    face = Blob(100, 50, 30, 40, 900, 1, 115.0, 70.0)
    alerts = []
    for i in range(6):
        alerts += _feed(tracker, i * 0.1, [face], 38.2)[0]
    assert len(alerts) == 1
    # the same person's face breaks into a second blob 1.2 widths away (a hand, a turned head)
    beside = Blob(136, 50, 28, 40, 800, 2, 151.0, 70.0)
    for i in range(6, 14):
        new, obs = _feed(tracker, i * 0.1, [face, beside], 38.2)
        alerts += new
    assert len({o.track for o in obs}) == 2 and len(alerts) == 1
    # much later, someone febrile at that place is a new person and alerts
    for i in range(100, 108):
        alerts += _feed(tracker, i * 0.1, [beside], 38.2)[0]
    assert len(alerts) == 2


def test_the_next_pupil_behind_an_alerted_one_alerts_but_the_same_face_found_again_does_not():
    from edge.screening.faces import Blob
    from edge.screening.tracking import Tracker

    tracker = Tracker(ScreeningConfig(merge_seconds=3.0, lost_seconds=0.6), measure_width=10)
    face = Blob(100, 60, 30, 40, 900, 1, 115.0, 80.0)
    alerts = []
    for i in range(6):
        alerts += _feed(tracker, i * 0.1, [face], 38.2)[0]
    assert len(alerts) == 1
    # a febrile pupil right behind: narrower, above the alerted face, in the same frames
    behind = Blob(106, 30, 20, 26, 400, 2, 116.0, 43.0)
    for i in range(6, 14):
        alerts += _feed(tracker, i * 0.1, [face, behind], 38.2)[0]
    assert len(alerts) == 2
    # the alerted face is lost for 1.5 s (too long to be revived), then found again where it was
    for i in range(29, 37):
        alerts += _feed(tracker, i * 0.1, [face], 38.2)[0]
    assert len(alerts) == 2
    # and again, now reading like someone else (0.8 degC hotter): a different person
    for i in range(52, 60):
        alerts += _feed(tracker, i * 0.1, [face], 39.0)[0]
    assert len(alerts) == 3


def test_nan_and_inf_pixels_are_refused_not_propagated():
    spec = scene_spec()
    people = people_with(spec, [38.6])
    pipe = Pipeline(ScreeningConfig(blackbody=Blackbody(tuple(gs.blackbody_roi(spec)), 35.0)))
    events = []
    for i, f in enumerate(gs.iter_frames(spec, people)):
        f[::7, ::5] = np.nan
        f[3, 3] = np.inf
        events += pipe.process(f, i / spec.fps).events
    events += pipe.flush()
    alerts = fevers(events)
    assert len(alerts) == 1 and np.isfinite(alerts[0].temp_c)
