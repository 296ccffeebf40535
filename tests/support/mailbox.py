"""A real SMTP server (aiosmtpd) on loopback that records what it receives, for tests.

    with Mailbox() as box:                       # plain SMTP, no login
    with Mailbox(tls=pki, login=("alerts", "pw")) as box:   # STARTTLS required, then AUTH
    with Mailbox(tls=pki, implicit_tls=True) as box:         # SMTPS (TLS from the first byte)

``box.messages`` holds parsed email.message.EmailMessage objects (with envelope sender and
recipients); addresses in ``refuse`` get "550 no such user"; ``box.stop()`` / ``box.start()``
take it down and back up on the same port.
"""

from __future__ import annotations

import email
import email.policy
import ssl
import subprocess
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from edge.broker import free_port


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(d: Path) -> Path:
    """A test CA (``ca.pem``) and a certificate for 127.0.0.1 it signed (``server.pem``/``server.key``)."""
    d.mkdir(parents=True, exist_ok=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=campus-test-ca",
            "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
            "-out", "server.csr", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "2", "-extfile", "san.ext", "-out", "server.pem", cwd=d)
    return d


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage
    login: str | None


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        if address in self.box.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        with self.box.lock:
            self.box.messages.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), msg, login))
        return "250 OK"


class Mailbox:
    def __init__(self, tls: Path | None = None, login: tuple[str, str] | None = None,
                 implicit_tls: bool = False, refuse: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.host = "127.0.0.1"
        self.messages: list[Mail] = []
        self.lock = threading.Lock()
        self.refuse = set(refuse)
        self.login = login
        self.tls_dir = tls
        self.implicit_tls = implicit_tls
        self.context: ssl.SSLContext | None = None
        if tls is not None:
            self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.context.load_cert_chain(tls / "server.pem", tls / "server.key")
        self.controller: Controller | None = None

    def _auth(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and self.login is not None
              and (auth_data.login.decode(), auth_data.password.decode()) == self.login)
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def start(self) -> Mailbox:
        kwargs: dict[str, Any] = {}
        if self.context is not None and not self.implicit_tls:
            kwargs.update(tls_context=self.context, require_starttls=True)
        if self.implicit_tls:
            kwargs["ssl_context"] = self.context
        if self.login is not None:
            # aiosmtpd only counts STARTTLS as TLS: on implicit TLS (encrypted anyway) AUTH is offered
            # without being demanded, which it would warn about; the test checks the login it got.
            starttls = self.context is not None and not self.implicit_tls
            kwargs.update(authenticator=self._auth, auth_required=not self.implicit_tls,
                          auth_require_tls=starttls)
        self.controller = Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def __enter__(self) -> Mailbox:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def config(self, **extra: Any) -> dict[str, Any]:
        """A raw `channels:` entry (before validation) that reaches this mailbox."""
        security = "ssl" if self.implicit_tls else "starttls" if self.context is not None else "none"
        cfg: dict[str, Any] = {"id": "mail", "type": "email", "host": self.host, "port": self.port,
                               "security": security, "from": "alerts@school.test", "to": ["head@school.test"],
                               "timeout": 10}
        if self.tls_dir is not None:
            cfg["ca_file"] = str(self.tls_dir / "ca.pem")
        if self.login is not None:
            cfg["username"], cfg["password"] = self.login
        cfg.update(extra)
        return cfg
