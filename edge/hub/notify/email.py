"""E-mail over SMTP: subject = the notice's title, a text and an HTML body, the snapshot attached.

``security``: ``ssl`` (implicit TLS, usually port 465), ``starttls`` (587) or ``none`` (25, a
trusted relay only). Login when a username is set. A refused login, sender or recipient, or any
5xx answer is final (retrying cannot fix a wrong password or address); a connection that fails,
drops or times out, and 4xx answers, are retried.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from edge.hub.notify.base import Channel, SendResult, permanent, retry
from edge.hub.notify.config import reveal
from edge.hub.notify.texts import Notice
from edge.i18n import text


def build_message(notice: Notice, cfg: dict[str, Any], now: float) -> EmailMessage:
    """The e-mail for one notice (pure: no connection)."""
    msg = EmailMessage()
    msg["Subject"] = notice.title
    msg["From"] = cfg["from"]
    msg["To"] = ", ".join(cfg["to"])
    msg["Date"] = formatdate(now, localtime=False)
    msg["Message-ID"] = make_msgid(domain=cfg["from"].rsplit("@", 1)[-1])
    if notice.alert_ids:
        msg["X-Campus-Edge-Alerts"] = ",".join(str(i) for i in notice.alert_ids)
    footer = text("notify.email.footer", notice.language)
    note = text("notify.snapshot.attached", notice.language) if notice.snapshot else None
    plain = notice.text + (f"\n\n{note}" if note else "") + f"\n\n-- \n{footer}\n"
    msg.set_content(plain)
    lines = notice.text.splitlines()
    body = "".join(f"<p>{html.escape(ln)}</p>" for ln in lines[1:])
    if note:
        body += f"<p><em>{html.escape(note)}</em></p>"
    lang = "zh-CN" if notice.language == "zh-CN" else "en"
    msg.add_alternative(
        f'<!doctype html><html lang="{lang}"><body>'
        f'<h2>{html.escape(lines[0] if lines else notice.title)}</h2>'
        f'{body}<hr><p style="color:#888">{html.escape(footer)}</p></body></html>',
        subtype="html",
    )
    if notice.snapshot:
        first = notice.alert_ids[0] if notice.alert_ids else 0
        msg.add_attachment(notice.snapshot, maintype="image", subtype="png", filename=f"alert-{first}.png")
    return msg


class EmailChannel(Channel):
    """Connects for each notice (alerts are rare; an idle SMTP connection would be dropped anyway)."""

    type = "email"

    def __init__(self, cfg: dict[str, Any]) -> None:
        super().__init__(cfg)
        self.tls = ssl.create_default_context(cafile=cfg.get("ca_file"))

    def _connect(self) -> smtplib.SMTP:
        cfg = self.cfg
        timeout = float(cfg.get("timeout") or 30.0)
        if cfg["security"] == "ssl":
            return smtplib.SMTP_SSL(cfg["host"], cfg["port"], timeout=timeout, context=self.tls)
        smtp = smtplib.SMTP(cfg["host"], cfg["port"], timeout=timeout)
        if cfg["security"] == "starttls":
            smtp.starttls(context=self.tls)
        return smtp

    def send(self, notice: Notice) -> SendResult:
        import time

        msg = build_message(notice, self.cfg, time.time())
        try:
            smtp = self._connect()
        except (OSError, smtplib.SMTPException) as exc:
            return self._failed(exc)
        try:
            if self.cfg.get("username"):
                smtp.login(reveal(self.cfg["username"]) or "", reveal(self.cfg["password"]) or "")
            refused = smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            return self._failed(exc)
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
        if refused:  # some recipients took it: done, but say who did not
            return SendResult(True, detail=f"accepted; refused: {', '.join(sorted(refused))}", partial=True)
        return SendResult(True, detail=f"accepted for {len(self.cfg['to'])} recipient(s)")

    @staticmethod
    def _failed(exc: Exception) -> SendResult:
        return classify_smtp_error(exc)


def classify_smtp_error(exc: Exception) -> SendResult:
    """Which SMTP failures are worth retrying (pure: maps an exception to a result)."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return permanent(f"login refused ({exc.smtp_code}): check username and password")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return permanent(f"every recipient refused: {', '.join(sorted(exc.recipients))}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return permanent(f"sender {exc.sender} refused ({exc.smtp_code})")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return permanent(f"the server does not support this: {exc}")
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        if 400 <= code < 500:
            return retry(f"server busy ({code})")
        return permanent(f"refused ({code})")
    if isinstance(exc, ssl.SSLCertVerificationError):
        why = getattr(exc, "verify_message", None) or exc
        return permanent(f"the server's certificate is not trusted: {why}; set ca_file")
    if isinstance(exc, smtplib.SMTPServerDisconnected | OSError):
        return retry(f"cannot reach the server: {type(exc).__name__}: {str(exc)[:150]}")
    return retry(f"{type(exc).__name__}: {str(exc)[:150]}")
