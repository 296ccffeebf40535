"""The stream driver's frame rate: counted at the camera's pace, not at the speed FFmpeg hands out what it
buffered while the stream opened (drivers/surveillance/rtsp.live_rate). Read times as a visit sees them."""

from __future__ import annotations

import pytest

from drivers.surveillance.rtsp import live_rate


def _stream(burst: int, fps: float, seconds: float, decode: float = 0.002,
            first_wait: float = 0.0) -> list[float]:
    """Read times: ``burst`` buffered frames at decoding speed, then one frame per 1/fps."""
    t = [i * decode for i in range(burst)]
    start = (t[-1] if t else 0.0) + first_wait
    return t + [start + (i + 1) / fps for i in range(int(seconds * fps))]


@pytest.mark.parametrize("fps", [3.0, 10.0, 25.0])
def test_the_start_up_burst_is_not_counted(fps: float) -> None:
    # FFmpeg's default probing buffers 20 frames at open: what made a 10 fps camera read ~30 fps
    rate, intervals = live_rate(_stream(20, fps, 1.0))
    assert rate == pytest.approx(fps, rel=0.02) and intervals >= 2
    rate, _ = live_rate(_stream(20, fps, 1.0, first_wait=0.3 / fps))  # the first live frame came early
    assert rate == pytest.approx(fps, rel=0.02)


def test_a_stream_without_burst_and_one_with_jitter() -> None:
    assert live_rate(_stream(0, 10, 1.0))[0] == pytest.approx(10, rel=0.01)
    jittered = [0.0, 0.001] + [0.1 * i + (0.03 if i % 2 else -0.02) for i in range(1, 16)]
    assert live_rate(jittered)[0] == pytest.approx(10, rel=0.1)
    # a slow decoder (a Pi on a big picture): the burst comes out at 25 ms a frame, the camera sends at 40 ms
    assert live_rate(_stream(5, 25, 1.0, decode=0.025))[0] == pytest.approx(25, rel=0.02)


def test_too_few_frames_for_a_rate() -> None:
    assert live_rate([]) == (0.0, 0)
    assert live_rate([1.0]) == (0.0, 0)
    assert live_rate([0.0, 0.001, 0.002])[1] < 2  # the driver reads on until it has two intervals
