"""What the assistant hands back: the answer and its parts, the events of a streamed answer,
and conversations as their owner sees them; and how a finished graph run becomes an answer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any, Literal

from pydantic import BaseModel, Field

from agents import prompts
from agents.chart import ChartSpec, suggest_chart
from services.errors import AssistantError
from services.llm.errors import PrivacyViolation, ProviderUnavailable
from services.llm.usage import Usage, UsageCallback
from sql_guard.runner import Column


class PartAnswer(BaseModel):
    """One part of a compound request and how it was answered."""

    question: str
    query_type: str
    answer: str
    sql: str | None = None
    citations: list[dict[str, Any]] = Field(default_factory=list)
    action: dict[str, Any] | None = None


class ChatAnswer(BaseModel):
    answer: str = Field(description="The answer as a sentence.")
    sql: str | None = Field(None, description="The SQL that ran, after the guard's rewrites.")
    rows: list[list[Any]] = Field(default_factory=list)
    columns: list[Column] = Field(default_factory=list)
    truncated: bool = False
    chart: ChartSpec | None = Field(None, description="How to draw the rows, when they suit it.")
    citations: list[dict[str, Any]] = Field(
        default_factory=list, description="Document passages the answer cites, [1] first."
    )
    route: str = Field(description="The request's kind: sql, document, action, general, reasoning.")
    routing: dict[str, Any] = Field(
        default_factory=dict, description="The router's labels, provider and reasons."
    )
    parts: list[PartAnswer] = Field(default_factory=list)
    attempts: int = 0
    elapsed_ms: float
    usage: Usage | None = Field(None, description="Tokens and cost of the model calls.")
    thread_id: str = Field(description="Pass it back to continue the conversation.")
    answer_id: int | None = Field(None, description="Quote it when giving feedback.")
    pending_action: dict[str, Any] | None = Field(
        None,
        description="A write waiting for the caller's yes (id, tool, arguments, summary, "
        "details, expires_at): resume the thread to approve or reject it.",
    )
    result: dict[str, Any] | None = Field(
        None, description="The last tool call made in this turn (tool, arguments, output)."
    )


class ThreadSummary(BaseModel):
    thread_id: str = Field(description="Pass it back to continue the conversation.")
    updated_at: str = Field(description="When it last changed (ISO 8601, UTC).")
    turns: int = Field(description="Questions answered in it.")
    last_question: str | None = Field(None, description="The latest question asked.")


class ThreadDetail(ThreadSummary):
    messages: list[dict[str, Any]] = Field(
        default_factory=list, description="Each turn: question, route, answer, SQL."
    )
    pending_action: dict[str, Any] | None = Field(
        None, description="The write this thread waits on, if any."
    )


class ChatEvent(BaseModel):
    event: Literal["route", "sql", "rows", "citations", "answer", "confirm", "done", "error"]
    data: dict[str, Any]


def events_for(node: str, change: dict[str, Any]) -> list[ChatEvent]:
    if node == "supervisor":
        decision = change["decision"]
        routing = decision.model_dump(mode="json")
        return [ChatEvent(event="route", data={"route": decision.query_type.value, **routing})]
    events: list[ChatEvent] = []
    for result in change.get("results", [])[-1:]:
        if result.outcome is not None:
            outcome = result.outcome
            events += [
                ChatEvent(event="sql", data={"sql": outcome.sql, "attempts": outcome.attempts}),
                ChatEvent(event="rows", data=outcome.result.model_dump(mode="json")),
            ]
        if result.citations:
            events.append(ChatEvent(event="citations", data={"citations": result.citations}))
    if node == "finish":
        events.append(ChatEvent(event="answer", data={"answer": change["answer"]}))
    return events


def first_draft(state: dict[str, Any]) -> str | None:
    return next((r.outcome.draft for r in state.get("results", []) if r.outcome), None)


def build_answer(
    state: dict[str, Any],
    usage: UsageCallback,
    thread_id: str,
    started: float,
    pending: dict[str, Any] | None = None,
) -> ChatAnswer:
    results = state.get("results", [])
    decision = state["decision"]
    outcome = next((r.outcome for r in results if r.outcome), None)
    actions = [r.action for r in results if r.action]
    text = prompts.ACTION_CONFIRM.format(summary=pending["summary"]) if pending else state["answer"]
    return ChatAnswer(
        answer=text,
        pending_action=pending,
        result=actions[-1] if actions and not pending else None,
        sql=outcome.sql if outcome else None,
        rows=outcome.result.rows if outcome else [],
        columns=outcome.result.columns if outcome else [],
        truncated=outcome.result.truncated if outcome else False,
        chart=suggest_chart(outcome.result) if outcome else None,
        citations=[c for r in results for c in r.citations],
        route=decision.query_type.value,
        routing=decision.model_dump(mode="json"),
        parts=[
            PartAnswer(
                question=r.part.text,
                query_type=r.part.query_type.value,
                answer=r.answer,
                sql=r.outcome.sql if r.outcome else None,
                citations=r.citations,
                action=r.action,
            )
            for r in results
        ],
        attempts=outcome.attempts if outcome else 0,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        usage=usage.total() if usage.usages else None,
        thread_id=thread_id,
    )


def usage_of(usage: UsageCallback) -> dict[str, Any] | None:
    return usage.total().model_dump() if usage.usages else None


def failure(exc: Exception) -> tuple[str, str]:
    """What the caller is told when answering failed outright."""
    import httpx
    import openai

    if isinstance(exc, PrivacyViolation):
        return "privacy_refused", "this request may only use a local model, and none is available"
    unavailable = ProviderUnavailable | openai.APIConnectionError | openai.APITimeoutError
    if isinstance(exc, unavailable | httpx.ConnectError):
        return "model_unavailable", "the local model is unavailable; please try again shortly"
    return "internal_error", "something went wrong while answering; the error was logged"


async def final_answer(events: AsyncIterator[ChatEvent]) -> ChatAnswer:
    """The done event's answer; an error event raised as the error it reports."""
    final: ChatAnswer | None = None
    async for event in events:
        if event.event == "error":
            raise AssistantError(event.data["code"], event.data["message"])
        if event.event == "done":
            final = ChatAnswer.model_validate(event.data)
    assert final is not None  # a stream always ends with done or error
    return final
