"""The console's web application: Starlette routes over the hub's journal, commands and node views.

Every route but the log-in page and the static assets goes through ``guard``: no session, a page is
redirected to /login and anything else gets 401; a role without the right gets 403; a state-changing
request without the session's CSRF token gets 403. The server decides; hidden buttons are only manners.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from edge.hub.model import STATES, Alert, outcomes_for
from edge.hub.readings import parse_hours
from edge.hub.users import ROLES, UserError
from edge.hub.web import views
from edge.hub.web.auth import new_token, same_token
from edge.hub.web.base import (  # noqa: F401 (re-exported: tests and feature modules use them)
    HERE,
    HOME,
    SESSION_COOKIE,
    SWITCH_ACTIONS,
    Console,
    _after_post,
    _esc,
    client_ip,
    csrf_ok,
    csrf_token,
    error,
    guard,
    language,
    render,
    role_text,
    safe_next,
    templates,
    wants_html,
)
from edge.hub.web.sse import frame
from edge.i18n import LANGUAGES, stamp, text

log = logging.getLogger(__name__)

async def login_page(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "login.html", next=safe_next(request.query_params.get("next"), ""))
    console: Console = request.app.state.console
    lang = language(request, None, console)
    form = await request.form()
    csrf = form.get("csrf")
    if not same_token(csrf if isinstance(csrf, str) else None, request.session.get("csrf")):
        return render(request, "login.html", 403, message=text("console.csrf", lang), next="")
    name, password = str(form.get("name", "")).strip(), str(form.get("password", ""))
    ip = client_ip(request)
    wait = console.throttle.locked_for(name, ip)
    if wait > 0:
        console.audit.record(name, ip, "login_locked", name)
        return render(request, "login.html", 429, next="",
                      message=text("console.login.locked", lang, minutes=max(1, round(wait / 60))))
    user = await run_in_threadpool(console.users.verify, name, password)  # argon2 takes ~50 ms
    if user is None:
        locked = console.throttle.failed(name, ip)
        console.audit.record(name, ip, "login_failed", name)
        msg = (text("console.login.locked", lang, minutes=max(1, round(console.throttle.lockout_s / 60)))
               if locked else text("console.login.failed", lang))
        return render(request, "login.html", 429 if locked else 401, message=msg, next="")
    console.throttle.succeeded(name, ip)
    console.audit.record(user.name, ip, "login", user.name)
    keep_lang = request.session.get("lang")
    request.session.clear()  # a fresh session (and CSRF token) for the logged-in user
    request.session.update({"user": user.name, "csrf": new_token()})
    if keep_lang:
        request.session["lang"] = keep_lang
    return RedirectResponse(safe_next(str(form.get("next", "")), HOME.get(user.role, "/alerts")), 303)


@guard(None)
async def logout(request: Request) -> Response:
    request.session.clear()
    return RedirectResponse("/login", 303)


@guard(None)
async def home(request: Request) -> Response:
    return RedirectResponse(HOME.get(request.state.user.role, "/alerts"), 303)


# -- gate ------------------------------------------------------------------------------------------------


def _views(console: Console, alerts: list[Alert], lang: str) -> list[dict[str, Any]]:
    return [views.alert_view(a, lang, console.tz, console.hub.journal.actions(a.id)) for a in alerts]


def _open_gate_alerts(console: Console) -> list[Alert]:
    """Gate alerts of the last day not closed yet (new or acknowledged), newest first."""
    return console.hub.journal.alerts(types=list(views.GATE_TYPES), state=list(STATES[:-1]),
                                      since_ms=console.now_ms() - 24 * 3_600_000, limit=200)


def _gate_data(console: Console) -> dict[str, Any]:
    return {"counters": views.gate_counters(console.hub.journal, console.now_ms(), console.tz)}


@guard("gate")
async def gate(request: Request) -> Response:
    console: Console = request.app.state.console
    lang = request.state.lang
    alerts = await run_in_threadpool(_open_gate_alerts, console)
    data = await run_in_threadpool(_gate_data, console)
    return render(request, "gate.html", alerts=_views(console, alerts, lang), counters=data["counters"],
                  cameras=views.cameras(console.hub.nodes(), lang),
                  today=stamp(console.now_ms(), console.tz)[:10], next="/gate")


@guard("gate")
async def gate_cards(request: Request) -> Response:
    """The open alerts' cards alone: a page (re)connecting its live stream catches up with this, so an
    alert that arrived between the page's rendering and the stream's start is not missed."""
    console: Console = request.app.state.console
    alerts = await run_in_threadpool(_open_gate_alerts, console)
    cards = await run_in_threadpool(_views, console, alerts, request.state.lang)
    t = request_texts(request)
    card = templates.get_template("_alert.html")
    html = "".join(card.render(a=v, t=t, csrf=csrf_token(request), next="/gate") for v in cards)
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


def request_texts(request: Request) -> Callable[..., str]:
    lang = request.state.lang

    def t(key: str, **fields: Any) -> str:
        return text(key, lang, **fields)

    return t


@guard("gate")
async def gate_status(request: Request) -> Response:
    data = await run_in_threadpool(_gate_data, request.app.state.console)
    return JSONResponse({"counters": data["counters"]})


@guard("acknowledge")
async def acknowledge(request: Request) -> Response:
    console: Console = request.app.state.console
    alert_id = int(request.path_params["id"])
    form = await request.form()
    try:
        await run_in_threadpool(console.hub.journal.acknowledge, alert_id, request.state.user.name,
                                console.now_ms())
    except (KeyError, ValueError) as exc:
        log.info("console: acknowledge %s refused: %s", alert_id, exc)
        return _after_post(request, form, text("console.alert.already", request.state.lang), 409)
    return _after_post(request, form)


@guard("acknowledge")
async def close_alert(request: Request) -> Response:
    console: Console = request.app.state.console
    lang = request.state.lang
    alert_id = int(request.path_params["id"])
    form = await request.form()
    alert = await run_in_threadpool(console.hub.journal.get, alert_id)
    if alert is None:
        return error(request, 404, text("console.not_found", lang))
    outcome = str(form.get("outcome", ""))
    if outcome not in outcomes_for(alert.type):
        return _after_post(request, form, text("console.alert.bad_outcome", lang), 400)
    reading: float | None = None
    raw = str(form.get("reading_c", "")).strip().replace(",", ".")
    if raw:
        try:
            reading = float(raw)
        except ValueError:
            reading = -1.0
        if not 30.0 <= reading <= 45.0:
            return _after_post(request, form, text("console.alert.bad_reading", lang), 400)
    try:
        await run_in_threadpool(lambda: console.hub.journal.close(
            alert_id, request.state.user.name, console.now_ms(), outcome, reading_c=reading,
            note=str(form.get("note", ""))[:500]))
    except (KeyError, ValueError) as exc:
        log.info("console: close %s refused: %s", alert_id, exc)
        return _after_post(request, form, text("console.alert.already", lang), 409)
    return _after_post(request, form)


@guard("alerts")
async def snapshot(request: Request) -> Response:
    console: Console = request.app.state.console
    png = await run_in_threadpool(console.hub.journal.snapshot, int(request.path_params["id"]))
    if not png:
        return error(request, 404, text("console.not_found", request.state.lang))
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"})


# -- appliances -----------------------------------------------------------------------------------------


@guard("appliances")
async def appliances(request: Request) -> Response:
    console: Console = request.app.state.console
    lang = request.state.lang
    rooms, groups = views.relays(await run_in_threadpool(console.hub.nodes), lang)
    names = {f"{r['site']}/{r['node']}/{r['device']}": r["name"] for room in rooms for r in room["relays"]}
    log_rows = [{"time": stamp(e.ts_ms, console.tz), "user": e.user,
                 "target": f"{names[e.target]} ({e.target})" if e.target in names else e.target,
                 "action": (text(f"console.appl.{e.detail['action']}", lang)
                            if e.detail.get("action") in ("on", "off") else e.detail.get("action", "")),
                 "result": result_text(e.result, lang)}
                for e in console.audit.entries(("switch", "switch_group"), limit=50)]
    return render(request, "appliances.html", rooms=rooms, groups=groups, audit=log_rows,
                  may_switch=request.state.user.may("switch"))


def result_text(result: str | None, lang: str) -> str:
    if result is None:
        return text("console.appl.pending", lang)
    if result == "ok":
        return text("console.appl.ok", lang)
    if result == "timeout":
        return text("console.appl.timeout", lang)
    if result == "refused: not connected to the broker":  # the hub's own answer, not the device's
        return text("console.appl.hub_offline", lang)
    if result.startswith("ok "):
        ok, total = result[3:].split("/")
        return text("console.appl.group_result", lang, ok=ok, total=total)
    return text("console.appl.refused", lang, error=result.removeprefix("refused: "))


def reply_result(reply: dict[str, Any]) -> str:
    if reply.get("ok"):
        return "ok"
    if reply.get("error") == "timeout":
        return "timeout"
    return f"refused: {reply.get('error', '?')}"


async def _json_body(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


@guard("switch")
async def switch(request: Request) -> Response:
    console: Console = request.app.state.console
    lang, user = request.state.lang, request.state.user
    body = await _json_body(request)
    if body is None or body.get("action") not in SWITCH_ACTIONS:
        return JSONResponse({"ok": False, "error": text("console.bad_request", lang, reason="action")}, 400)
    site, node, device = (str(body.get(k, "")) for k in ("site", "node", "device"))
    if views.find_relay(await run_in_threadpool(console.hub.nodes), site, node, device) is None:
        return JSONResponse({"ok": False, "error": text("console.not_found", lang)}, 404)
    entry = console.audit.record(user.name, client_ip(request), "switch", f"{site}/{node}/{device}",
                                 {"action": body["action"]})
    reply = await run_in_threadpool(lambda: console.hub.command(
        site, node, device, body["action"], timeout=console.command_timeout, by=user.name))
    result = reply_result(reply)
    console.audit.complete(entry, result)
    return JSONResponse({"ok": bool(reply.get("ok")), "result": result, "reply": reply,
                         "message": result_text(result, lang)})


@guard("switch")
async def switch_group(request: Request) -> Response:
    console: Console = request.app.state.console
    lang, user = request.state.lang, request.state.user
    body = await _json_body(request)
    if body is None or body.get("action") not in SWITCH_ACTIONS or not body.get("group"):
        return JSONResponse({"ok": False, "error": text("console.bad_request", lang, reason="group")}, 400)
    site, group = str(body.get("site", "")), str(body["group"])
    entry = console.audit.record(user.name, client_ip(request), "switch_group", f"{site}/group/{group}",
                                 {"action": body["action"]})
    # the group's members as the hub knows them: the answer comes once they all replied, and a member
    # that never answered counts as not done
    expected = sum(1 for room in views.relays(await run_in_threadpool(console.hub.nodes), lang)[0]
                   if room["site"] == site for r in room["relays"] if group in r["groups"])
    replies = await run_in_threadpool(lambda: console.hub.command_group(
        site, group, body["action"], timeout=console.command_timeout, by=user.name, members=expected))
    items = group_replies(replies)
    ok = sum(1 for r in items if r.get("ok"))
    total = max(expected, len(items))
    result = f"ok {ok}/{total}" if items else "timeout"
    console.audit.complete(entry, result)
    return JSONResponse({"ok": bool(items) and ok == total, "result": result, "replies": items,
                         "message": result_text(result, lang)})


def group_replies(replies: Any) -> list[dict[str, Any]]:
    """The hub's group answer as a list of replies (it may key them by device)."""
    if isinstance(replies, dict) and "ok" in replies and not isinstance(replies.get("ok"), dict):
        return [replies]
    if isinstance(replies, dict):
        return [{"device": k, **v} for k, v in replies.items()]
    return list(replies or [])


