"""Byte vectors for each camera's encoding, built here by hand from the documented formulas."""

import numpy as np
import pytest

from drivers.thermal import codec
from drivers.thermal.codec import FrameShapeError


def p2pro_frame(counts: dict[tuple[int, int], int]) -> np.ndarray:
    """A 384x256x2 YUYV frame whose lower half holds the given little-endian counts (others 0)."""
    frame = np.zeros((384, 256, 2), np.uint8)
    for (row, col), value in counts.items():
        frame[192 + row, col, 0] = value & 0xFF  # low byte first
        frame[192 + row, col, 1] = value >> 8
    return frame


def test_p2pro_decodes_little_endian_counts_over_64_minus_kelvin():
    # 0x4D1C = 19740 -> 19740 / 64 - 273.15 = 35.2875 degC; 0x4A00 = 18944 -> 22.85 degC
    frame = p2pro_frame({(0, 0): 0x4D1C, (191, 255): 0x4A00, (10, 20): 0x4E74})
    assert bytes(frame[192, 0]) == b"\x1c\x4d"
    c = codec.decode_p2pro(frame)
    assert c.shape == (192, 256) and c.dtype == np.float32
    assert c[0, 0] == pytest.approx(35.2875, abs=1e-4)
    assert c[191, 255] == pytest.approx(22.85, abs=1e-4)
    assert c[10, 20] == pytest.approx(0x4E74 / 64 - 273.15, abs=1e-4)
    assert c[5, 5] == pytest.approx(-273.15)  # zero counts


def test_p2pro_ignores_the_upper_picture_and_accepts_flat_buffers():
    frame = p2pro_frame({(3, 4): 19740})
    frame[:192] = 0xAB  # the camera's own false-colour picture: never read
    flat = frame.reshape(1, -1)  # how some V4L2 builds of OpenCV return raw YUYV
    assert codec.decode_p2pro(flat)[3, 4] == pytest.approx(35.2875, abs=1e-4)


@pytest.mark.parametrize("shape", [(192, 256, 2), (480, 640, 3), (384, 256)])
def test_p2pro_wrong_shape_fails_with_both_shapes(shape):
    with pytest.raises(FrameShapeError, match=r"expected a frame of 256x384x2 .*got shape"):
        codec.decode_p2pro(np.zeros(shape, np.uint8))


def test_p2pro_rejects_converted_rgb_frames():
    with pytest.raises(FrameShapeError, match="uint8"):
        codec.decode_p2pro(np.zeros((384, 256, 2), np.float32))


def test_p2pro_round_trip():
    c = np.random.default_rng(1).uniform(15, 45, (192, 256)).astype(np.float32)
    assert np.abs(codec.decode_p2pro(codec.encode_p2pro(c)) - c).max() <= 1 / 128 + 1e-4


def test_lepton_y16_counts_are_centikelvin():
    raw = np.full((120, 160), 27315, np.uint16)  # 0 degC
    raw[0, 0] = 31015  # 37.00 degC
    raw[119, 159] = 30815  # 35.00 degC
    c = codec.decode_lepton(raw)
    assert c.shape == (120, 160)
    assert c[0, 0] == pytest.approx(37.0, abs=1e-4)
    assert c[119, 159] == pytest.approx(35.0, abs=1e-4)
    assert c[50, 50] == pytest.approx(0.0, abs=1e-4)


def test_lepton_accepts_y16_as_bytes_little_endian():
    raw = np.full((120, 160), 27315, np.uint16)
    raw[1, 2] = 0x7917  # 30999 -> 36.84 degC
    as_bytes = raw.astype("<u2").view(np.uint8).reshape(1, -1)
    assert as_bytes[0, (160 + 2) * 2:(160 + 2) * 2 + 2].tobytes() == b"\x17\x79"
    assert codec.decode_lepton(as_bytes)[1, 2] == pytest.approx(36.84, abs=1e-4)


def test_lepton_wrong_shape_fails():
    with pytest.raises(FrameShapeError, match="160x120"):
        codec.decode_lepton(np.zeros((60, 80), np.uint16))


def test_mlx_dead_pixels_are_masked_and_filled_from_neighbours():
    values = [30.0] * 768
    values[5 * 32 + 7] = -273.15  # dead, surrounded by 30.0
    values[0] = -273.15  # dead in the corner
    values[5 * 32 + 8] = 36.0  # a live neighbour
    frame = codec.decode_mlx90640(values)
    assert frame.celsius.shape == (24, 32)
    assert frame.dead.sum() == 2 and frame.dead[5, 7] and frame.dead[0, 0]
    assert frame.celsius[5, 7] == pytest.approx((7 * 30.0 + 36.0) / 8)
    assert frame.celsius[0, 0] == pytest.approx(30.0)
    assert frame.celsius.min() > 0  # no -273.15 reaches the pipeline


def test_mlx_nan_is_dead_too_and_too_many_dead_is_an_error():
    values = [25.0] * 768
    values[100] = float("nan")
    assert codec.decode_mlx90640(values).dead.sum() == 1
    with pytest.raises(ValueError, match="dead"):
        codec.decode_mlx90640([-273.15] * 100 + [25.0] * 668)


def test_mlx_wrong_length_fails():
    with pytest.raises(FrameShapeError, match="32x24"):
        codec.decode_mlx90640([25.0] * 767)


def test_mlx_round_trip_with_dead_pixels():
    c = np.full((24, 32), 24.0, np.float32)
    dead = np.zeros((24, 32), bool)
    dead[3, 3] = True
    values = codec.encode_mlx90640(c, dead)
    assert values[3 * 32 + 3] == pytest.approx(-273.15)
    back = codec.decode_mlx90640(values)
    assert back.dead[3, 3] and np.allclose(back.celsius, 24.0)
