"""Migration 0009 on a database that already holds demo payments, subscriptions and identity
checks, on SQLite and PostgreSQL: old rows keep their values and get zero counters, the webhook
can settle an old payment by its reference, and the revision goes down and up."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import inspect, text

from services.db.engines import make_engine
from services.db.migrate import alembic_config, upgrade
from tests.integration import postgres

NEW_TABLES = {"stripe_customers", "refunds", "stripe_events"}
NEW_PAYMENT_COLUMNS = {"refunded_amount", "failure_reason", "next_action_url", "idempotency_key"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = postgres.create_database()
    yield postgres.url(name)
    postgres.drop_database(name)


def _columns(engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_old_rows_survive_and_the_revision_goes_down_and_up(database_url):
    engine = make_engine(database_url)
    config = alembic_config(database_url)
    t = datetime(2026, 11, 1)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0007")
            conn.execute(
                text(
                    "INSERT INTO users (id, email, full_name, country, role, tier, status, "
                    "created_at) VALUES (1, 'ann@example.com', 'Ann', 'GB', 'customer', "
                    "'standard', 'active', :t)"
                ),
                {"t": t},
            )
            conn.execute(
                text(
                    "INSERT INTO payments (id, user_id, direction, method, amount, currency, "
                    "status, provider_reference, created_at) VALUES (1, 1, 'deposit', 'card', "
                    "40, 'USD', 'succeeded', 'pi_demo_7_000001', :t)"
                ),
                {"t": t},
            )
            conn.execute(
                text(
                    "INSERT INTO subscriptions (id, user_id, plan, status, monthly_price, "
                    "currency, started_at, current_period_end) VALUES (1, 1, 'pro', 'active', "
                    "29, 'USD', :t, :t)"
                ),
                {"t": t},
            )
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= NEW_TABLES
        assert _columns(engine, "payments") >= NEW_PAYMENT_COLUMNS
        with engine.begin() as conn:
            payment = conn.execute(
                text("SELECT status, refunded_amount, provider_reference FROM payments")
            ).one()
            sub = conn.execute(
                text("SELECT failed_attempts, cancel_at_period_end FROM subscriptions")
            ).one()
            conn.execute(text("UPDATE payments SET status = 'partially_refunded'"))  # 18 chars
        assert (payment.status, float(payment.refunded_amount)) == ("succeeded", 0.0)
        assert payment.provider_reference == "pi_demo_7_000001"
        assert (sub.failed_attempts, bool(sub.cancel_at_period_end)) == (0, False)

        with engine.begin() as conn:
            conn.execute(text("UPDATE payments SET status = 'refunded'"))
            config.attributes["connection"] = conn
            command.downgrade(config, "0007")
        assert not NEW_TABLES & set(inspect(engine).get_table_names())
        assert not NEW_PAYMENT_COLUMNS & _columns(engine, "payments")
        upgrade(engine)
        assert _columns(engine, "kyc_verifications") >= {"provider_reference", "reviewer_id"}
    finally:
        engine.dispose()


def test_0011_adds_the_expiry_notice_column_and_goes_down_and_up(database_url):
    """An approval checked before 0011 keeps its values and has not been told yet; the column
    matches the model; down and up again keep the row."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from services.db.models import Base

    engine = make_engine(database_url)
    config = alembic_config(database_url)
    t = datetime(2026, 11, 1)

    def drift() -> list:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            return [d for d in compare_metadata(context, Base.metadata) if "kyc" in str(d)]

    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0010")
            conn.execute(
                text(
                    "INSERT INTO users (id, email, full_name, country, role, tier, status, "
                    "created_at) VALUES (1, 'ann@example.com', 'Ann', 'GB', 'customer', "
                    "'standard', 'active', :t)"
                ),
                {"t": t},
            )
            conn.execute(
                text(
                    "INSERT INTO kyc_verifications (id, user_id, level, status, expires_at) "
                    "VALUES (1, 1, 'basic', 'approved', :t)"
                ),
                {"t": t},
            )
        upgrade(engine)
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT status, expires_at, expiry_notice_at FROM kyc_verifications")
            ).one()
        assert (row.status, row.expiry_notice_at) == ("approved", None)
        assert str(row.expires_at).startswith("2026-11-01")
        assert drift() == []
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0010")
        assert "expiry_notice_at" not in _columns(engine, "kyc_verifications")
        upgrade(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT status FROM kyc_verifications")).scalar() == "approved"
        assert drift() == []
    finally:
        engine.dispose()
