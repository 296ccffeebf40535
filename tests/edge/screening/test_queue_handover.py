"""Queue hand-overs (issue #12): the face that takes a tracked face's place is someone else, decided or
reported on its own. Vectors: pairs of pupils from the benchmark's queue scenes (tuning seeds), alone."""

from __future__ import annotations

from edge.screening import Unscreened
from tests.edge.screening.scenes import fevers, queue_people, run, screened

LEPTON = dict(width=160, height=120, hfov_deg=57.0)


def test_a_face_that_reads_unlike_its_track_is_someone_else():
    # a febrile walker (37.39) is overtaken by a runner (36.41) who takes over the track for three frames; the
    # walker's face comes back reading 1 degC above the track: a new track, which alerts
    spec, (walker, runner) = queue_people(101, [49, 50])
    assert walker.core_c > 37.3 > runner.core_c and runner.speed_mps > 3
    _, events = run(spec, [walker, runner])
    (fever,) = fevers(events)
    assert abs(fever.temp_c - walker.core_c) < 0.3
    assert any(abs(s.temp_c - runner.core_c) < 0.3 and s.track != fever.track for s in screened(events))


def test_a_face_narrower_than_its_track_is_the_pupil_behind():
    # the pupil close behind is hidden by the front one until that one leaves the view, then appears where it
    # was, ~0.6 as wide: before, the front pupil's track took that face over and decided for both
    spec, (front, behind) = queue_people(201, [22, 23], **LEPTON)
    _, events = run(spec, [front, behind])
    by_track = {s.track: s.temp_c for s in screened(events)}
    assert len(by_track) == 2  # one decision each
    assert all(min(abs(t - p.core_c) for t in by_track.values()) < 0.3 for p in (front, behind))


def test_a_runner_taking_an_alerted_pupils_place_is_reported_not_taken_for_them():
    # a febrile walker alerts; a runner behind takes their place for 2 frames, reading 1.4 degC lower: not the
    # alerted pupil seen again (no alias), too fast to screen, so reported unscreened
    spec, (walker, runner) = queue_people(231, [9, 10])
    _, events = run(spec, [walker, runner])
    (fever,) = fevers(events)
    assert abs(fever.temp_c - walker.core_c) < 0.3
    (u,) = [e for e in events if isinstance(e, Unscreened)]
    assert u.track != fever.track and u.reason == "too_fast"
