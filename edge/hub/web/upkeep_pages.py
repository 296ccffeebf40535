"""The console's maintenance and repairs pages (issue #14): thin routes over edge.hub.upkeep.service.

They call the same functions as the CLI (``record_service``, ``add_repair``, ``step_repair``), with the
logged-in user as "by", so a service recorded here resets the same counters and closes the same alerts.
Rights (edge/hub/users.py): ``repairs`` (any staff) may see and report repairs; ``upkeep`` (logistics,
admin) sees maintenance, records services and accepts, fixes or defers repairs.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from edge.hub.journal import LifecycleError
from edge.hub.upkeep import service
from edge.hub.upkeep.report import duration
from edge.hub.web.base import Console, _after_post, error, guard, render
from edge.i18n import stamp, text

log = logging.getLogger("campus-edge.hub.web")

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_TYPES = {b"\x89PNG\r\n\x1a\n": ".png", b"\xff\xd8\xff": ".jpg"}  # magic bytes, not the file name
STEPS = ("accept", "fix", "defer")


def _num(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.1f}"


def _minute(ts: int | None, console: Console) -> str:
    return stamp(ts, console.tz)[:16] if ts else ""


def task_rows(item: dict[str, Any], lang: str, console: Console) -> list[dict[str, Any]]:
    """One task of ``maintenance_view`` as the page shows it: used, left, state, last service."""
    rows = []
    for t in item["tasks"]:
        st = t["status"]
        used = []
        if st.litres is not None:
            used.append(text("console.mt.litres", lang, n=_num(st.litres)))
        if st.on_hours is not None:
            used.append(text("console.mt.hours", lang, n=_num(st.on_hours)))
        used.append(text("console.mt.days", lang, n=f"{st.days:.0f}"))
        left = []
        if st.litres_left is not None:
            left.append(text("console.mt.left_litres", lang, n=_num(max(0.0, st.litres_left))))
        if st.on_hours_left is not None:
            left.append(text("console.mt.left_hours", lang, n=_num(max(0.0, st.on_hours_left))))
        if st.due_date_ms is not None:
            left.append(text("console.mt.by_date", lang, date=stamp(st.due_date_ms, console.tz)[:10]))
        last = (f"{_minute(t['last_service_ms'], console)} {t['last_service_by']}" if t["last_service_ms"]
                else text("console.mt.never", lang))
        rows.append({"id": t["id"], "name": t["name"], "due": st.due, "used": " · ".join(used),
                     "left": " · ".join(left) or "-", "last": last,
                     "state": text("console.mt.overdue", lang, why=service.reasons_text(t["task"], st, lang))
                     if st.due
                     else text("console.mt.ok", lang)})
    return rows


@guard("upkeep")
async def maintenance(request: Request) -> Response:
    console: Console = request.app.state.console
    lang = request.state.lang
    view = await run_in_threadpool(service.maintenance_view, console.hub.journal, console.hub.cfg, console.tz,
                                   console.now_ms())
    items = [{"id": i["id"], "name": i["name"], "due": any(t["status"].due for t in i["tasks"]),
              "tasks": task_rows(i, lang, console)} for i in view]
    items.sort(key=lambda i: not i["due"])  # overdue first; config order otherwise
    return render(request, "maintenance.html", items=items)


@guard("upkeep")
async def record(request: Request) -> Response:
    console: Console = request.app.state.console
    lang = request.state.lang
    form = await request.form()
    item, task = request.path_params["item"], request.path_params["task"]
    try:
        done = await run_in_threadpool(lambda: service.record_service(
            console.hub.journal, console.hub.cfg, item, task, request.state.user.name,
            note=str(form.get("note", ""))[:500], parts=str(form.get("parts", ""))[:500],
            now=console.now_ms()))
    except LifecycleError as exc:
        return _after_post(request, {"next": "/maintenance"}, text("console.mt.error", lang, error=str(exc)),
                           400)
    _, t = service.find(console.hub.cfg, item, task)
    log.info("console: %s recorded service %d of %s/%s", request.state.user.name, done["id"], item, task)
    return _flash(request, "/maintenance", text("console.mt.saved", lang, task=service.task_name(t or {})))


def _flash(request: Request, target: str, message: str) -> Response:
    """Success: back to the page with a note (fetch() callers get JSON)."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": True, "message": message})
    return RedirectResponse(f"{target}?{urlencode({'msg': message})}", 303)


def repair_rows(rows: list[dict[str, Any]], lang: str, console: Console) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        times = []
        if r["accepted_ms"]:
            times.append(text("console.rp.accepted_at", lang, time=_minute(r["accepted_ms"], console),
                              by=r["accepted_by"] or ""))
        if r["deferred_ms"]:
            times.append(text("console.rp.deferred_at", lang, time=_minute(r["deferred_ms"], console),
                              by=r["deferred_by"] or ""))
        if r["fixed_ms"]:
            times.append(text("console.rp.fixed_at", lang, time=_minute(r["fixed_ms"], console),
                              by=r["fixed_by"] or ""))
        if r["recovered_ms"]:
            times.append(text("console.rp.recovered_at", lang, time=_minute(r["recovered_ms"], console)))
        resp, fix = service.response_ms(r), service.repair_ms(r)
        out.append({**r, "state_text": text(f"upkeep.repair.state.{r['state']}", lang),
                    "reported": _minute(r["reported_ms"], console), "times": times,
                    "deferral": (text("upkeep.repair.deferred", lang, reason=r["reason"] or "",
                                      date=r["expected_date"] or "")
                                 if r["state"] == "deferred" else ""),
                    "response": duration(resp, lang) if resp is not None else "-",
                    "repair": duration(fix, lang) if fix is not None else "-",
                    "steps": [s for s in STEPS if r["state"] in service.ALLOWED[s]]})
    return out


