"""The patrol sheet's labels: Chinese with Debian's Noto CJK font through Pillow, ASCII without it."""

from __future__ import annotations

import logging
import os
from datetime import date
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest

from edge.hub.upkeep import cjk, sheet

TS = 1_780_000_000_000


def _data(*places: str, lang: str = "zh-CN") -> sheet.SheetData:
    d = sheet.SheetData(date(2026, 5, 28), lang, ZoneInfo("Asia/Shanghai"))
    d.cameras = [{"node": "cams", "device": f"cam-{i}", "place": p, "ok": False, "reasons": ["moved"],
                  "checked": TS, "thumb": None} for i, p in enumerate(places)]
    return d


def _name_strip(png: bytes) -> np.ndarray:
    """The first tile's name line (below its picture), as grey."""
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    y = 36 + sheet.TILE_H
    return img[y + 2:y + 20, 10:8 + sheet.TILE_W - 4]


def _ink(strip: np.ndarray) -> np.ndarray:
    return strip < 128


def test_chinese_names_are_drawn_with_real_glyphs() -> None:
    face = cjk.find()
    if face is None:
        pytest.skip(f"no CJK font here: apt-get install {cjk.PACKAGE} (./campus test installs it)")
    assert cjk.has_chinese(face)
    east, yard = (_name_strip(sheet.contact_sheet(_data(p), font=face)) for p in ("东门监控", "操场监控"))
    ascii_east = _name_strip(sheet.contact_sheet(_data("东门监控"), font=None))
    assert _ink(east).sum() > 100 and _ink(ascii_east).sum() > 100
    # two names differ where their glyphs are: no "missing glyph" boxes, which would all look alike
    assert (_ink(east) != _ink(yard)).sum() > 50
    # and the Chinese label is not the ASCII one: the name comes before the id and is denser ink
    assert (_ink(east) != _ink(ascii_east)).sum() > 100
    assert _ink(east)[:, :60].sum() > _ink(ascii_east)[:, :60].sum()


def test_without_a_cjk_font_the_labels_are_ascii_and_the_log_says_what_to_install(caplog, monkeypatch,
                                                                                   tmp_path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no fc-match
    monkeypatch.setattr(cjk, "DEBIAN_PATHS", (str(tmp_path / "NotoSansCJK-Regular.ttc"),))
    cjk.find.cache_clear()
    try:
        assert cjk.find() is None
        with caplog.at_level(logging.WARNING, logger="campus-edge.hub.upkeep"):
            png = sheet.contact_sheet(_data("东门监控"))
    finally:
        cjk.find.cache_clear()
    said = [r.getMessage() for r in caplog.records if "fonts-noto-cjk" in r.getMessage()]
    assert len(said) == 1 and "ASCII" in said[0]
    assert _ink(_name_strip(png)).sum() > 100  # still labelled: cams/cam-0
    assert np.array_equal(_name_strip(png), _name_strip(sheet.contact_sheet(_data("东门监控"), font=None)))


def test_a_font_without_chinese_glyphs_does_not_count() -> None:
    dejavu = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    if not os.path.isfile(dejavu):
        pytest.skip("fonts-dejavu-core not installed")
    assert not cjk.has_chinese(cjk.FontFace(dejavu))
