"""The audit trail: one row per answered, refused or failed request."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from services.db.models import AuditLog
from services.identity import Caller

log = logging.getLogger("audit")


def record(engine: Engine, caller: Caller, action: str, outcome: str, **detail: Any) -> int:
    """Write one audit row and return its id."""
    log.info("%s %s user=%s role=%s", action, outcome, caller.user_id, caller.role)
    with engine.begin() as conn:
        return conn.execute(
            insert(AuditLog).values(
                occurred_at=datetime.now(UTC).replace(tzinfo=None),
                actor_user_id=caller.user_id,
                actor_role=caller.role.value,
                action=action,
                outcome=outcome,
                detail=json.dumps(detail, default=str),
            )
        ).inserted_primary_key[0]


def find(engine: Engine, entry_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        table = AuditLog.__table__
        row = conn.execute(select(table).where(table.c.id == entry_id)).mappings().first()
    return dict(row) if row else None
