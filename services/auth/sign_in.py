"""Entra users in the platform's `users` table, found by their object id.

A user is created on first sign-in from the token's name and username, and announced as
`user.registered` in the same transaction; the role always comes from the token's app roles
(the directory is the authority) and is written back when it changed, so row scoping and the
audit trail agree with it. A service principal is no user: it gets no row.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from services.auth.entra import EntraIdentity
from services.auth.errors import AuthError
from services.db.models import User
from services.identity import Caller, Role
from services.users import register

log = logging.getLogger(__name__)


def caller_for_entra(engine: Engine, identity: EntraIdentity) -> Caller:
    if identity.role is Role.SERVICE:
        return Caller(
            user_id=None,
            role=Role.SERVICE,
            scopes=identity.scopes,
            auth="entra",
            principal=f"app:{identity.app_id or identity.oid}",
        )
    user_id = _user_id(engine, identity)
    return Caller(
        user_id=user_id,
        role=identity.role,
        scopes=identity.scopes,
        auth="entra",
        principal=identity.username or identity.oid,
    )


def _user_id(engine: Engine, identity: EntraIdentity) -> int:
    try:
        with engine.begin() as conn:
            row = conn.execute(
                select(User.id, User.role, User.status).where(User.external_id == identity.oid)
            ).first()
            if row is None:
                return _create(conn, identity)
            if row.status != "active":
                raise AuthError("user_inactive", f"this user is {row.status}")
            if row.role != identity.role.value:
                log.info("user %s role %s -> %s (app roles)", row.id, row.role, identity.role)
                conn.execute(update(User).where(User.id == row.id).values(role=identity.role.value))
            return row.id
    except IntegrityError:
        with engine.connect() as conn:
            # a second request of the same first sign-in created the row first
            user_id = conn.execute(
                select(User.id).where(User.external_id == identity.oid)
            ).scalar_one_or_none()
            email_taken = conn.execute(
                select(User.id).where(User.email == identity.username)
            ).first()
        if user_id is not None:
            return user_id
        if email_taken:
            raise AuthError(
                "account_conflict",
                f"another user already has the email {identity.username}; an administrator "
                "must link it (users.external_id) to this directory account",
            ) from None
        raise


def _create(conn, identity: EntraIdentity) -> int:  # noqa: ANN001 - a SQLAlchemy connection
    email = identity.username or f"{identity.oid}@entra.invalid"
    user_id = register(
        conn,
        email=email,
        full_name=identity.name or email,
        country="ZZ",  # unknown until the user says
        role=identity.role,
        external_id=identity.oid,
    )
    log.info("user %s created on first sign-in (%s)", user_id, identity.role)
    return user_id