# -- meters ------------------------------------------------------------------------------------------------


def _meters_data(console: Console, selected: str | None) -> dict[str, Any]:
    ms = views.meters(console.hub.nodes())
    out: dict[str, Any] = {"meters": ms, "summaries": [], "buildings": [], "ranking": [], "charts": None,
                           "selected": None, "error": None}
    if console.readings is None or not ms:
        return out
    now = console.now_ms()
    try:
        out["summaries"] = [views.meter_summary(console.readings, m, now, console.tz) for m in ms]
        out["buildings"] = views.building_totals(out["summaries"])
        out["ranking"] = views.after_hours_ranking(console.readings, ms, now, console.tz,
                                                   parse_hours(console.school_hours))
        key, name, members = views.chart_selection(ms, selected)
        out["selected"] = {"key": key, "name": name}
        out["charts"] = views.meter_charts(console.readings, members, now, console.tz)
    except Exception as exc:  # a missing or locked database: say so on the page
        log.warning("console: readings unavailable: %s", exc)
        out["error"] = str(exc)
    return out


@guard("meters")
async def meters(request: Request) -> Response:
    console: Console = request.app.state.console
    lang = request.state.lang
    data = await run_in_threadpool(_meters_data, console, request.query_params.get("m"))
    alerts = await run_in_threadpool(lambda: console.hub.journal.alerts(
        types=list(views.METER_TYPES), since_ms=console.now_ms() - 31 * 86_400_000, limit=50))
    return render(request, "meters.html", **data, configured=console.readings is not None,
                  alerts=_views(console, alerts, lang), fmt=views.number, school_hours=console.school_hours,
                  charts_json=json.dumps(data["charts"]) if data["charts"] else "null")


