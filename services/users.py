"""Who a user id belongs to (the role always comes from the database), and registering a new
user, announced as `user.registered` in the transaction that creates the row."""

from __future__ import annotations

from sqlalchemy import Connection, Engine, insert, select

from services import clock
from services.db.models import User
from services.errors import AssistantError
from services.events.catalogue import UserRegistered, new_event
from services.events.outbox import record
from services.identity import ROLE_SCOPES, Caller, Role


def caller_for(engine: Engine, user_id: int | None) -> Caller:
    """The operator (no user id) acts as admin; a user id acts with that user's own role."""
    if user_id is None:
        return Caller(user_id=None, role=Role.ADMIN)
    with engine.connect() as conn:
        role = conn.execute(select(User.role).where(User.id == user_id)).scalar_one_or_none()
    if role is None:
        raise AssistantError("unknown_user", f"there is no user with id {user_id}")
    return Caller(user_id=user_id, role=Role(role))


def register(
    conn: Connection,
    *,
    email: str,
    full_name: str,
    country: str,
    role: Role,
    external_id: str | None = None,
) -> int:
    """Create an active standard-tier user on the caller's connection (no commit) and record
    `user.registered` with it: a rolled-back sign-in registers nobody. Demo users are loaded
    as data, not registered."""
    user_id = conn.execute(
        insert(User).values(
            email=email,
            full_name=full_name,
            country=country,
            role=role.value,
            tier="standard",
            status="active",
            created_at=clock.utcnow(),
            external_id=external_id,
        )
    ).inserted_primary_key[0]
    event = UserRegistered(user_id=user_id, country=country, role=role.value)
    record(conn, new_event(event, subject=f"users/{user_id}"))
    return user_id


def current_caller(engine: Engine, signed_in: Caller) -> Caller:
    """A caller who signed in a while ago (a chat UI session) as the database has them now:
    their current role, within the scopes they signed in with; refused once the user is
    locked, closed or removed."""
    with engine.connect() as conn:
        row = conn.execute(
            select(User.role, User.status).where(User.id == signed_in.user_id)
        ).first()
    if row is None:
        raise AssistantError("unknown_user", f"there is no user with id {signed_in.user_id}")
    if row.status != "active":
        raise AssistantError("user_inactive", f"this user is {row.status}")
    role = Role(row.role)
    return signed_in.model_copy(
        update={"role": role, "scopes": signed_in.scopes & ROLE_SCOPES[role]}
    )
