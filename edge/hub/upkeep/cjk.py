"""A font with Chinese glyphs for the pictures the hub draws (the patrol sheet): Debian's fonts-noto-cjk.

OpenCV's Hershey fonts have no CJK glyphs, so Chinese labels are drawn with Pillow and a Noto CJK font,
found by fontconfig (``fc-match``, the font the system would use for zh-CN) or at the paths Debian
installs it to. A candidate counts only if it really has Chinese glyphs: a font without them draws the
same "missing glyph" box for every character, so two different characters must give different masks.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("campus-edge.hub.upkeep")
PACKAGE = "fonts-noto-cjk"
# Debian 12 / Raspberry Pi OS bookworm (fonts-noto-cjk): face 2 of the collection is Simplified Chinese
DEBIAN_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)
SC_FACE = 2


@dataclass(frozen=True)
class FontFace:
    path: str
    index: int = 0


def _fc_match() -> FontFace | None:
    if shutil.which("fc-match") is None:
        return None
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}|%{index}", "Noto Sans CJK SC:lang=zh-cn"],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    path, _, index = out.strip().partition("|")
    return FontFace(path, int(index)) if path and index.isdigit() else None


def has_chinese(face: FontFace) -> bool:
    try:
        from PIL import ImageFont

        font = ImageFont.truetype(face.path, 24, index=face.index)
        a, b = font.getmask("中"), font.getmask("监")
    except (ImportError, OSError, ValueError):
        return False
    return a.size != (0, 0) and (a.size != b.size or bytes(a) != bytes(b))


def _candidates() -> list[FontFace]:
    found = [f for f in (_fc_match(),) if f is not None]
    for p in DEBIAN_PATHS:
        if Path(p).is_file():
            found += [FontFace(p, SC_FACE), FontFace(p, 0)]
    return found


@functools.lru_cache(maxsize=1)
def find() -> FontFace | None:
    """The first candidate with Chinese glyphs, or None (then say which package to install)."""
    for face in _candidates():
        if Path(face.path).is_file() and has_chinese(face):
            return face
    return None
