"""The assistant's audit trail: one row per turn, refusal, deletion and review, written beside
the model calls the turn made.

A turn's row and its model.usage events go in one transaction, so a usage event always names
the row it belongs to (answers/<id>). An audit table that cannot be written is logged and does
not hide the answer or the error the caller is owed. A cloud call the provider layer refuses is
recorded under the caller whose request it was, known from the turn being answered in this
context (the providers are shared by every turn and cannot be handed the caller).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine

from services import audit
from services.identity import Caller, Role
from services.llm.privacy import PrivacyRefusal
from services.llm.usage import Usage
from services.llm.usage_events import record_usage

log = logging.getLogger(__name__)

_asking: ContextVar[Caller | None] = ContextVar("asking", default=None)


class AuditTrail:
    def __init__(self, engine: Engine):
        self.engine = engine

    @staticmethod
    def answering(caller: Caller) -> None:
        """Mark `caller` as the one whose turn runs in this context (not reset by a token: a
        stream may be closed from another context)."""
        _asking.set(caller)

    async def record(
        self,
        caller: Caller,
        action: str,
        outcome: str,
        usages: Sequence[Usage] = (),
        **detail: Any,
    ) -> int | None:
        """Write the audit row and, for a turn, one model.usage event per model call it made,
        in one transaction; the row's id, or None when it could not be written."""

        def write() -> int:
            with self.engine.begin() as conn:
                entry = audit.write(conn, caller, action, outcome, **detail)
                record_usage(conn, usages, user_id=caller.user_id, answer_id=entry)
            return entry

        try:
            return await asyncio.to_thread(write)
        except Exception:  # an unwritable audit table must not hide the answer or the error
            log.exception("could not write the audit record")
            return None

    def refusal(self, refusal: PrivacyRefusal) -> None:
        """The provider layer refused a cloud call: recorded under the caller answered."""
        caller = _asking.get() or Caller(role=Role.ADMIN)
        audit.record(
            self.engine, caller, "llm.privacy_refusal", "refused", **refusal.model_dump(mode="json")
        )
