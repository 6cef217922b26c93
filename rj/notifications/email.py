"""Turning an outbox row into a MIME message, and the transports that deliver it.

Invites follow RFC 6047: multipart/mixed holding multipart/alternative (text/plain, text/html,
text/calendar; method=...; charset=utf-8) and an invite.ics attachment. The standard library's
EmailMessage keeps the `method` parameter that Outlook needs to show Accept/Decline buttons.
Header values come from fixed wording and cleaned one-line text only: a CR or LF typed into a
name can never add a header.
"""
from __future__ import annotations

import smtplib
import ssl
import sys
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from rj.core.time import now_utc
from rj.notifications.ical import one_line


class BadAddress(ValueError):
    """An address that cannot safely go in a header."""


def check_address(address: str) -> str:
    """A plain addr-spec with no display name, whitespace or control characters."""
    from email_validator import EmailNotValidError, validate_email

    address = (address or "").strip()
    if not address or any(c in address for c in "\r\n\t <>,;\"") or len(address) > 254:
        raise BadAddress("not a single plain email address")
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        raise BadAddress("not a valid email address") from exc
    return address


def new_message_id(domain: str) -> str:
    """Made once when a message is queued, so a resend carries the same Message-ID."""
    return make_msgid(domain=domain)


def build_email(message, *, sender: str, sender_name: str) -> EmailMessage:
    """The MIME message for an OutboxMessage row (or anything with the same attributes)."""
    mail = EmailMessage()
    mail["Subject"] = one_line(message.subject, 200)
    mail["From"] = formataddr((one_line(sender_name, 80), check_address(sender)))
    mail["To"] = check_address(message.recipient)
    mail["Message-ID"] = message.message_id
    mail["Date"] = format_datetime(now_utc())
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.text_body)
    if message.html_body:
        mail.add_alternative(message.html_body, subtype="html")
    if message.ics:
        method = message.ics_method or "REQUEST"
        if method not in ("REQUEST", "CANCEL"):
            raise ValueError("unsupported calendar method")
        mail.add_alternative(message.ics, subtype="calendar", params={"method": method})
        # add_attachment turns multipart/alternative into multipart/mixed holding it.
        mail.add_attachment(message.ics.encode("utf-8"), maintype="application", subtype="ics",
                            filename="invite.ics")
    return mail


class SMTPTransport:
    """Delivers over SMTP (STARTTLS and login when configured), one connection per batch."""

    def __init__(self, config: dict):
        self.host = config["SMTP_HOST"]
        self.port = int(config["SMTP_PORT"])
        self.use_tls = bool(config.get("SMTP_USE_TLS"))
        self.username = config.get("SMTP_USERNAME")
        self.password = config.get("SMTP_PASSWORD")
        self.timeout = int(config.get("SMTP_TIMEOUT_SECONDS", 30))
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._conn is None:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.use_tls:
                conn.starttls(context=ssl.create_default_context())
            if self.username:
                conn.login(self.username, self.password or "")
            self._conn = conn
        return self._conn

    def send(self, mail: EmailMessage) -> None:
        try:
            self._connect().send_message(mail)
        except (smtplib.SMTPServerDisconnected, OSError):
            self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            self._conn = None


class ConsoleTransport:
    """Development: prints each message instead of sending it."""

    def __init__(self, config: dict, stream=None):
        self.stream = stream or sys.stdout

    def send(self, mail: EmailMessage) -> None:
        self.stream.write("-" * 30 + " email (MAIL_BACKEND=console) " + "-" * 30 + "\n")
        self.stream.write(mail.as_string() + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass


def transport_for(config: dict):
    return SMTPTransport(config) if config.get("MAIL_BACKEND") == "smtp" else ConsoleTransport(config)


def safe_error(exc: BaseException) -> str:
    """What went wrong, without addresses or text: the exception class and any SMTP code."""
    code = getattr(exc, "smtp_code", None)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({c for c, _ in exc.recipients.values()})
        return f"SMTPRecipientsRefused {codes}"[:200]
    return f"{type(exc).__name__}{f' {code}' if code else ''}"[:200]
