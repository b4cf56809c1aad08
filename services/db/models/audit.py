"""The audit log: who did what and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped

from services.db.models.base import Base, col


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = {"comment": "Who did what and when: questions, SQL run, refusals, tool calls."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Entry id.")
    occurred_at: Mapped[datetime] = col(DateTime, index=True, comment="When it happened (UTC).")
    actor_user_id: Mapped[int | None] = col(Integer, comment="Acting user id, empty for system.")
    actor_role: Mapped[str] = col(String(20), comment="Role of the actor.")
    action: Mapped[str] = col(String(50), comment="What was done, e.g. chat.answer, sql.rejected.")
    outcome: Mapped[str] = col(String(20), comment="ok, rejected or error.")
    detail: Mapped[str] = col(Text, comment="JSON with the specifics of the event.")