# -- nodes, alerts, users ----------------------------------------------------------------------------------


@guard("nodes")
async def nodes(request: Request) -> Response:
    console: Console = request.app.state.console
    ns = await run_in_threadpool(console.hub.nodes)
    lang = request.state.lang
    return render(request, "nodes.html", nodes=[views.node_view(n, lang, console.tz) for n in ns])


def _filters(request: Request, console: Console) -> dict[str, Any]:
    q = request.query_params
    kw: dict[str, Any] = {}
    if q.get("type"):
        kw["types"] = [q["type"]]
    if q.get("state") in STATES:
        kw["state"] = q["state"]
    for key in ("site", "node", "device"):
        if q.get(key):
            kw[key] = q[key]
    place = (q.get("place") or "").split("/")
    if len(place) in (2, 3) and all(place):  # site/node (the node itself) or site/node/device
        kw["site"], kw["node"] = place[0], place[1]
        kw["device"] = place[2] if len(place) == 3 else ""
    try:
        start = date.fromisoformat(q["from"]) if q.get("from") else None
        end = date.fromisoformat(q["to"]) if q.get("to") else None
    except ValueError:
        start = end = None
    since, until = views.day_range(start, end, console.tz)
    if since is not None:
        kw["since_ms"] = since
    if until is not None:
        kw["until_ms"] = until
    return kw


