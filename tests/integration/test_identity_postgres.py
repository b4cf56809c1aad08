"""Identity's tables on PostgreSQL (migration 0008 applied by Alembic): Entra sign-in finds or
creates users by object id (announcing each new one as user.registered, with the row), keeps the
role in step with the token, refuses a taken email and a locked account; API keys are created,
authenticated (last use written) and revoked."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text, update

from services.auth import api_keys
from services.auth.entra import EntraIdentity
from services.auth.errors import AuthError
from services.auth.sign_in import caller_for_entra
from services.db.models import ApiKey, OutboxEvent, User
from services.identity import Role, Scope
from tests.integration.postgres import demo_database


@pytest.fixture(scope="module")
def pg_engine():
    with demo_database(users=30) as (_, engine):
        # the demo data writes its own ids; new users take the next ones
        with engine.begin() as conn:
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence('users', 'id'), MAX(id)) FROM users")
            )
        yield engine


def registered(engine) -> dict[int, dict]:
    """The user.registered events in the outbox, by user id."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(OutboxEvent.subject, OutboxEvent.data).where(
                OutboxEvent.type == "com.tradingassist.user.registered.v1"
            )
        ).all()
    events = {int(subject.removeprefix("users/")): json.loads(data) for subject, data in rows}
    assert len(events) == len(rows), "a user was registered twice"
    assert all(data["user_id"] == user_id for user_id, data in events.items())
    return events


def _identity(**changes) -> EntraIdentity:
    values = dict(
        oid="oid-1",
        role=Role.CUSTOMER,
        scopes=frozenset({Scope.CHAT}),
        username="first.signin@example.org",
        name="First Signin",
    )
    return EntraIdentity(**{**values, **changes})


def test_sign_in_creates_then_finds_and_follows_the_role(pg_engine):
    first = caller_for_entra(pg_engine, _identity())
    again = caller_for_entra(pg_engine, _identity(role=Role.SUPPORT))
    assert first.user_id == again.user_id and first.auth == "entra"
    assert (first.role, again.role) == (Role.CUSTOMER, Role.SUPPORT)
    with pg_engine.connect() as conn:
        row = conn.execute(
            select(User.email, User.role, User.status).where(User.external_id == "oid-1")
        ).one()
    assert tuple(row) == ("first.signin@example.org", "support", "active")
    assert registered(pg_engine)[first.user_id] == {
        "user_id": first.user_id,
        "country": "ZZ",
        "role": "customer",
    }  # once: finding the user again registers nobody


def test_a_refused_sign_in_registers_nobody(pg_engine):
    with pg_engine.connect() as conn:
        taken = conn.execute(select(User.email).where(User.external_id.is_(None))).scalar()
    before = registered(pg_engine)
    with pytest.raises(AuthError):
        caller_for_entra(pg_engine, _identity(oid="oid-taken", username=taken))
    assert registered(pg_engine) == before


def test_sign_in_refuses_a_taken_email_and_a_locked_account(pg_engine):
    with pg_engine.connect() as conn:
        taken = conn.execute(select(User.email).where(User.external_id.is_(None))).scalar()
    with pytest.raises(AuthError) as conflict:
        caller_for_entra(pg_engine, _identity(oid="oid-2", username=taken))
    assert conflict.value.code == "account_conflict" and conflict.value.status == 403
    caller = caller_for_entra(pg_engine, _identity(oid="oid-3", username="locked@example.org"))
    with pg_engine.begin() as conn:
        conn.execute(update(User).where(User.id == caller.user_id).values(status="locked"))
    with pytest.raises(AuthError) as locked:
        caller_for_entra(pg_engine, _identity(oid="oid-3", username="locked@example.org"))
    assert locked.value.code == "user_inactive"


def test_a_service_principal_gets_no_user_row(pg_engine):
    caller = caller_for_entra(
        pg_engine, _identity(oid="app-oid", role=Role.SERVICE, app_id="crm", username="")
    )
    assert caller.user_id is None and caller.principal == "app:crm" and not caller.is_scoped
    with pg_engine.connect() as conn:
        assert conn.execute(select(User.id).where(User.external_id == "app-oid")).all() == []


def test_api_keys_on_postgres(pg_engine):
    created = api_keys.create(
        pg_engine, "pg-key", Role.SERVICE, frozenset({Scope.TOOLS_READ, Scope.TOOLS_WRITE})
    )
    caller = api_keys.authenticate(pg_engine, created.key)
    assert caller is not None and caller.scopes == {Scope.TOOLS_READ, Scope.TOOLS_WRITE}
    assert caller.role is Role.SERVICE and caller.auth == "api_key"
    with pg_engine.connect() as conn:
        last_used = conn.execute(
            select(ApiKey.last_used_at).where(ApiKey.name == "pg-key")
        ).scalar_one()
    assert last_used is not None
    assert [k.name for k in api_keys.list_keys(pg_engine)] == ["pg-key"]
    api_keys.revoke(pg_engine, "pg-key")
    assert api_keys.authenticate(pg_engine, created.key) is None
    assert api_keys.authenticate(pg_engine, created.key[:-1] + "x") is None
