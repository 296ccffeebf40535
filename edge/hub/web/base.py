"""What every console page shares: the Console services, sessions and roles (guard), CSRF, texts and
rendering. Routes live in app.py and in feature modules (upkeep_pages.py) that import this, not app.py."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.templating import Jinja2Templates

from edge.hub.audit import Audit
from edge.hub.readings import Readings
from edge.hub.users import User, Users
from edge.hub.web.auth import LoginThrottle, new_token, same_token
from edge.hub.web.sse import Broadcaster
from edge.i18n import DEFAULT_LANGUAGE, LANGUAGES, text

log = logging.getLogger(__name__)


HERE = Path(__file__).parent
SESSION_COOKIE = "campus_console"
SWITCH_ACTIONS = ("on", "off", "toggle")
HOME = {"duty": "/gate", "logistics": "/appliances", "admin": "/gate"}


@dataclass
class Console:
    """Everything the routes need; built once by create_app."""

    hub: Any
    users: Users
    audit: Audit
    readings: Readings | None
    tz: tzinfo | None
    language: str = DEFAULT_LANGUAGE
    school_hours: str = "07:00-18:00"
    command_timeout: float = 10.0
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    broadcaster: Broadcaster = field(default_factory=Broadcaster)
    clock: Callable[[], float] = time.time

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def close(self) -> None:
        if self.readings is not None:
            self.readings.close()
        self.users.close()


# -- request helpers -----------------------------------------------------------------------------------


def client_ip(request: Request) -> str:
    # uvicorn already replaces this with X-Forwarded-For when the peer is a trusted proxy (docs/console.md)
    return request.client.host if request.client else "?"


def language(request: Request, user: User | None, console: Console) -> str:
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        request.session["lang"] = asked
        return asked
    return request.session.get("lang") or (user.language if user else None) or console.language


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = new_token()
    return token


async def csrf_ok(request: Request) -> bool:
    sent = request.headers.get("x-csrf-token")
    if not sent and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        field = (await request.form()).get("csrf")
        sent = field if isinstance(field, str) else None
    return same_token(sent, request.session.get("csrf"))


def wants_html(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


def guard(right: str | None) -> Callable:
    """Route decorator: a logged-in user with ``right`` (None: any role), CSRF on state changes."""

    def wrap(endpoint: Callable[..., Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        @wraps(endpoint)
        async def inner(request: Request) -> Response:
            console: Console = request.app.state.console
            name = request.session.get("user")
            user = console.users.get(name) if name else None  # a removed user loses access at once
            if user is None:
                request.session.pop("user", None)
                if wants_html(request):
                    return RedirectResponse("/login?" + urlencode({"next": request.url.path}), 303)
                return JSONResponse({"ok": False, "error": "login required"}, 401)
            lang = language(request, user, console)
            if right and not user.may(right):
                return error(request, 403, text("console.forbidden", lang, role=role_text(user.role, lang)))
            if request.method not in ("GET", "HEAD") and not await csrf_ok(request):
                return error(request, 403, text("console.csrf", lang))
            request.state.user, request.state.lang = user, lang
            return await endpoint(request)

        return inner

    return wrap


def role_text(role: str, lang: str) -> str:
    return text(f"console.role.{role}", lang)


def error(request: Request, status: int, message: str) -> Response:
    if wants_html(request):
        return HTMLResponse(f"<!doctype html><meta charset=utf-8><title>{status}</title>"
                            f'<p>{_esc(message)}</p><p><a href="/">&larr;</a></p>', status)
    return JSONResponse({"ok": False, "error": message}, status)


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site (no //host, no scheme): no open redirect after log-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


# -- rendering -----------------------------------------------------------------------------------------

templates = Jinja2Templates(directory=str(HERE / "templates"))


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    lang = getattr(request.state, "lang", None) or language(request, None, request.app.state.console)
    user: User | None = getattr(request.state, "user", None)

    def t(key: str, **fields: Any) -> str:
        return text(key, lang, **fields)

    nav = []
    if user:
        for path, right, key in (("/gate", "gate", "gate"), ("/appliances", "appliances", "appliances"),
                                 ("/meters", "meters", "meters"), ("/nodes", "nodes", "nodes"),
                                 ("/alerts", "alerts", "alerts"), ("/maintenance", "upkeep", "maintenance"),
                                 ("/repairs", "repairs", "repairs"), ("/users", "users", "users")):
            if user.may(right):
                nav.append({"path": path, "label": t(f"console.nav.{key}"),
                            "current": request.url.path.startswith(path)})
    other = "en" if lang != "en" else "zh-CN"
    return templates.TemplateResponse(request, name, {
        "t": t, "lang": lang, "user": user, "nav": nav, "csrf": csrf_token(request),
        "role": role_text(user.role, lang) if user else "", "other_lang": other,
        "other_lang_url": request.url.path + "?" + urlencode({**request.query_params, "lang": other}),
        **ctx}, status_code=status)


# -- log-in ----------------------------------------------------------------------------------------------


def _after_post(request: Request, form: Any, message: str = "", status: int = 200) -> Response:
    """Forms come back to the page they were sent from; fetch() callers get JSON."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"ok": not message, "error": message or None}, status if message else 200)
    target = safe_next(str(form.get("next", "")), "/gate")
    if message:
        sep = "&" if "?" in target else "?"
        target += sep + urlencode({"msg": message})
    return RedirectResponse(target, 303)


