"""`campus-edge hub add-user NAME --role duty [--password-file F]`: a console account.

Registered under `campus-edge hub` by edge/hub/cli.py. Works on the hub's database file directly, also
while the hub runs (SQLite WAL). Without --password-file the password is asked twice on the terminal.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from edge.hub.users import MIN_PASSWORD, ROLES


def read_password(path: str | None) -> str:
    if path:
        return Path(path).read_text(encoding="utf-8").rstrip("\r\n")
    if not sys.stdin.isatty():  # a pipe: one line, as scripts pass it
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"password (at least {MIN_PASSWORD} characters): ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def cmd_add_user(args: argparse.Namespace, cfg: dict[str, Any]) -> int:
    from edge.hub.audit import Audit
    from edge.hub.users import UserError, Users

    try:
        password = read_password(args.password_file)
    except (OSError, ValueError) as exc:
        print(f"campus-edge hub add-user: {exc}", file=sys.stderr)
        return 2
    users = Users(cfg["storage"]["path"])
    try:
        user = users.add(args.name, args.role, password, language=args.language, replace=args.replace)
    except UserError as exc:
        print(f"campus-edge hub add-user: {exc}", file=sys.stderr)
        return 2
    Audit(users.db).record("cli", "local", "user_added", user.name, {"role": user.role})
    users.close()
    print(f"user {user.name} ({user.role}) saved in {cfg['storage']['path']}")
    return 0


def add_parser(hs: Any, common: Any, run: Any) -> None:
    """``run(fn)`` wraps ``fn(args, cfg)`` with the hub CLI's config loading and error handling."""
    u = hs.add_parser("add-user", help="add (or with --replace, change) a console account",
                      description="Roles: admin (everything, user management), logistics (appliances, "
                      "meters, alerts), duty (gate page: acknowledge alerts and record readings; may not "
                      "switch appliances).")
    common(u)
    u.add_argument("name", metavar="NAME")
    u.add_argument("--role", required=True, choices=ROLES)
    u.add_argument("--password-file", metavar="FILE", help="read the password from this file (first line)")
    u.add_argument("--language", choices=("zh-CN", "en"), help="the console's language for this user")
    u.add_argument("--replace", action="store_true", help="overwrite an existing user's role and password")
    u.set_defaults(hub_func=run(cmd_add_user))
