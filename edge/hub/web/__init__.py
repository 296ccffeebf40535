"""The campus console: a web UI served by the hub (issue #10).

``start_console(hub, cfg)`` is the one call the hub makes: it opens the accounts and audit tables in the
hub's database, the readings backend named by ``readings:``, registers the live-update listener and starts
uvicorn on ``web.host:web.port`` in a thread. The console is a client of the hub's journal and of
``Hub.command``: it owns no MQTT client and decides nothing the journal decides.
"""

from __future__ import annotations

import secrets
from typing import Any

from edge.hub.audit import Audit
from edge.hub.readings import open_readings
from edge.hub.users import Users
from edge.hub.web.app import Console, create_app
from edge.hub.web.server import ConsoleServer
from edge.i18n import DEFAULT_LANGUAGE, zone

__all__ = ["Console", "ConsoleServer", "create_app", "start_console", "session_secret"]


def session_secret(users: Users) -> str:
    """The key that signs session cookies, made once and kept in the hub's database (sessions survive a
    restart; deleting the row logs everybody out)."""
    key = users.db.get("console", "session_secret")
    if not key:
        key = secrets.token_urlsafe(48)
        users.db.put("console", "session_secret", key)
    return key


def build_console(hub: Any, cfg: dict[str, Any]) -> tuple[Console, Any]:
    web = cfg.get("web") or {}
    users = Users(cfg["storage"]["path"])
    console = Console(hub=hub, users=users, audit=Audit(users.db),
                      readings=open_readings(cfg.get("readings"), cfg.get("timezone")),
                      tz=zone(cfg.get("timezone")), language=cfg.get("language") or DEFAULT_LANGUAGE,
                      school_hours=(cfg.get("readings") or {}).get("school_hours") or "07:00-18:00",
                      command_timeout=float(web.get("command_timeout_seconds") or 10.0))
    app = create_app(console, session_secret(users), secure_cookies=bool(web.get("secure_cookies")),
                     session_hours=float(web.get("session_hours") or 12.0))
    return console, app


def start_console(hub: Any, cfg: dict[str, Any]) -> ConsoleServer:
    console, app = build_console(hub, cfg)
    web = cfg.get("web") or {}
    server = ConsoleServer(app, web.get("host", "127.0.0.1"), int(web.get("port", 8080)),
                           on_stop=console.close)
    server.console = console  # type: ignore[attr-defined]
    try:
        server.start()
    except OSError:
        console.close()
        raise
    hub.add_listener(lambda kind, what: console.broadcaster.publish((kind, what)))  # only enqueues
    return server