PAGE = 100


@guard("alerts")
async def alerts(request: Request) -> Response:
    console: Console = request.app.state.console
    lang = request.state.lang
    offset = max(0, int(request.query_params.get("offset", "0") or 0))
    kw = _filters(request, console)
    rows = await run_in_threadpool(lambda: console.hub.journal.alerts(**kw, limit=PAGE + 1, offset=offset))
    types = sorted({*views.GATE_TYPES, *views.METER_TYPES, "meter_offline", "camera_offline", "node_offline",
                    *(a.type for a in rows)})
    more = len(rows) > PAGE
    q = dict(request.query_params)
    places = [(f"{n['site']}/{n['node']}/{views.device_id(d)}", f"{n['node']} · {d.get('name') or d['id']}")
              for n in await run_in_threadpool(console.hub.nodes) for d in views.devices_of(n)]
    return render(request, "alerts.html", alerts=_views(console, rows[:PAGE], lang), q=q, places=places,
                  types=[(t, views.title(t, lang)) for t in types],
                  states=[(s, text(f"state.{s}", lang)) for s in STATES],
                  csv_url="/alerts.csv?" + urlencode({k: v for k, v in q.items() if k != "offset"}),
                  more_url=("/alerts?" + urlencode({**q, "offset": offset + PAGE})) if more else None)


