"""The console's doors, tried with plain HTTP against the running hub: nothing without a log-in, nothing
state-changing without the session's CSRF token, roles enforced by the server, log-ins throttled."""

from __future__ import annotations

import pytest
from starlette.routing import Mount, Route

from tests.edge.hub.web.support import CSRF, PASSWORDS

PUBLIC = {"/login"}


def concrete(path: str) -> str:
    return path.replace("{id:int}", "1").replace("{name}", "someone")


def test_every_route_refuses_a_request_without_a_session(run_console):
    rc = run_console()
    routes = [r for r in rc.server.app.routes if isinstance(r, Route)]
    assert len(routes) >= 15  # the table below really covers the app
    c = rc.client()
    for route in routes:
        if route.path in PUBLIC:
            continue
        for method in sorted(route.methods - {"HEAD"}):
            r = c.request(method, concrete(route.path), headers={"accept": "text/html"})
            if method == "GET":
                assert r.status_code == 303, (method, route.path)
                assert r.headers["location"].startswith("/login")
            else:
                assert r.status_code == 401, (method, route.path, r.status_code)
        r = c.request(sorted(route.methods - {"HEAD"})[0], concrete(route.path),
                      headers={"accept": "application/json"})
        assert r.status_code in (303, 401) and "东门" not in r.text
    # static assets are public, and served by the package itself (no CDN)
    assert c.get("/static/console.css").status_code == 200
    assert c.get("/static/vendor/uPlot.iife.min.js").status_code == 200
    assert [r for r in rc.server.app.routes if isinstance(r, Mount)][0].path == "/static"


def test_posts_without_the_csrf_token_are_refused(run_console):
    rc = run_console()
    c, token = rc.login("logistics")
    switch = {"site": "test-site", "node": "n", "device": "d", "action": "on"}
    for path, kw in (("/api/switch", {"json": switch}),
                     ("/api/switch-group", {"json": {"site": "test-site", "group": "g", "action": "off"}}),
                     ("/alerts/1/acknowledge", {"data": {}}),
                     ("/alerts/1/close", {"data": {"outcome": "cleared"}}),
                     ("/logout", {"data": {}})):
        r = c.post(path, **kw)
        assert r.status_code == 403, path
        r = c.post(path, headers={"x-csrf-token": "not-the-token"}, **kw)
        assert r.status_code == 403, path
    # the same session with its token gets through (the switch to an unknown device: 404, not 403)
    r = c.post("/api/switch", json={"site": "test-site", "node": "n", "device": "d", "action": "on"},
               headers={"x-csrf-token": token})
    assert r.status_code == 404
    assert c.get("/gate").status_code == 403  # logistics has no gate page
    # log-in itself needs the token of the log-in page's session
    fresh = rc.client()
    r = fresh.post("/login", data={"name": "duty", "password": PASSWORDS["duty"]})
    assert r.status_code == 403
    assert fresh.get("/gate").status_code == 401  # not logged in


def test_duty_may_not_switch_even_with_a_valid_token(run_console):
    rc = run_console()
    c, token = rc.login("duty")
    r = c.post("/api/switch", json={"site": "test-site", "node": "n", "device": "d", "action": "on"},
               headers={"x-csrf-token": token})
    assert r.status_code == 403
    r = c.post("/api/switch-group", json={"site": "test-site", "group": "g", "action": "on"},
               headers={"x-csrf-token": token})
    assert r.status_code == 403
    assert c.get("/users").status_code == 403
    assert [e.action for e in rc.console.audit.entries(("switch", "switch_group"))] == []


def test_session_cookie_flags_and_a_fresh_session_at_log_in(run_console):
    rc = run_console()
    c = rc.client()
    before = c.get("/login")
    token = CSRF.search(before.text).group(1)
    r = c.post("/login", data={"csrf": token, "name": "admin", "password": PASSWORDS["admin"]})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie
    after = CSRF.search(c.get("/users").text).group(1)
    assert after != token  # the token of the anonymous page is not the logged-in one
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in r.headers["content-security-policy"]


def test_secure_cookie_when_behind_tls(run_console):
    rc = run_console(web={"secure_cookies": True})
    c = rc.client()
    r = c.get("/login")
    assert "secure" in r.headers["set-cookie"].lower()


def test_wrong_passwords_lock_the_name_out_even_for_the_right_one(run_console):
    rc = run_console()
    c = rc.client()
    token = CSRF.search(c.get("/login").text).group(1)
    codes = [c.post("/login", data={"csrf": token, "name": "duty", "password": f"wrong-{i}"}).status_code
             for i in range(5)]
    assert codes == [401, 401, 401, 401, 429]
    r = c.post("/login", data={"csrf": token, "name": "duty", "password": PASSWORDS["duty"]})
    assert r.status_code == 429 and "分钟后再试" in r.text
    assert c.get("/gate").status_code == 401  # still not logged in
    # another account from the same address is not locked
    other, _ = rc.login("logistics")
    assert other.get("/appliances").status_code == 200
    assert [e.action for e in rc.console.audit.entries(("login_failed", "login_locked"))][:2] == [
        "login_locked", "login_failed"]


def test_log_in_does_not_redirect_off_site(run_console):
    rc = run_console()
    c = rc.client()
    token = CSRF.search(c.get("/login").text).group(1)
    r = c.post("/login", data={"csrf": token, "name": "duty", "password": PASSWORDS["duty"],
                               "next": "//evil.example/x"})
    assert r.headers["location"] == "/gate"


@pytest.mark.parametrize("role, allowed, refused", [
    ("duty", ["/gate", "/alerts", "/alerts.csv"], ["/appliances", "/meters", "/nodes", "/users"]),
    ("logistics", ["/appliances", "/meters", "/nodes", "/alerts"], ["/gate", "/users"]),
    ("admin", ["/gate", "/appliances", "/meters", "/nodes", "/alerts", "/users"], []),
])
def test_pages_by_role(run_console, role, allowed, refused):
    rc = run_console()
    c, _ = rc.login(role)
    for path in allowed:
        assert c.get(path).status_code == 200, path
    for path in refused:
        assert c.get(path).status_code == 403, path
