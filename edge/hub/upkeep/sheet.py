"""The daily patrol sheet: one PNG contact sheet of every camera's latest view with its status, and a
table of the day's outages (markdown or CSV) for the morning meeting and the safety inspection records.

The tiles and frames are drawn with OpenCV; the labels (the camera's name, its status and reasons in
words, the local time of the check) with Pillow and a Noto CJK font (edge/hub/upkeep/cjk.py), because
OpenCV's fonts have no Chinese glyphs. Without such a font (fonts-noto-cjk not installed) the labels fall
back to ASCII (device ids, ``FAULT moved``), with one log line saying what to install; the table beside
the picture carries the Chinese names and reasons either way.
"""

from __future__ import annotations

import csv
import io
import logging
import time
from dataclasses import dataclass, field
from datetime import date, tzinfo
from typing import Any

import cv2
import numpy as np

from edge.hub.journal import Journal
from edge.hub.report import day_bounds
from edge.hub.upkeep import cjk
from edge.hub.upkeep.service import patrol_views
from edge.i18n import clock, stamp, text

log = logging.getLogger("campus-edge.hub.upkeep")
TILE_W, TILE_H, LABEL_H, COLS = 256, 144, 40, 5
GREEN, RED, GREY, BLACK = (60, 170, 60), (40, 40, 220), (140, 140, 140), (0, 0, 0)  # BGR
AUTO = "auto"


@dataclass
class SheetData:
    day: date
    language: str
    tz: tzinfo | None
    cameras: list[dict[str, Any]] = field(default_factory=list)
    outages: list[dict[str, Any]] = field(default_factory=list)


def _reason_words(codes: list[str], lang: str) -> str:
    from edge.i18n import has

    return text("upkeep.sep", lang).join(text(f"patrol.reason.{c}", lang) if has(f"patrol.reason.{c}") else c
                                         for c in codes)


def build(journal: Journal, day: date, tz: tzinfo | None, language: str) -> SheetData:
    lo, hi = day_bounds(day, tz)
    data = SheetData(day, language, tz)
    for v in patrol_views(journal):
        p = v["state"].get("patrol") or {}
        data.cameras.append({**v, "ok": p.get("ok"), "reasons": list(p.get("reasons") or []),
                             "checked": p.get("checked") or v["ts_ms"]})
    # outages: each camera_fault until the camera's next camera_ok (or still open)
    events = journal.alerts(types=("camera_fault", "camera_ok"), until_ms=hi, limit=None)
    open_: dict[tuple[str, str, str], Any] = {}
    for a in sorted(events, key=lambda a: (a.ts_ms, a.id)):
        key = (a.site, a.node, a.device)
        if a.type == "camera_fault":
            if key in open_ and open_[key]["until"] is None:
                open_[key]["until"] = a.ts_ms  # a new fault set replaces the previous one
            open_[key] = {"key": key, "place": a.place, "since": a.ts_ms, "until": None,
                          "reasons": list(a.fields.get("reasons") or [a.fields.get("reason", "")])}
            data.outages.append(open_[key])
        elif key in open_ and open_[key]["until"] is None:
            open_[key]["until"] = a.ts_ms
    data.outages = [o for o in data.outages if o["since"] < hi and (o["until"] is None or o["until"] >= lo)]
    return data


@dataclass(frozen=True)
class Label:
    x: int
    y: int  # baseline
    words: str  # in the sheet's language (Chinese by default)
    ascii: str  # what OpenCV can draw without a CJK font
    colour: tuple[int, int, int]  # BGR
    size: int = 14
    width: int = TILE_W - 4


