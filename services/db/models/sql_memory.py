"""Verified question and SQL pairs the SQL agent learns from, and those awaiting review."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped

from services.db.models.base import Base, col


class SqlExample(Base):
    __tablename__ = "sql_examples"
    __table_args__ = {"comment": "Verified question and SQL pairs the SQL agent learns from."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Example id.")
    question: Mapped[str] = col(Text, comment="The question as a user asked it.")
    sql: Mapped[str] = col(Text, comment="SQL verified to answer it.")
    source: Mapped[str] = col(String(20), comment="seed (shipped) or feedback (a user confirmed).")
    created_at: Mapped[datetime] = col(DateTime, comment="When it was added (UTC).")


class SqlExampleReview(Base):
    __tablename__ = "sql_example_reviews"
    __table_args__ = (
        UniqueConstraint("answer_id", name="uq_sql_example_reviews_answer"),
        {"comment": "Confirmed answers waiting for staff before they become SQL examples."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Review id.")
    answer_id: Mapped[int] = col(
        Integer, comment="The audit record of the answer that was confirmed."
    )
    question: Mapped[str] = col(Text, comment="The question as it was asked.")
    sql: Mapped[str] = col(Text, comment="The SQL the model wrote for it.")
    proposed_by: Mapped[int | None] = col(
        ForeignKey("users.id"), nullable=True, comment="The user who confirmed the answer."
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When it was confirmed (UTC).")
    status: Mapped[str] = col(String(10), index=True, comment="pending, approved or rejected.")
    reviewer_id: Mapped[int | None] = col(
        ForeignKey("users.id"), nullable=True, comment="The staff member who decided."
    )
    reviewed_at: Mapped[datetime | None] = col(
        DateTime, nullable=True, comment="When it was decided (UTC)."
    )
    reason: Mapped[str | None] = col(Text, nullable=True, comment="Why it was rejected.")
