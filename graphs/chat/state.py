"""What flows through the chat graph, and the per-run context it reads."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from agents.sql_agent import SqlOutcome
from agents.supervisor import Route
from services.identity import Caller


class ChatState(BaseModel):
    question: str
    route: Route | None = None
    outcome: SqlOutcome | None = None
    answer: str | None = None


@dataclass(frozen=True)
class ChatContext:
    """Per-run data: who is asking. Set by the API or CLI from the authenticated request."""

    caller: Caller
