"""The ways a notification leaves the platform, behind one `Channel` protocol.

Email, SMS and push each have an implementation that talks to the outside (`smtp_email.py`,
`providers.py`); the delivery loop only sees `Channel.send`, which returns on success and raises
`DeliveryError` with a reason a person can read when the message did not go out. In-app has no
channel object: the notifications row is the message, so it is sent the moment it is written.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, Field


class ChannelName(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"
    IN_APP = "in_app"


class Recipient(BaseModel, frozen=True):
    user_id: int
    full_name: str
    email: str
    phone: str | None = None


class OutgoingMessage(BaseModel, frozen=True):
    notification_id: int = Field(description="The notifications row this message delivers.")
    recipient: Recipient
    subject: str
    text: str = Field(description="Plain-text body.")
    html: str | None = Field(None, description="HTML body, for channels that show it.")


class DeliveryError(RuntimeError):
    """A send that did not happen. `permanent`: trying again cannot help (no phone number on
    file, say), so the notification fails at once instead of being retried."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Channel(Protocol):
    name: ChannelName

    def send(self, message: OutgoingMessage) -> None:
        """Deliver the message or raise `DeliveryError`."""
        ...
