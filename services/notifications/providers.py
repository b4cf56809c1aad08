"""SMS and push: a provider interface each, and the logging provider used until a real one is
configured. A provider adapter for a vendor (Twilio, Azure Communication Services, Firebase)
implements the interface in its own module and is passed to the channel."""

from __future__ import annotations

import logging
from typing import Protocol

from services.notifications.channels import ChannelName, DeliveryError, OutgoingMessage

log = logging.getLogger(__name__)


class SmsProvider(Protocol):
    def send_sms(self, to: str, text: str) -> None:
        """Send one SMS; raise `DeliveryError` when the provider refuses."""
        ...


class PushProvider(Protocol):
    def push(self, user_id: int, title: str, body: str) -> None:
        """Push to every device of the user; raise `DeliveryError` when the provider refuses."""
        ...


class LoggingSmsProvider:
    """Writes the SMS to the log instead of sending it (no SMS provider configured)."""

    def send_sms(self, to: str, text: str) -> None:
        log.info("SMS not sent (no provider configured) to=%s chars=%d", to[-4:], len(text))


class LoggingPushProvider:
    """Writes the push message to the log instead of sending it (no push provider configured)."""

    def push(self, user_id: int, title: str, body: str) -> None:
        log.info("push not sent (no provider configured) user=%s title=%r", user_id, title)


class SmsChannel:
    name = ChannelName.SMS

    def __init__(self, provider: SmsProvider):
        self._provider = provider

    def send(self, message: OutgoingMessage) -> None:
        if not message.recipient.phone:
            raise DeliveryError("the user has no phone number on file", permanent=True)
        # an SMS is short: the subject says it; the body is in the app and the email
        self._provider.send_sms(message.recipient.phone, message.subject)


class PushChannel:
    name = ChannelName.PUSH

    def __init__(self, provider: PushProvider):
        self._provider = provider

    def send(self, message: OutgoingMessage) -> None:
        self._provider.push(message.recipient.user_id, message.subject, message.text)
