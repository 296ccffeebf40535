"""The patrol's pure checks (edge/patrol/checks.py) on pictures from the simulated cameras."""

from __future__ import annotations

import copy
import functools

import pytest

from edge.patrol.checks import Settings, Visit, evaluate
from simulators.cameras import SimCamera

S = Settings(width=640, height=360, overlay=(0.0, 0.0, 0.33, 0.07))
T = 1_780_000_000.0


def _visit(cam: SimCamera, t: float, gap: float = 1.5) -> Visit:
    return Visit([cam.render(t), cam.render(t + gap)], gap)


@functools.cache
def _memory(seed: int) -> dict:
    """A camera after a day and a half of hourly visits: reference view and both focus baselines learned."""
    cam, mem = SimCamera(seed), {}
    for i in range(36):
        cam.hour = (8 + i) % 24
        r = evaluate(_visit(cam, T + i * 3600), S, mem)
        assert r.reasons == (), (i, r.reasons, r.metrics)  # no false fault through dusk, night and dawn
        mem = r.memory
    return mem


def _learned(seed: int) -> tuple[SimCamera, dict]:
    return SimCamera(seed), copy.deepcopy(_memory(seed))


@pytest.mark.parametrize("hour", [11.0, 23.0])
@pytest.mark.parametrize("fault,reason", [("dark", "dark"), ("washed_out", "washed_out"),
                                          ("frozen", "frozen"), ("blur", "blurred"), ("moved", "moved"),
                                          ("covered", "covered")])
def test_each_fault_is_named_by_day_and_by_night(fault: str, reason: str, hour: float) -> None:
    cam, mem = _learned(3)
    cam.hour, cam.fault = hour, fault
    r = evaluate(_visit(cam, T + 10**6), S, mem)
    assert r.reasons == (reason,), r.metrics
    cam.fault = None
    assert evaluate(_visit(cam, T + 2 * 10**6), S, mem).reasons == ()


@pytest.mark.parametrize("hour", [2.5, 11.2])
def test_a_low_contrast_view_covered_is_covered_not_blurred(hour: float) -> None:
    """Camera 961482's scene has little contrast: a cover keeps half of its variation, more than
    cover_ratio, and only the lost layout tells a cover from a lens out of focus."""
    cam, mem = _learned(961482)
    cam.hour = hour
    results = {}
    for fault, reason in (("covered", "covered"), ("blur", "blurred")):
        cam.fault = fault
        results[fault] = r = evaluate(_visit(cam, T + 10**6), S, mem)
        assert r.reasons == (reason,), r.metrics
    assert results["covered"].metrics["variation_ratio"] > S.cover_ratio  # the variation alone cannot tell


def test_frozen_when_only_the_timestamp_overlay_stands_still() -> None:
    cam, mem = _learned(4)
    cam.hour = 10
    # the sensor noise changes but the overlay clock shows the same second: the encoder is stuck
    stuck = Visit([cam.render(T + 5e6), cam.render(T + 5e6)], gap_s=2.0)
    assert evaluate(stuck, S, mem).reasons == ("frozen",)
    # the same picture as at the last visit is frozen too (a camera re-sending one JPEG)
    frame = cam.render(T + 6e6)
    mem2 = evaluate(Visit([frame], 0.0), S, mem).memory
    assert evaluate(Visit([frame], 0.0), S, mem2).reasons == ("frozen",)


def test_resolution_frame_rate_and_unreachable() -> None:
    cam, mem = _learned(5)
    small = Settings(width=1920, height=1080, min_fps=10)
    r = evaluate(Visit([cam.render(T), cam.render(T + 2)], 2.0, fps=4.0), small, mem)
    assert r.reasons == ("resolution", "fps") and r.metrics["fps"] == 4.0
    r = evaluate(Visit(error="offline", detail="ConnectError"), S, mem)
    assert r.reasons == ("offline",) and r.memory == mem


def test_a_new_camera_learns_before_it_judges_focus() -> None:
    cam, mem = SimCamera(6), {}
    cam.hour, cam.fault = 12, "blur"
    r = evaluate(_visit(cam, T), S, mem)  # installed out of focus: nothing to compare with yet
    assert r.reasons == () and r.memory["baseline_visits"] == {"color": 1}


def test_full_rounds_at_local_times() -> None:
    from zoneinfo import ZoneInfo

    from edge.patrol.rounds import next_round

    sh = ZoneInfo("Asia/Shanghai")
    t = 1_780_000_000.0  # 2026-05-29 04:26:40 +08:00
    assert next_round(t, ["07:00", "18:00"], sh) == t + (2 * 3600 + 33 * 60 + 20)
    assert next_round(t + 14 * 3600, ["07:00", "18:00"], sh) == t + (26 * 3600 + 33 * 60 + 20)  # tomorrow
    assert next_round(t, [], sh) is None
