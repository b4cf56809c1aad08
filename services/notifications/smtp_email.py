"""Email over SMTP (standard library `smtplib`), or into the log when no SMTP server is set.

Every SMTP or network failure is a `DeliveryError` the delivery loop retries: a 5xx refusal is
often a misconfigured or overloaded relay that recovers, and the attempt limit bounds the cost.
"""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from services.notifications.channels import ChannelName, DeliveryError, OutgoingMessage
from services.settings import Settings

log = logging.getLogger(__name__)


def build_email(message: OutgoingMessage, sender: str) -> EmailMessage:
    """A multipart/alternative email: the text part first, the HTML part when there is one."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = formataddr((message.recipient.full_name, message.recipient.email))
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(idstring=f"notification-{message.notification_id}")
    email["X-Notification-Id"] = str(message.notification_id)
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


def _reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, text = next(iter(exc.recipients.values()))
        return f"SMTP {code} recipient refused: {text.decode(errors='replace')}"
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error
        text = text.decode(errors="replace") if isinstance(text, bytes) else str(text)
        return f"SMTP {exc.smtp_code} {text}"
    if isinstance(exc, TimeoutError):
        return "SMTP server did not answer in time"
    return f"SMTP {type(exc).__name__}: {exc}"


class SmtpEmailChannel:
    name = ChannelName.EMAIL

    def __init__(self, settings: Settings):
        if not settings.smtp_host:
            raise ValueError("SmtpEmailChannel needs SMTP_HOST")
        self._settings = settings

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.smtp_timeout_s)
        try:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_username:
                password = s.smtp_password.get_secret_value() if s.smtp_password else ""
                smtp.login(s.smtp_username, password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: OutgoingMessage) -> None:
        try:
            email = build_email(message, self._settings.smtp_from)
        except ValueError as exc:  # e.g. a line break in a name: no header may carry it
            raise DeliveryError(f"the email cannot be written: {exc}", permanent=True) from exc
        try:
            with self._connect() as smtp:
                smtp.send_message(email)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(_reason(exc)) from exc

    def probe(self) -> str:
        """Connect, greet and log in as a send would; raises what a send would raise."""
        with self._connect() as smtp:
            code, _ = smtp.noop()
        return f"answers ({code})"


class LoggedEmailChannel:
    """No SMTP server configured: the email is written to the log, not sent."""

    name = ChannelName.EMAIL

    def send(self, message: OutgoingMessage) -> None:
        log.info(
            "email not sent (SMTP_HOST unset) notification=%s user=%s subject=%r",
            message.notification_id,
            message.recipient.user_id,
            message.subject,
        )


def email_health(settings: Settings) -> tuple[bool, str]:
    """What `doctor` shows for email: logged only, or whether the SMTP server answers."""
    if not settings.smtp_host:
        return True, "SMTP_HOST unset: emails are logged, not sent"
    try:
        return True, SmtpEmailChannel(settings).probe()
    except (smtplib.SMTPException, OSError) as exc:
        return False, _reason(exc)
