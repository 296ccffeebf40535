"""The daily patrol sheet: one PNG contact sheet of every camera's latest view with its status, and a
table of the day's outages (markdown or CSV) for the morning meeting and the safety inspection records.

The image is drawn with OpenCV, which has no CJK glyphs and we add no font library: the picture carries
ASCII only (device ids, which are ``[a-z0-9_-]``, status codes such as ``FAULT moved``, local times), and
the Chinese names and reasons are in the table beside it.
"""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass, field
from datetime import date, tzinfo
from typing import Any

import cv2
import numpy as np

from edge.hub.journal import Journal
from edge.hub.report import day_bounds
from edge.hub.upkeep.service import patrol_views
from edge.i18n import clock, stamp, text

TILE_W, TILE_H, LABEL_H, COLS = 256, 144, 40, 5
GREEN, RED, GREY = (60, 170, 60), (40, 40, 220), (140, 140, 140)


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


def contact_sheet(data: SheetData) -> bytes:
    n = max(1, len(data.cameras))
    cols = min(COLS, n)
    rows = (n + cols - 1) // cols
    head = 36
    img = np.full((head + rows * (TILE_H + LABEL_H + 8) + 8, cols * (TILE_W + 8) + 8, 3), 255, np.uint8)
    cv2.putText(img, f"campus-edge patrol sheet {data.day.isoformat()}  ({len(data.cameras)} cameras)",
                (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1, cv2.LINE_AA)
    for i, cam in enumerate(data.cameras):
        x = 8 + (i % cols) * (TILE_W + 8)
        y = head + (i // cols) * (TILE_H + LABEL_H + 8)
        tile = None
        if cam["thumb"]:
            tile = cv2.imdecode(np.frombuffer(cam["thumb"], np.uint8), cv2.IMREAD_COLOR)
        if tile is not None:
            img[y:y + TILE_H, x:x + TILE_W] = cv2.resize(tile, (TILE_W, TILE_H), interpolation=cv2.INTER_AREA)
        else:
            cv2.putText(img, "no picture", (x + 70, y + 76), cv2.FONT_HERSHEY_SIMPLEX, 0.6, GREY, 1)
        colour = GREEN if cam["ok"] else RED if cam["ok"] is False else GREY
        cv2.rectangle(img, (x - 3, y - 3), (x + TILE_W + 2, y + TILE_H + LABEL_H), colour, 3)
        status = "OK" if cam["ok"] else "?"
        if cam["ok"] is False:
            status = ("FAULT " + ",".join(cam["reasons"]))[:34]
        cv2.putText(img, f"{cam['node']}/{cam['device']}"[:34], (x + 2, y + TILE_H + 15),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(img, f"{status}  {clock(cam['checked'], data.tz)}", (x + 2, y + TILE_H + 33),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45, colour, 1, cv2.LINE_AA)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


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
