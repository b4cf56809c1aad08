"""The audit trail: one row per answered, refused or failed request."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert

from services.db.models import AuditLog
from services.identity import Caller

log = logging.getLogger("audit")


def record(engine: Engine, caller: Caller, action: str, outcome: str, **detail: Any) -> None:
    log.info("%s %s user=%s role=%s", action, outcome, caller.user_id, caller.role)
    with engine.begin() as conn:
        conn.execute(
            insert(AuditLog).values(
                occurred_at=datetime.now(UTC).replace(tzinfo=None),
                actor_user_id=caller.user_id,
                actor_role=caller.role.value,
                action=action,
                outcome=outcome,
                detail=json.dumps(detail, default=str),
            )
        )
