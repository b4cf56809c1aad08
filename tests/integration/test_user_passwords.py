"""Chat UI passwords through the real CLI on a copy of the demo database: set from standard
input or generated, stored as a scrypt hash only, checked at sign-in (wrong password, unknown
email, inactive user refused), and out of the SQL agent's reach."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from cli.main import app as cli
from graphs.build import INTERNAL_TABLES
from services.auth import passwords
from services.db.engines import make_engine
from services.db.models import User, UserPassword
from services.identity import Role
from services.settings import get_settings
from sql_guard.policy import platform_policy
from tests.conftest import copy_database

PASSWORD = "plum-harbour-ledger-42"


@pytest.fixture
def engine(demo_settings, tmp_path, monkeypatch):
    var = tmp_path / "var"
    var.mkdir()
    copy_database(demo_settings.var_dir / "trading_assist.db", var / "trading_assist.db")
    monkeypatch.setenv("VAR_DIR", str(var))
    get_settings.cache_clear()
    engine = make_engine(f"sqlite:///{var / 'trading_assist.db'}")
    yield engine
    engine.dispose()
    get_settings.cache_clear()


def _user(engine, role: str) -> tuple[int, str]:
    with engine.connect() as conn:
        row = conn.execute(
            select(User.id, User.email).where(User.role == role, User.status == "active")
        ).first()
    return row.id, row.email


def test_a_password_set_from_stdin_signs_in_and_only_its_hash_is_kept(engine):
    user_id, email = _user(engine, "customer")
    result = CliRunner().invoke(
        cli, ["user", "password", "--user-id", str(user_id)], input=PASSWORD + "\n"
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    with engine.connect() as conn:
        stored = conn.execute(
            select(UserPassword.password_hash).where(UserPassword.user_id == user_id)
        ).scalar_one()
    assert stored.startswith("scrypt$") and PASSWORD not in stored

    caller = passwords.sign_in(engine, email.upper(), PASSWORD)  # the email in any case
    assert caller is not None and caller.user_id == user_id and caller.role is Role.CUSTOMER
    assert passwords.sign_in(engine, email, PASSWORD + "x") is None
    assert passwords.sign_in(engine, "nobody@example.invalid", PASSWORD) is None

    with engine.begin() as conn:
        conn.execute(update(User).where(User.id == user_id).values(status="locked"))
    assert passwords.sign_in(engine, email, PASSWORD) is None


def test_a_generated_password_is_printed_once_and_replaces_the_old_one(engine):
    user_id, email = _user(engine, "support")
    passwords.set_password(engine, user_id, PASSWORD)
    result = CliRunner().invoke(cli, ["user", "password", "--user-id", str(user_id), "--generate"])
    assert result.exit_code == 0, result.output
    generated = result.stdout.strip()
    assert len(generated) == 20
    caller = passwords.sign_in(engine, email, generated)
    assert caller is not None and caller.role is Role.SUPPORT
    assert passwords.sign_in(engine, email, PASSWORD) is None  # the old one no longer works


def test_passwords_that_cannot_be_set(engine):
    user_id, _ = _user(engine, "customer")
    short = CliRunner().invoke(
        cli, ["user", "password", "--user-id", str(user_id)], input="short\n"
    )
    unknown = CliRunner().invoke(
        cli, ["user", "password", "--user-id", "999999"], input=PASSWORD + "\n"
    )
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    assert unknown.exit_code == 1 and "no user with id 999999" in unknown.output
    with engine.connect() as conn:
        assert conn.execute(select(UserPassword)).first() is None  # nothing half-written


def test_the_password_table_is_out_of_the_sql_agents_reach():
    assert "user_passwords" in INTERNAL_TABLES  # never shown to the model
    policy = platform_policy()
    assert "user_passwords" in policy.tables  # known to the guard, so refused by role
    assert [r for r in Role if "user_passwords" in policy.tables_for(r)] == [Role.ADMIN]
