"""What flows through the chat graph, and the per-run context it reads.

`history` is the conversation so far; the checkpointer keeps the whole state per thread, so a
follow-up in a later request (or after a restart) sees the turns before it. Everything else is
reset by the supervisor at the start of each turn.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter

from agents.actions.pending import PendingAction
from agents.actions.planner import ToolCall
from agents.routing.followup import Turn
from agents.routing.router import RequestPart, RouteDecision
from agents.sql.agent import SqlOutcome
from services.identity import Caller

MAX_HISTORY = 10  # turns kept per thread; older ones no longer help a follow-up


class PartResult(BaseModel):
    """The answer to one part of a (possibly compound) request."""

    part: RequestPart
    answer: str
    outcome: SqlOutcome | None = None
    citations: list[dict[str, Any]] = Field(default_factory=list)
    action: dict[str, Any] | None = Field(
        None, description="The tool call made (tool, arguments, output), when one was."
    )


class ChatState(BaseModel):
    question: str
    tool_call: ToolCall | None = Field(
        None,
        description="A tool call another system made directly (REST, MCP): the turn runs it "
        "as the action agent would have planned it, confirmation included.",
    )
    history: list[Turn] = Field(default_factory=list)
    decision: RouteDecision | None = None
    plan: list[RequestPart] = Field(default_factory=list)
    results: list[PartResult] = Field(default_factory=list)
    steps: int = 0
    budget_exceeded: bool = False
    pending: PendingAction | None = Field(
        None, description="A write waiting for the person's yes (the graph pauses on it)."
    )
    answer: str | None = None


@dataclass(frozen=True)
class ChatContext:
    """Per-run data: who is asking. Set by the API or CLI from the authenticated request."""

    caller: Caller


_FIELDS = {name: TypeAdapter(field.annotation) for name, field in ChatState.model_fields.items()}


def read_state(values: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint's values in the state's own types. A checkpoint names each stored class by
    the module it was stored from, and one stored before its class moved comes back as plain
    fields (the checkpointer imports only the modules it was told of); they are read as the
    class here, as the graph reads its own state.

    >>> read_state({"history": [{"question": "q", "route": "sql", "answer": "a"}]})["history"]
    [Turn(question='q', route='sql', answer='a', sql=None, sensitivity=None, decision=None)]
    """
    return {
        name: _FIELDS[name].validate_python(value) if name in _FIELDS else value
        for name, value in values.items()
    }


def stored_types(model: type[BaseModel] = ChatState) -> set[type]:
    """Every model and enum a checkpoint of `model` can hold: the checkpointer restores these
    and nothing else (it refuses to rebuild a class it was not told about).

    >>> from sql_guard.runner import QueryResult
    >>> Turn in stored_types() and QueryResult in stored_types()
    True
    """
    found: set[type] = set()
    pending: list[Any] = [model]
    while pending:
        item = pending.pop()
        if isinstance(item, type) and issubclass(item, BaseModel | Enum):
            if item in found:
                continue
            found.add(item)
            if issubclass(item, BaseModel):
                pending += [field.annotation for field in item.model_fields.values()]
        else:
            pending += typing.get_args(item)
    return found
