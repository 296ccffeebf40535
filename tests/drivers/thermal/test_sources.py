"""Frame sources: replay pacing and format, UVC start-up shape check, MLX without its extra."""

import time

import numpy as np
import pytest

from drivers.thermal import codec, sources
from drivers.thermal.sources import SourceError
from simulators import gate_scene as gs


def test_replay_plays_every_frame_at_its_rate_then_idles(tmp_path):
    frames = np.stack([np.full((24, 32), 20.0 + i, np.float32) for i in range(5)])
    np.save(tmp_path / "s.npy", frames)
    src = sources.ReplaySource(tmp_path / "s.npy", fps=50)
    t0 = time.monotonic()
    got = [src.read() for _ in range(5)]
    assert time.monotonic() - t0 >= 4 / 50 * 0.9  # paced, not dumped
    assert [float(f.celsius[0, 0]) for f in got] == [20.0, 21.0, 22.0, 23.0, 24.0]
    assert all(f.celsius.dtype == np.float32 and f.ts > 0 for f in got)
    assert src.read() is None and src.finished  # idles


@pytest.mark.parametrize("arr", [np.zeros((4, 4), np.float32), np.zeros((2, 4, 4), np.uint16)])
def test_replay_refuses_other_arrays(tmp_path, arr):
    np.save(tmp_path / "bad.npy", arr)
    with pytest.raises(SourceError, match=r"\(N, H, W\)"):
        sources.ReplaySource(tmp_path / "bad.npy", fps=9)


def test_replay_missing_file():
    with pytest.raises(SourceError, match="cannot read"):
        sources.ReplaySource("/nonexistent/scene.npy", fps=9)


def test_p2pro_source_decodes_simulated_uvc_frames_then_reports_unplug():
    scene = gs.generate(gs.SceneSpec(people=1, seed=1)).frames[:3]
    cap = gs.SimulatedCapture(gs.raw_frames(scene, "p2pro"))
    src = sources.p2pro_source("/dev/video9", capture=lambda dev: cap)
    assert cap.props[sources.cv2.CAP_PROP_CONVERT_RGB] == 0
    for expected in scene:
        assert np.abs(src.read().celsius - expected).max() < 0.01
    with pytest.raises(SourceError, match="no frame"):
        src.read()


def test_p2pro_source_fails_at_start_up_on_the_wrong_frame_shape():
    rgb = [np.zeros((480, 640, 3), np.uint8)]  # a webcam, or CONVERT_RGB left on
    cap = gs.SimulatedCapture(rgb)
    want = r"P2 Pro on /dev/video2: .*expected a frame of 256x384x2.*\(480, 640, 3\)"
    with pytest.raises(SourceError, match=want):
        sources.p2pro_source("/dev/video2", capture=lambda dev: cap)
    assert not cap.opened  # released


def test_missing_device_is_a_source_error():
    with pytest.raises(SourceError, match="cannot open"):
        sources.lepton_source("7", capture=lambda dev: gs.SimulatedCapture([], opened=False))


def test_lepton_source_decodes_y16_and_sets_the_format():
    frames = np.full((2, 120, 160), 30.0, np.float32)
    cap = gs.SimulatedCapture([codec.encode_lepton(f) for f in frames])
    src = sources.lepton_source(0, capture=lambda dev: cap)
    assert sources.cv2.CAP_PROP_FOURCC in cap.props
    assert src.read().celsius[0, 0] == pytest.approx(30.0)


def test_mlx90640_without_the_extra_says_how_to_install_it():
    try:
        import adafruit_mlx90640  # noqa: F401
    except ImportError:
        with pytest.raises(SourceError, match=r"campus-edge\[mlx90640\]"):
            sources.Mlx90640Source(8)
    else:
        print("adafruit_mlx90640 is installed; on this machine there is no I2C sensor")
        with pytest.raises(SourceError):
            sources.Mlx90640Source(8)
