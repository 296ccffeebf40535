"""Console accounts: argon2 hashes in the hub's database, roles, the add-user command."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest
import yaml

from edge.hub.audit import Audit
from edge.hub.users import ROLE_RIGHTS, ROLES, UserError, Users
from edge.hub.web.auth import LoginThrottle
from tests.edge.bridge.support import ROOT


def test_passwords_are_stored_as_argon2id_hashes_and_verified(tmp_path):
    users = Users(tmp_path / "hub.db")
    users.add("wang", "duty", "correct horse battery")
    [(digest,)] = sqlite3.connect(tmp_path / "hub.db").execute("SELECT hash FROM console_users").fetchall()
    assert digest.startswith("$argon2id$") and "correct horse" not in digest
    assert users.verify("wang", "correct horse battery").role == "duty"
    assert users.verify("wang", "wrong horse battery") is None
    assert users.verify("nobody", "correct horse battery") is None


@pytest.mark.parametrize("name, role, password, error", [
    ("wang", "janitor", "long enough pw", "bad role"),
    ("wang li", "duty", "long enough pw", "bad user name"),
    ("wang", "duty", "short", "too short"),
])
def test_bad_accounts_are_refused_with_the_reason(tmp_path, name, role, password, error):
    with pytest.raises(UserError, match=error):
        Users(tmp_path / "hub.db").add(name, role, password)


def test_an_existing_user_is_replaced_only_when_asked(tmp_path):
    users = Users(tmp_path / "hub.db")
    users.add("li", "duty", "first password")
    with pytest.raises(UserError, match="exists"):
        users.add("li", "admin", "second password")
    users.add("li", "logistics", "second password", replace=True)
    assert users.verify("li", "first password") is None
    assert users.verify("li", "second password").role == "logistics"


def test_role_rights():
    assert set(ROLE_RIGHTS) == set(ROLES)
    assert "switch" not in ROLE_RIGHTS["duty"] and "acknowledge" in ROLE_RIGHTS["duty"]
    assert "switch" in ROLE_RIGHTS["logistics"] and "users" not in ROLE_RIGHTS["logistics"]
    assert all(ROLE_RIGHTS["admin"] >= r for r in ROLE_RIGHTS.values())


def test_login_throttle_locks_after_failures_and_unlocks_later():
    now = [0.0]
    t = LoginThrottle(max_failures=3, window_s=60, lockout_s=300, clock=lambda: now[0])
    assert not t.failed("wang", "10.0.0.5") and not t.failed("wang", "10.0.0.5")
    assert t.failed("Wang", "10.0.0.5")  # names are compared case-insensitively
    assert t.locked_for("wang", "10.0.0.5") == 300
    assert t.locked_for("wang", "10.0.0.6") == 0  # per name and address
    now[0] = 301
    assert t.locked_for("wang", "10.0.0.5") == 0
    now[0] = 400
    t.failed("li", "x")
    now[0] = 500  # outside the window: the old failure no longer counts
    assert not t.failed("li", "x") and not t.failed("li", "x")


def test_audit_entries_newest_first(tmp_path):
    audit = Audit(tmp_path / "hub.db")
    first = audit.record("li", "10.0.0.5", "switch", "s/n/ac-301", {"action": "on"})
    audit.record("li", "10.0.0.5", "login", "li")
    audit.complete(first, "timeout")
    [e] = audit.entries(("switch",))
    assert (e.user, e.target, e.detail, e.result) == ("li", "s/n/ac-301", {"action": "on"}, "timeout")
    assert [x.action for x in audit.entries()] == ["login", "switch"]


def test_add_user_command(tmp_path):
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(yaml.safe_dump({"site": "mh", "storage": {"path": str(tmp_path / "hub.db")}}))
    pw = tmp_path / "pw"
    pw.write_text("a good password\n")

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "edge.cli", "hub", "add-user", "-c", str(cfg), *args],
                              capture_output=True, text=True, cwd=ROOT, input=stdin, timeout=60)

    ok = run("wang", "--role", "duty", "--password-file", str(pw))
    assert ok.returncode == 0, ok.stderr
    assert "wang (duty)" in ok.stdout
    assert Users(tmp_path / "hub.db").verify("wang", "a good password").role == "duty"
    again = run("wang", "--role", "admin", "--password-file", str(pw))
    assert again.returncode == 2 and "exists" in again.stderr and "Traceback" not in again.stderr
    piped = run("li", "--role", "logistics", stdin="another password\n")  # no terminal: one line from stdin
    assert piped.returncode == 0, piped.stderr
    short = run("zhao", "--role", "duty", stdin="short\n")
    assert short.returncode == 2 and "too short" in short.stderr
    bad_role = run("zhao", "--role", "janitor", "--password-file", str(pw))
    assert bad_role.returncode == 2
