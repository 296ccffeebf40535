#!/usr/bin/env python3
"""Write one school's uplink (Mosquitto bridge connection to the district) from school-uplink.conf.

    python3 deploy/district/make-uplink.py mh-primary district.edu.example:8883 \
        --cafile /etc/mosquitto/certs/district-ca.pem --password-file /root/uplink-password \
        > /etc/mosquitto/conf.d/uplink.conf

Only the @NAMES@ of the template are replaced, so the file a school runs is the shipped one. ``--commands``
uncomments the two ``in`` lines (commands from the district down to this school's devices; the district's
ACL must allow them too: make-acl.py --school SITE --commands). Standard library only.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).with_name("school-uplink.conf")
ID = re.compile(r"[a-z0-9_-]+")
ADDRESS = re.compile(r"[A-Za-z0-9.:\[\]-]+:\d{1,5}")
DEFAULT_MESSAGES = 2_000_000  # a day of a 200-device school (school-uplink.conf)
DEFAULT_BYTES = 512 * 1024 * 1024
COMMAND_LINES = ("#topic campus/@SITE@/+/+/set in 1\n", "#topic campus/@SITE@/group/+/set in 1\n")


def render(site: str, address: str, cafile: str, password: str, *, commands: bool = False,
           max_messages: int = DEFAULT_MESSAGES, max_bytes: int = DEFAULT_BYTES,
           template: str | None = None) -> str:
    if not ID.fullmatch(site):
        raise ValueError(f"site {site!r}: expected an id of [a-z0-9_-]")
    if not ADDRESS.fullmatch(address):
        raise ValueError(f"address {address!r}: expected host:port")
    if not password or any(c.isspace() for c in password):
        raise ValueError("the uplink password must be non-empty, without spaces")
    text = TEMPLATE.read_text() if template is None else template
    if commands:
        for line in COMMAND_LINES:
            text = text.replace(line, line[1:])
    values = {"@SITE@": site, "@DISTRICT_ADDRESS@": address, "@CAFILE@": cafile, "@PASSWORD@": password,
              "@MAX_QUEUED_MESSAGES@": str(max_messages), "@MAX_QUEUED_BYTES@": str(max_bytes)}
    for name, value in values.items():
        text = text.replace(name, value)
    # the header's own example lines name no placeholder; anything left is a template the script missed
    left = set(re.findall(r"@[A-Z_]+@", text))
    if left:
        raise ValueError(f"template has unknown placeholders: {', '.join(sorted(left))}")
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Write a school's Mosquitto uplink to the district broker.")
    p.add_argument("site", help="the school's site id (agent config site)")
    p.add_argument("address", help="the district broker, host:port (TLS, usually 8883)")
    p.add_argument("--cafile", default="/etc/mosquitto/certs/district-ca.pem",
                   help="the district's CA certificate (its make-certs.sh ca.pem)")
    p.add_argument("--password-file", help="file holding the uplink's password (user uplink@SITE)")
    p.add_argument("--password", help="the password itself (prefer --password-file: shells keep history)")
    p.add_argument("--commands", action="store_true", help="let the district send commands down")
    p.add_argument("--max-queued-messages", type=int, default=DEFAULT_MESSAGES)
    p.add_argument("--max-queued-bytes", type=int, default=DEFAULT_BYTES)
    args = p.parse_args(argv)
    password = args.password
    if args.password_file:
        password = Path(args.password_file).read_text().strip()
    try:
        sys.stdout.write(render(args.site, args.address, args.cafile, password or "",
                                commands=args.commands, max_messages=args.max_queued_messages,
                                max_bytes=args.max_queued_bytes))
    except ValueError as exc:
        print(f"make-uplink: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