@guard("alerts")
async def alerts_csv(request: Request) -> Response:
    console: Console = request.app.state.console
    kw = _filters(request, console)
    rows = await run_in_threadpool(lambda: console.hub.journal.alerts(**kw, limit=100_000))
    body = views.alerts_csv(_views(console, rows, request.state.lang), request.state.lang)
    name = f"alerts-{stamp(console.now_ms(), console.tz)[:10]}.csv"
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@guard("users")
async def users_page(request: Request) -> Response:
    console: Console = request.app.state.console
    lang = request.state.lang
    message = ""
    if request.method == "POST":
        form = await request.form()
        try:
            u = console.users.add(str(form.get("name", "")).strip(), str(form.get("role", "")),
                                  str(form.get("password", "")))
            console.audit.record(request.state.user.name, client_ip(request), "user_added", u.name,
                                 {"role": u.role})
            message = text("console.users.added", lang, name=u.name)
        except UserError as exc:
            message = text("console.users.error", lang, error=str(exc))
    return render(request, "users.html", users=[(u, role_text(u.role, lang)) for u in console.users.all()],
                  roles=[(r, role_text(r, lang)) for r in ROLES], message=message)


@guard("users")
async def user_remove(request: Request) -> Response:
    console: Console = request.app.state.console
    name = request.path_params["name"]
    if name != request.state.user.name and console.users.remove(name):
        console.audit.record(request.state.user.name, client_ip(request), "user_removed", name)
    return RedirectResponse("/users", 303)


# -- live updates ------------------------------------------------------------------------------------------


def live_item(item: Any) -> dict[str, Any] | None:
    """The hub's listener call (kind, what) as {"kind": ...}: ("alert", Alert) for a new or changed alert,
    ("state", {site, node, device, state}) and ("status", {site, node, online, ts_ms})."""
    if not (isinstance(item, tuple) and len(item) == 2):
        return None
    kind, what = item
    if kind == "alert" and isinstance(what, Alert):
        return {"kind": "alert", "alert": what}
    if kind in ("state", "status") and isinstance(what, dict):
        return {**what, "kind": kind}
    return None


KEEPALIVE_S = 15.0
MAX_BODY_BYTES = 8 * 1024 * 1024  # a request body; a repair photo (5 MB) is the largest legitimate one


def render_live(raw: Any, console: Console, user: Any, lang: str, card: Any, csrf: str) -> str | None:
    """One live update as an SSE frame for this user, or None when it is not for their pages."""
    item = live_item(raw)
    if item is None:
        return None

    def t(key: str, **fields: Any) -> str:
        return text(key, lang, **fields)

    if item["kind"] == "alert":
        a: Alert = item["alert"]
        if not user.may("alerts"):
            return None
        v = views.alert_view(a, lang, console.tz, console.hub.journal.actions(a.id))
        html = card.render(a=v, t=t, csrf=csrf, next="/gate") if v["gate"] and user.may("gate") else ""
        return frame("alert", json.dumps({"id": v["id"], "type": v["type"], "state": v["state"],
                                          "gate": v["gate"], "title": v["title"], "html": html},
                                         ensure_ascii=False))
    if item["kind"] == "state" and not user.may("appliances"):
        return None  # relay states are for the pages that show them
    data = {k: v for k, v in item.items() if isinstance(v, str | int | float | bool | type(None) | dict)}
    if item["kind"] == "state" and isinstance(item.get("state"), dict):
        on = item["state"].get("on")
        if on is not None:
            data["text"] = t("console.appl.state_on" if on else "console.appl.state_off")
    if item["kind"] == "status":
        data["text"] = t("console.nodes.online" if item.get("online") else "console.nodes.offline")
    return frame(str(item["kind"]), json.dumps(data, ensure_ascii=False, default=str))