def contact_sheet(data: SheetData, font: cjk.FontFace | None | str = AUTO) -> bytes:
    """The sheet as PNG. ``font``: AUTO finds a CJK font; None draws the ASCII labels."""
    face = _usable(cjk.find() if font == AUTO else font)
    n = max(1, len(data.cameras))
    cols = min(COLS, n)
    rows = (n + cols - 1) // cols
    head = 36
    img = np.full((head + rows * (TILE_H + LABEL_H + 8) + 8, cols * (TILE_W + 8) + 8, 3), 255, np.uint8)
    lang = data.language
    labels = [Label(8, 24, text("patrol.sheet.title", lang, date=data.day.isoformat()) + "  "
                    + text("patrol.sheet.count", lang, n=len(data.cameras)),
                    f"campus-edge patrol sheet {data.day.isoformat()}  ({len(data.cameras)} cameras)", BLACK,
                    18, img.shape[1] - 16)]
    for i, cam in enumerate(data.cameras):
        x = 8 + (i % cols) * (TILE_W + 8)
        y = head + (i // cols) * (TILE_H + LABEL_H + 8)
        tile = None
        if cam["thumb"]:
            tile = cv2.imdecode(np.frombuffer(cam["thumb"], np.uint8), cv2.IMREAD_COLOR)
        if tile is not None:
            img[y:y + TILE_H, x:x + TILE_W] = cv2.resize(tile, (TILE_W, TILE_H), interpolation=cv2.INTER_AREA)
        else:
            labels.append(Label(x + 70, y + 76, text("patrol.sheet.no_picture", lang), "no picture", GREY,
                                16))
        colour = GREEN if cam["ok"] else RED if cam["ok"] is False else GREY
        cv2.rectangle(img, (x - 3, y - 3), (x + TILE_W + 2, y + TILE_H + LABEL_H), colour, 3)
        labels += _tile_labels(cam, x, y + TILE_H, colour, data)
    if face is None:
        for lb in labels:
            cv2.putText(img, lb.ascii[:lb.width // 7], (lb.x + 2, lb.y), cv2.FONT_HERSHEY_SIMPLEX,
                        lb.size / 32, lb.colour, 1, cv2.LINE_AA)
    else:
        img = _draw_words(img, labels, face)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def _usable(face: cjk.FontFace | None | str) -> cjk.FontFace | None:
    """The font to draw the words with, or None for ASCII labels (said once in the log, with the fix)."""
    if face is None or isinstance(face, str):
        log.warning("no font with Chinese glyphs (fc-match, %s): the patrol sheet's labels are ASCII; "
                    "install the Debian package %s", cjk.DEBIAN_PATHS[0], cjk.PACKAGE)
        return None
    try:
        import PIL  # noqa: F401 (the hub extra brings Pillow)
    except ImportError:
        log.warning("Pillow is missing: the patrol sheet's labels are ASCII (pip install 'campus-edge[hub]')")
        return None
    return face


def _tile_labels(cam: dict[str, Any], x: int, y: int, colour: tuple[int, int, int],
                 data: SheetData) -> list[Label]:
    lang, ident = data.language, f"{cam['node']}/{cam['device']}"
    name = cam["place"] if cam["place"] and cam["place"] != cam["device"] else ""
    when = clock(cam["checked"], data.tz)
    if cam["ok"]:
        words, status = text("patrol.status.ok", lang), "OK"
    elif cam["ok"] is False:
        words = text("patrol.status.fault", lang) + text("patrol.sheet.colon", lang) + _reason_words(
            cam["reasons"], lang)
        status = "FAULT " + ",".join(cam["reasons"])
    else:
        words, status = text("patrol.status.unknown", lang), "?"
    return [Label(x, y + 16, f"{name}  {ident}" if name else ident, ident, BLACK),
            Label(x, y + 34, f"{when}  {words}", f"{status}  {when}", colour)]


def _draw_words(img: np.ndarray, labels: list[Label], face: cjk.FontFace) -> np.ndarray:
    """The labels in their language with Pillow (RGB), each cut to its width."""
    from PIL import Image, ImageDraw, ImageFont

    pic = Image.fromarray(np.ascontiguousarray(img[:, :, ::-1]))
    draw = ImageDraw.Draw(pic)
    fonts: dict[int, Any] = {}
    for lb in labels:
        font = fonts.get(lb.size) or fonts.setdefault(lb.size, ImageFont.truetype(face.path, lb.size,
                                                                                  index=face.index))
        words = lb.words
        while words and draw.textlength(words, font=font) > lb.width:
            words = words[:-2] + "…"
        draw.text((lb.x + 2, lb.y), words, font=font, fill=lb.colour[::-1], anchor="ls")
    return np.ascontiguousarray(np.asarray(pic)[:, :, ::-1])


def _camera_rows(data: SheetData) -> list[list[str]]:
    lang = data.language
    out = []
    for c in data.cameras:
        status = text("patrol.status.ok" if c["ok"] else "patrol.status.fault" if c["ok"] is False
                      else "patrol.status.unknown", lang)
        out.append([c["place"] or c["device"], f"{c['node']}/{c['device']}", status,
                    _reason_words(c["reasons"], lang), stamp(c["checked"], data.tz)[:16]])
    return out


def _outage_rows(data: SheetData) -> list[list[str]]:
    from edge.hub.upkeep.report import duration

    lang = data.language
    now = int(time.time() * 1000)
    return [[o["place"], f"{o['key'][1]}/{o['key'][2]}", _reason_words(o["reasons"], lang),
             stamp(o["since"], data.tz)[:16],
             stamp(o["until"], data.tz)[:16] if o["until"] else text("patrol.sheet.ongoing", lang),
             duration((o["until"] or now) - o["since"], lang)] for o in data.outages]


def _heads(data: SheetData, keys: tuple[str, ...]) -> list[str]:
    return [text(f"patrol.col.{k}", data.language) if k != "device" else "ID" for k in keys]


CAMERA_COLS = ("camera", "device", "status", "reason", "checked")
OUTAGE_COLS = ("camera", "device", "reason", "since", "until", "duration")


def to_markdown(data: SheetData) -> str:
    lang = data.language
    out = [f"# {text('patrol.sheet.title', lang, date=data.day.isoformat())}", "",
           f"## {text('patrol.sheet.cameras', lang)}", ""]

    def table(heads: list[str], rows: list[list[str]]) -> list[str]:
        return (["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
                + ["| " + " | ".join(str(v).replace("|", "\\|") for v in r) + " |" for r in rows])

    out += table(_heads(data, CAMERA_COLS), _camera_rows(data))
    out += ["", f"## {text('patrol.sheet.outages', lang)}", ""]
    outages = _outage_rows(data)
    out += table(_heads(data, OUTAGE_COLS), outages) if outages else [text("patrol.sheet.none", lang)]
    return "\n".join(out) + "\n"


def to_csv(data: SheetData) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([text("patrol.sheet.title", data.language, date=data.day.isoformat())])
    w.writerow(_heads(data, CAMERA_COLS))
    w.writerows(_camera_rows(data))
    w.writerow([])
    w.writerow([text("patrol.sheet.outages", data.language)])
    w.writerow(_heads(data, OUTAGE_COLS))
    w.writerows(_outage_rows(data))
    return "\ufeff" + buf.getvalue()
