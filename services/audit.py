"""The audit trail: one row per answered, refused or failed request."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import Connection, Engine, insert, select

from services import clock
from services.db.models import AuditLog
from services.identity import Caller

log = logging.getLogger("audit")
_INSERT = insert(AuditLog)


def record(engine: Engine, caller: Caller, action: str, outcome: str, **detail: Any) -> int:
    """Write one audit row in a transaction of its own and return its id."""
    with engine.begin() as conn:
        return write(conn, caller, action, outcome, **detail)


def write(conn: Connection, caller: Caller, action: str, outcome: str, **detail: Any) -> int:
    """Write one audit row on the caller's connection (no commit), beside what else that
    transaction records, and return its id."""
    log.info("%s %s user=%s role=%s", action, outcome, caller.user_id, caller.role)
    row = {
        "occurred_at": clock.utcnow(),
        "actor_user_id": caller.user_id,
        "actor_role": caller.role.value,
        "action": action,
        "outcome": outcome,
        "detail": json.dumps(detail, default=str),
    }
    # the values as parameters of one constant statement: SQLAlchemy compiles it once, where
    # `.values(...)` would build and key a new statement for every row (every chat turn)
    return conn.execute(_INSERT, row).inserted_primary_key[0]


def find(engine: Engine, entry_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        table = AuditLog.__table__
        row = conn.execute(select(table).where(table.c.id == entry_id)).mappings().first()
    return dict(row) if row else None
