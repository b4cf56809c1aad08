"""Migration 0007 on a database that already holds notifications, on SQLite and PostgreSQL: old
rows keep their status, an old pending one is delivered, and the revision goes down and up."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic import command
from sqlalchemy import inspect, text

from services.db.engines import make_engine
from services.db.migrate import alembic_config, upgrade
from services.notifications.service import NotificationService
from tests.conftest import make_settings
from tests.integration import postgres

NEW_TABLES = {"notification_preferences", "notification_events"}
NEW_COLUMNS = {"kind", "event_id", "body_html", "attempts", "next_attempt_at", "last_error"}


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = postgres.create_database()
    yield postgres.url(name)
    postgres.drop_database(name)


def _columns(engine) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns("notifications")}


def test_old_notifications_survive_and_a_pending_one_is_delivered(database_url, tmp_path, caplog):
    engine = make_engine(database_url)
    config = alembic_config(database_url)
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0003")
            conn.execute(
                text(
                    "INSERT INTO users (id, email, full_name, country, role, tier, status, "
                    "created_at) VALUES (1, 'ann@example.com', 'Ann', 'GB', 'customer', "
                    "'standard', 'active', :t)"
                ),
                {"t": datetime(2026, 1, 1)},
            )
            conn.execute(
                text(
                    "INSERT INTO notifications (id, user_id, channel, subject, body, status, "
                    "created_at, sent_at) VALUES (1, 1, 'email', 'Old', 'Old body', 'pending', "
                    ":t, NULL), (2, 1, 'push', 'Read', 'b', 'read', :t, :t)"
                ),
                {"t": datetime(2026, 11, 1)},
            )
        upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= NEW_TABLES
        assert _columns(engine) >= NEW_COLUMNS

        settings = make_settings(tmp_path / "var", database_url=database_url)
        with caplog.at_level("INFO", logger="services.notifications"):
            report = NotificationService.from_settings(settings, engine).deliver_due()
        assert (report.sent, report.failed) == (1, 0)
        assert any("email not sent (SMTP_HOST unset)" in r.getMessage() for r in caplog.records)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, status, attempts FROM notifications ORDER BY id")
            ).all()
        assert [tuple(r) for r in rows] == [(1, "sent", 1), (2, "read", 0)]

        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0007-1")  # whatever the chain before it
        assert not NEW_TABLES & set(inspect(engine).get_table_names())
        assert not NEW_COLUMNS & _columns(engine)
        upgrade(engine)
        assert _columns(engine) >= NEW_COLUMNS
    finally:
        engine.dispose()
