"""Migrations 0008 (users.external_id, api_keys) and 0012 (user_passwords) apply, revert and
apply again, on SQLite (batch operations) and on PostgreSQL, leaving the schema the models
describe."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import inspect

from services.db.engines import make_engine
from services.db.migrate import alembic_config, is_current, upgrade
from tests.integration import postgres


def _round_trip(engine) -> tuple[set[str], set[str]]:
    upgrade(engine)
    assert is_current(engine)
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    inspector = inspect(engine)
    reverted = (
        set(inspector.get_table_names()),
        {c["name"] for c in inspector.get_columns("users")},
    )
    upgrade(engine)
    inspector = inspect(engine)
    assert {"api_keys", "user_passwords"} <= set(inspector.get_table_names())
    assert "external_id" in {c["name"] for c in inspector.get_columns("users")}
    if engine.dialect.name == "postgresql":  # SQLite keeps no comments
        assert inspector.get_table_comment("api_keys")["text"].startswith("Keys other systems")
    return reverted


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0008_round_trip(backend, tmp_path):
    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
        name = None
    else:
        name = postgres.create_database()
        engine = make_engine(postgres.url(name))
    try:
        tables, user_columns = _round_trip(engine)
    finally:
        engine.dispose()
        if name:
            postgres.drop_database(name)
    assert not {"api_keys", "user_passwords"} & tables and "external_id" not in user_columns
