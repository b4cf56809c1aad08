"""Follow-up questions asked as people ask them: in one conversation, through the platform.

A golden line that `follows` another is the next turn of that line's conversation. Each
conversation is asked through the `Assistant` in one thread (router, agents and the thread's
history, as `trading-assist ask --thread` and `POST /v1/chat` with a `thread_id` give them), so
the follow-up has the earlier turn as its context exactly as the platform keeps it. Every turn is
judged as `eval sql` judges a question: its rows against the gold query's on the same database (a
turn answered without SQL is wrong). A pair is right when all its turns are.

>>> from evals.golden import GoldenQuestion as Q
>>> line = {"db": "a.db", "gold_sql": "SELECT 1"}
>>> chains = conversations([Q(id="a", question="x?", **line),
...                         Q(id="b", question="and y?", follows="a", **line)])
>>> [[q.id for q in chain] for chain in chains]
[['a', 'b']]
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from evals.golden import GoldenFileError, GoldenQuestion
from evals.sql_eval import Database, EvalReport, QuestionResult, _judge
from services.errors import AssistantError


class Reply(BaseModel):
    """What a conversation turn came back with (the parts of a chat answer judged here)."""

    answer: str
    sql: str | None = None
    rows: list[Any] = Field(default_factory=list)
    thread_id: str


Ask = Callable[[str, int | None, str | None], Awaitable[Reply]]
"""Asks (question, the customer asking or None for the operator, thread to continue or None)."""


class ConversationSummary(BaseModel):
    conversations: int
    first_turns_right: int
    followups: int = Field(description="Turns that follow an earlier one.")
    followups_right: int
    pairs_right: int = Field(description="Conversations whose every turn is right.")


class ConversationReport(EvalReport):
    """`eval sql`'s report of a set with follow-ups, with the per-conversation figures."""

    conversation_summary: ConversationSummary


def conversations(questions: Sequence[GoldenQuestion]) -> list[list[GoldenQuestion]]:
    """The set's conversations in file order: each question that follows nothing starts one, a
    question that `follows` the last turn of one continues it. Raises `GoldenFileError` for a
    follow-up of a question not before it, a second follow-up of the same turn, or another
    asker than the conversation's."""
    chains: list[list[GoldenQuestion]] = []
    chain_of: dict[str, list[GoldenQuestion]] = {}
    for question in questions:
        if question.follows is None:
            chain = [question]
            chains.append(chain)
        else:
            chain = chain_of.get(question.follows, [])
            if not chain:
                raise GoldenFileError(
                    f"{question.id} follows {question.follows!r}, which is no earlier question"
                )
            if chain[-1].id != question.follows:
                raise GoldenFileError(
                    f"{question.id} follows {question.follows!r}, which {chain[-1].id} already "
                    "follows: a conversation has one next turn"
                )
            if question.user_id != chain[0].user_id:
                raise GoldenFileError(f"{question.id} is asked by another user than its thread")
            chain.append(question)
        chain_of[question.id] = chain
    return chains


async def run_conversations(
    chains: Sequence[Sequence[GoldenQuestion]],
    ask: Ask,
    db: Database,
    progress: Callable[[QuestionResult], None] | None = None,
) -> list[QuestionResult]:
    """Ask every conversation's turns in order in one thread; one result per turn."""
    results = []
    for chain in chains:
        thread: str | None = None
        for question in chain:
            result = QuestionResult(
                id=question.id,
                category=question.category,
                question=question.question,
                gold_sql=question.gold_sql,
            )
            started = time.perf_counter()
            try:
                reply = await ask(question.question, question.user_id, thread)
            except AssistantError as exc:
                result.error = str(exc)
            else:
                thread = reply.thread_id
                result.predicted_sql = reply.sql
                if reply.sql is None:
                    result.error = f"answered without SQL: {reply.answer[:300]}"
                else:
                    result.correct = _judge(db, question, reply.rows)
            result.latency_s = time.perf_counter() - started
            results.append(result)
            if progress:
                progress(result)
    return results


def summarise_conversations(
    chains: Sequence[Sequence[GoldenQuestion]], results: Sequence[QuestionResult]
) -> ConversationSummary:
    right = {r.id: r.correct for r in results}
    return ConversationSummary(
        conversations=len(chains),
        first_turns_right=sum(right[chain[0].id] for chain in chains),
        followups=sum(len(chain) - 1 for chain in chains),
        followups_right=sum(right[q.id] for chain in chains for q in chain[1:]),
        pairs_right=sum(all(right[q.id] for q in chain) for chain in chains),
    )
