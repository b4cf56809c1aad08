"""Looking up who a user id belongs to; the role always comes from the database."""

from __future__ import annotations

from sqlalchemy import Engine, select

from services.db.models import User
from services.errors import AssistantError
from services.identity import Caller, Role


def caller_for(engine: Engine, user_id: int | None) -> Caller:
    """The operator (no user id) acts as admin; a user id acts with that user's own role."""
    if user_id is None:
        return Caller(user_id=None, role=Role.ADMIN)
    with engine.connect() as conn:
        role = conn.execute(select(User.role).where(User.id == user_id)).scalar_one_or_none()
    if role is None:
        raise AssistantError("unknown_user", f"there is no user with id {user_id}")
    return Caller(user_id=user_id, role=Role(role))
