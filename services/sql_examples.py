"""Storage of verified question -> SQL pairs (the SQL agent's memory) and of the confirmations
that wait for staff before they become one.

A verified example is reused for every user's similar questions, so only staff add them: a
customer's thumbs-up is a review (`propose`), and a support or admin decision (`decide`) turns
it into an example in the same transaction, or records why not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from services import clock
from services.db.models import SqlExample, SqlExampleReview
from services.errors import AssistantError

ReviewStatus = Literal["pending", "approved", "rejected"]


class ExampleReview(BaseModel):
    """A confirmed answer's question and SQL, as staff see it in the review queue."""

    id: int = Field(description="Review id.")
    answer_id: int = Field(description="The answer that was confirmed.")
    question: str = Field(description="The question as it was asked.")
    sql: str = Field(description="The SQL the model wrote for it.")
    proposed_by: int | None = Field(description="The user who confirmed the answer.")
    created_at: datetime = Field(description="When it was confirmed (UTC).")
    status: ReviewStatus = Field(description="pending, approved or rejected.")
    reviewer_id: int | None = Field(None, description="The staff member who decided.")
    reviewed_at: datetime | None = Field(None, description="When it was decided (UTC).")
    reason: str | None = Field(None, description="Why it was rejected.")


def load_examples(engine: Engine, after_id: int = 0) -> list[tuple[int, str, str]]:
    """(id, question, sql) of the examples added after `after_id`, oldest first: all of them at
    start-up, then the ones another process approved since."""
    query = (
        select(SqlExample.id, SqlExample.question, SqlExample.sql)
        .where(SqlExample.id > after_id)
        .order_by(SqlExample.id)
    )
    with engine.connect() as conn:
        return [(i, q, s) for i, q, s in conn.execute(query)]


def add_example(engine: Engine, question: str, sql: str, source: str = "feedback") -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(SqlExample).values(
                question=question, sql=sql, source=source, created_at=clock.utcnow()
            )
        )


def propose(engine: Engine, answer_id: int, question: str, sql: str, user_id: int | None) -> int:
    """Queue a confirmed answer for review; confirming the same answer again changes nothing."""
    values = dict(
        answer_id=answer_id,
        question=question,
        sql=sql,
        proposed_by=user_id,
        created_at=clock.utcnow(),
        status="pending",
    )
    try:
        with engine.begin() as conn:
            return conn.execute(insert(SqlExampleReview).values(**values)).inserted_primary_key[0]
    except IntegrityError:
        with engine.connect() as conn:
            found = select(SqlExampleReview.id).where(SqlExampleReview.answer_id == answer_id)
            return conn.execute(found).scalar_one()


def reviews(engine: Engine, status: ReviewStatus | None = "pending") -> list[ExampleReview]:
    query = select(SqlExampleReview).order_by(SqlExampleReview.id)
    if status is not None:
        query = query.where(SqlExampleReview.status == status)
    with engine.connect() as conn:
        return [ExampleReview.model_validate(row._mapping) for row in conn.execute(query)]


def decide(
    engine: Engine, review_id: int, *, approve: bool, reviewer_id: int | None, reason: str | None
) -> ExampleReview:
    """Approve (the pair becomes a verified example) or reject a pending review, in one
    transaction; a decided review stays as it was decided."""
    with engine.begin() as conn:
        row = conn.execute(
            select(SqlExampleReview).where(SqlExampleReview.id == review_id).with_for_update()
        ).first()
        if row is None:
            raise AssistantError("unknown_review", f"there is no review {review_id}")
        if row.status != "pending":
            raise AssistantError("already_decided", f"review {review_id} was already {row.status}")
        now = clock.utcnow()
        status = "approved" if approve else "rejected"
        changed = conn.execute(
            update(SqlExampleReview)
            .where(SqlExampleReview.id == review_id, SqlExampleReview.status == "pending")
            .values(status=status, reviewer_id=reviewer_id, reviewed_at=now, reason=reason)
        )
        if changed.rowcount != 1:  # another reviewer decided between the read and the write
            raise AssistantError("already_decided", f"review {review_id} was already decided")
        if approve:
            conn.execute(
                insert(SqlExample).values(
                    question=row.question, sql=row.sql, source="feedback", created_at=now
                )
            )
    return ExampleReview.model_validate(
        {**row._mapping, "status": status, "reviewer_id": reviewer_id, "reviewed_at": now}
        | {"reason": reason}
    )


def ensure_seeded(engine: Engine, seeds: list[dict]) -> int:
    """Add the shipped examples to a database that has none (one migrated from before the
    memory existed); return how many were added."""
    with engine.begin() as conn:
        if conn.execute(select(SqlExample.id).limit(1)).first() is not None:
            return 0
        conn.execute(insert(SqlExample), [{k: v for k, v in s.items() if k != "id"} for s in seeds])
    return len(seeds)
