"""A write waiting for the person's yes: what will happen, and until when the offer stands."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from services import clock
from tools.registry import Preview


class PendingAction(BaseModel):
    id: str = Field(description="Quote it when approving; also the write's idempotency key.")
    tool: str = Field(description="The tool that will run.")
    arguments: dict[str, Any] = Field(description="Its validated arguments.")
    summary: str = Field(description="What will happen, in one sentence.")
    details: dict[str, Any] = Field(default_factory=dict, description="The figures behind it.")
    expires_at: datetime = Field(description="After this (UTC) the approval is refused.")

    @classmethod
    def offer(
        cls, tool: str, arguments: dict[str, Any], preview: Preview, ttl_s: float
    ) -> PendingAction:
        return cls(
            id=uuid.uuid4().hex,
            tool=tool,
            arguments=arguments,
            summary=preview.summary,
            details=preview.details,
            expires_at=clock.now() + timedelta(seconds=ttl_s),
        )

    @property
    def expired(self) -> bool:
        return clock.now() >= self.expires_at


class Decision(BaseModel):
    """The person's answer to a pending action, as every surface sends it to the graph."""

    approve: bool
    action_id: str