@guard("repairs")
async def repairs(request: Request) -> Response:
    console: Console = request.app.state.console
    lang = request.state.lang
    which = "open" if request.query_params.get("state") == "open" else None
    rows = await run_in_threadpool(service.repairs, console.hub.journal, which)
    rows = rows[::-1][:300]  # newest first
    return render(request, "repairs.html", repairs=repair_rows(rows, lang, console), which=which,
                  may_step=request.state.user.may("upkeep"), photo_mb=PHOTO_MAX_BYTES // (1024 * 1024))


async def _read_photo(upload: UploadFile) -> tuple[bytes | None, str | None]:
    """(bytes, suffix), or (None, None) for no photo; raises ValueError("type"/"size") for a bad one."""
    data = await upload.read(PHOTO_MAX_BYTES + 1)
    if not data:
        return None, None
    if len(data) > PHOTO_MAX_BYTES:
        raise ValueError("size")
    for magic, suffix in PHOTO_TYPES.items():
        if data.startswith(magic):
            return data, suffix
    raise ValueError("type")


def _add_repair(console: Console, place: str, description: str, by: str, photo: bytes | None,
                suffix: str | None) -> dict[str, Any]:
    if photo is None:
        return service.add_repair(console.hub.journal, console.hub.cfg, place, description, by,
                                  now=console.now_ms())
    # add_repair keeps a copy in upkeep-photos/ beside the journal, exactly as the CLI's --photo does
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(photo)
        return service.add_repair(console.hub.journal, console.hub.cfg, place, description, by, photo=path,
                                  now=console.now_ms())


@guard("repairs")
async def report_repair(request: Request) -> Response:
    console: Console = request.app.state.console
    lang = request.state.lang
    mb = PHOTO_MAX_BYTES // (1024 * 1024)
    back = {"next": "/repairs"}
    if int(request.headers.get("content-length") or 0) > PHOTO_MAX_BYTES + 64 * 1024:
        return _after_post(request, back, text("console.rp.too_big", lang, mb=mb), 413)
    form = await request.form()
    photo, suffix = None, None
    upload = form.get("photo")
    if isinstance(upload, UploadFile):
        try:
            photo, suffix = await _read_photo(upload)
        except ValueError as exc:
            if str(exc) == "size":
                return _after_post(request, back, text("console.rp.too_big", lang, mb=mb), 413)
            return _after_post(request, back, text("console.rp.bad_photo", lang), 415)
    try:
        r = await run_in_threadpool(_add_repair, console, str(form.get("place", "")),
                                    str(form.get("description", "")), request.state.user.name, photo, suffix)
    except LifecycleError as exc:
        return _after_post(request, back, text("console.rp.error", lang, error=str(exc)), 400)
    log.info("console: %s reported repair %d", request.state.user.name, r["id"])
    return _flash(request, "/repairs", text("console.rp.reported", lang, id=r["id"]))


@guard("upkeep")
async def step(request: Request) -> Response:
    console: Console = request.app.state.console
    lang = request.state.lang
    rid, action = int(request.path_params["id"]), request.path_params["action"]
    if action not in STEPS:
        return error(request, 404, text("console.not_found", lang))
    form = await request.form()
    back = {"next": "/repairs"}
    try:
        r = await run_in_threadpool(lambda: service.step_repair(
            console.hub.journal, rid, action, request.state.user.name, reason=str(form.get("reason", "")),
            expected_date=str(form.get("expected_date", "")) or None, note=str(form.get("note", ""))[:500],
            now=console.now_ms(), cfg=console.hub.cfg))
    except LifecycleError as exc:
        return _after_post(request, back, text("console.rp.error", lang, error=str(exc)), 409)
    log.info("console: %s: repair %d %s", request.state.user.name, rid, action)
    return _flash(request, "/repairs", text("console.rp.done", lang, id=rid,
                                            state=text(f"upkeep.repair.state.{r['state']}", lang)))


@guard("repairs")
async def repair_photo(request: Request) -> Response:
    console: Console = request.app.state.console
    try:
        r = await run_in_threadpool(service.get_repair, console.hub.journal, int(request.path_params["id"]))
    except LifecycleError:
        r = None
    root = (console.hub.journal.dir / "upkeep-photos").resolve()
    path = (console.hub.journal.dir / r["photo"]).resolve() if r and r["photo"] else None
    if path is None or root not in path.parents or not path.is_file():  # only files upkeep kept there
        return error(request, 404, text("console.not_found", request.state.lang))
    media = "image/png" if path.suffix == ".png" else "image/jpeg"
    return FileResponse(path, media_type=media, headers={"Cache-Control": "private, max-age=86400"})


ROUTES = [
    Route("/maintenance", maintenance),
    Route("/maintenance/{item}/{task}/service", record, methods=["POST"]),
    Route("/repairs", repairs),
    Route("/repairs/report", report_repair, methods=["POST"]),
    Route("/repairs/{id:int}/photo", repair_photo),
    Route("/repairs/{id:int}/{action}", step, methods=["POST"]),
]
