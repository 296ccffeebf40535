"""Fixtures for the hub's tests: a local robot server (WeCom / DingTalk / Feishu / webhook) and mail.

The servers live in tests/support (robots.py, mailbox.py) so other tests can start their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.mailbox import Mailbox, make_pki
from tests.support.robots import RobotServer


@pytest.fixture
def robots() -> Iterator[RobotServer]:
    """A robot HTTP server on a free loopback port; stop()/start() it to simulate an outage."""
    server = RobotServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A test CA and a 127.0.0.1 certificate for the TLS mail servers (made once per run)."""
    return make_pki(tmp_path_factory.mktemp("smtp-pki"))


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """Plain SMTP, no login (a relay on the school's network)."""
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture
def mailbox_starttls(smtp_pki: Path) -> Iterator[Mailbox]:
    """STARTTLS required, then AUTH LOGIN/PLAIN as alerts / s3cret."""
    box = Mailbox(tls=smtp_pki, login=("alerts", "s3cret")).start()
    yield box
    box.stop()


@pytest.fixture
def mailbox_ssl(smtp_pki: Path) -> Iterator[Mailbox]:
    """SMTPS (implicit TLS), AUTH as alerts / s3cret."""
    box = Mailbox(tls=smtp_pki, login=("alerts", "s3cret"), implicit_tls=True).start()
    yield box
    box.stop()
