"""What the notification service returns to its callers (tools, API, CLI)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, field_validator

from services.ids import RowId
from services.notifications.channels import ChannelName


class NotificationOut(BaseModel, frozen=True):
    id: int
    user_id: int
    channel: ChannelName
    kind: str | None
    subject: str
    body: str
    status: str = Field(description="pending, sent, failed or read.")
    created_at: datetime
    sent_at: datetime | None
    attempts: int
    last_error: str | None = Field(description="Why the last delivery attempt failed.")


class StaffMessage(BaseModel, frozen=True):
    """A message support or an admin writes to one user."""

    user_id: RowId
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=10_000)
    channel: ChannelName

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\n" in value or "\r" in value:
            raise ValueError("the subject must be one line")
        if not value.strip():
            raise ValueError("the subject is empty")
        return value.strip()

    @field_validator("body")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the body is empty")
        return value.strip()


class DeliveryReport(BaseModel, frozen=True):
    """What one `deliver_due` pass did."""

    sent: int = 0
    retrying: int = 0  # failed this time, another attempt is scheduled
    failed: int = 0  # failed for good: attempts used up, or a permanent error
