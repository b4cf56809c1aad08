"""Thumbs-up on an answer, and the staff review that decides whether it teaches the SQL agent.

A verified example is reused for every user's similar questions. Staff confirming an answer
makes it one at once; a customer's confirmation waits in the review queue until support or an
admin approves it (`trading-assist examples`, `/v1/feedback/reviews`). The examples live in the
database, so an approval made in another process (the CLI beside a running server) reaches the
memory at the next question (`catch_up`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine

from agents.sql.memory import SqlMemory
from services import audit, sql_examples
from services.errors import AssistantError
from services.identity import Caller, Role
from services.sql_examples import ExampleReview

Audit = Callable[..., Awaitable[Any]]
STAFF = (Role.SUPPORT, Role.ADMIN)


class FeedbackReceipt(BaseModel):
    outcome: Literal["remembered", "queued", "ignored"] = Field(
        description="remembered: the answer is now a verified example; queued: it waits for staff "
        "review; ignored: nothing to learn (not helpful, or no SQL behind the answer)."
    )
    review_id: int | None = Field(None, description="The review it waits in, when queued.")


class ExampleFeedback:
    def __init__(self, engine: Engine, memory: Callable[[], SqlMemory | None], audit_to: Audit):
        self.engine = engine
        self._memory = memory
        self._audit = audit_to
        self._seen = 0  # the newest example id already in memory

    def load(self) -> list[tuple[str, str]]:
        """Every stored example, for a new memory; later ones come through `catch_up`."""
        rows = sql_examples.load_examples(self.engine)
        self._seen = rows[-1][0] if rows else 0
        return [(question, sql) for _, question, sql in rows]

    def catch_up(self) -> None:
        """Examples added since the memory was built (approved elsewhere) join it."""
        memory = self._memory()
        if memory is None:
            return
        for example_id, question, sql in sql_examples.load_examples(self.engine, self._seen):
            memory.remember(question, sql)
            self._seen = example_id

    async def confirm(self, answer_id: int, caller: Caller, helpful: bool) -> FeedbackReceipt:
        """The caller rates one of their own answers. Only answers this platform gave can be
        confirmed (the SQL is the one the model wrote, before scoping), so feedback cannot
        plant SQL of its own."""
        entry = await asyncio.to_thread(audit.find, self.engine, answer_id)
        if entry is None or (entry["action"], entry["outcome"], entry["actor_user_id"]) != (
            "chat.answer",
            "ok",
            caller.user_id,
        ):
            raise AssistantError("unknown_answer", f"there is no answer {answer_id} of yours")
        detail = json.loads(entry["detail"])
        if not helpful or not detail.get("draft"):
            return FeedbackReceipt(outcome="ignored")
        question, sql = detail["question"].strip(), detail["draft"]
        if caller.role in STAFF:
            await asyncio.to_thread(sql_examples.add_example, self.engine, question, sql)
            await asyncio.to_thread(self.catch_up)
            await self._audit(caller, "chat.feedback", "remembered", answer_id=answer_id)
            return FeedbackReceipt(outcome="remembered")
        review_id = await asyncio.to_thread(
            sql_examples.propose, self.engine, answer_id, question, sql, caller.user_id
        )
        await self._audit(caller, "chat.feedback", "queued", answer_id=answer_id, review=review_id)
        return FeedbackReceipt(outcome="queued", review_id=review_id)

    async def reviews(self, caller: Caller) -> list[ExampleReview]:
        _require_staff(caller)
        return await asyncio.to_thread(sql_examples.reviews, self.engine)

    async def decide(
        self, review_id: int, caller: Caller, *, approve: bool, reason: str | None = None
    ) -> ExampleReview:
        _require_staff(caller)
        if not approve and not (reason or "").strip():
            raise AssistantError("invalid_request", "a rejection needs a reason")
        try:
            review = await asyncio.to_thread(
                sql_examples.decide,
                self.engine,
                review_id,
                approve=approve,
                reviewer_id=caller.user_id,
                reason=reason,
            )
        except AssistantError as error:
            await self._audit(
                caller, "example.review", "refused", review=review_id, code=error.code
            )
            raise
        await asyncio.to_thread(self.catch_up)
        await self._audit(caller, "example.review", review.status, review=review_id)
        return review


def _require_staff(caller: Caller) -> None:
    if caller.role not in STAFF:
        raise AssistantError("forbidden", "only support and admins review examples")