@guard(None)
async def events(request: Request) -> Response:
    console: Console = request.app.state.console
    user, lang = request.state.user, request.state.lang
    sub = console.broadcaster.add()
    card = templates.get_template("_alert.html")
    csrf = csrf_token(request)

    def render_item(raw: Any) -> str | None:
        return render_live(raw, console, user, lang, card, csrf)

    async def stream():
        try:
            yield "retry: 2000\n\n"
            while not sub.dropped:
                items = await sub.next_items(KEEPALIVE_S)
                if not items:
                    yield ": keep-alive\n\n"
                    continue
                for raw in items:
                    try:
                        out = await run_in_threadpool(render_item, raw)
                    except Exception:  # one bad item never ends a page's stream
                        log.exception("console: cannot render a live update")
                        continue
                    if out:
                        yield out
            yield frame("reload", "{}")  # fell behind: the page reloads its state from the journal
        finally:
            console.broadcaster.remove(sub)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


# -- the application ---------------------------------------------------------------------------------------


class SecurityHeaders:
    """Pure ASGI middleware (streams pass through untouched): no framing, no sniffing, no outside content."""

    HEADERS = [(b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"same-origin"),
               (b"content-security-policy",
                b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                b"frame-ancestors 'none'; form-action 'self'")]

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + self.HEADERS
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """Pure ASGI middleware: a request body is refused before it is read when it states no size (chunked:
    browsers always state it for forms) or a size beyond ``max_bytes``, so no request makes the console
    buffer or spool more than that (a repair photo is the largest legitimate body)."""

    METHODS = {"POST", "PUT", "PATCH", "DELETE"}

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] in self.METHODS:
            headers = dict(scope["headers"])
            length = headers.get(b"content-length")
            chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
            if chunked or (length is None and scope["method"] != "DELETE"):
                return await self._refuse(send, 411, "console.body.length_required")
            if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
                return await self._refuse(send, 413, "console.body.too_large")
        await self.app(scope, receive, send)

    async def _refuse(self, send: Any, status: int, key: str) -> None:
        mb = f"{self.max_bytes / (1024 * 1024):g}"
        body = " / ".join(text(key, lang, mb=mb) for lang in LANGUAGES).encode()
        await send({"type": "http.response.start", "status": status, "headers": [
            (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def upkeep_routes() -> list[Route]:
    from edge.hub.web.upkeep_pages import ROUTES  # imports this module: loaded once the app is built

    return ROUTES


def create_app(console: Console, secret_key: str, secure_cookies: bool = False,
               session_hours: float = 12.0) -> Starlette:
    routes = [
        Route("/login", login_page, methods=["GET", "POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", home),
        Route("/gate", gate),
        Route("/api/gate", gate_status),
        Route("/api/gate/cards", gate_cards),
        Route("/alerts/{id:int}/acknowledge", acknowledge, methods=["POST"]),
        Route("/alerts/{id:int}/close", close_alert, methods=["POST"]),
        Route("/alerts/{id:int}/snapshot.png", snapshot),
        Route("/appliances", appliances),
        Route("/api/switch", switch, methods=["POST"]),
        Route("/api/switch-group", switch_group, methods=["POST"]),
        Route("/meters", meters),
        Route("/nodes", nodes),
        Route("/alerts", alerts),
        Route("/alerts.csv", alerts_csv),
        Route("/users", users_page, methods=["GET", "POST"]),
        Route("/users/{name}/remove", user_remove, methods=["POST"]),
        Route("/events", events),
        *upkeep_routes(),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[
        Middleware(SecurityHeaders),
        Middleware(BodyLimit, max_bytes=MAX_BODY_BYTES),
        Middleware(SessionMiddleware, secret_key=secret_key, session_cookie=SESSION_COOKIE,
                   max_age=int(session_hours * 3600), same_site="strict", https_only=secure_cookies),
    ])
    app.state.console = console
    return app


PUBLIC_PATHS = ("/login", "/static/")  # the only routes reachable without a session (tests check)
