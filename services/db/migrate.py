"""Apply the Alembic migrations programmatically, so `trading-assist` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the database to the latest revision on the given engine's connection.

    On SQLite, a migration that changes a table others refer to rebuilds it (copy, drop,
    rename); with foreign keys enforced the drop would fail on a database with data, so they
    are off for the migration (SQLite only honours that outside a transaction) and every
    reference is checked before the migration commits."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # ends SQLAlchemy's autobegun block; SQLite began nothing
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                if sqlite:
                    _check_references(connection)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _check_references(connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left rows referring to nothing: {broken[:5]}")


def is_current(engine: Engine) -> bool:
    """True when every table of the schema exists (a cheap check before serving)."""
    from services.db.models import Base

    existing = set(inspect(engine).get_table_names())
    return set(Base.metadata.tables) <= existing


def require_schema(engine: Engine) -> None:
    """Raise a clear error when the database file is missing or has no schema.

    Checked before connecting, because connecting to a missing SQLite file would create it.
    """
    from services.db.engines import sqlite_file
    from services.errors import AssistantError

    db_file = sqlite_file(engine.url.render_as_string(hide_password=False))
    if (db_file is not None and not db_file.exists()) or not is_current(engine):
        raise AssistantError(
            "database_missing",
            "the database is missing or has no schema; run `trading-assist demo-data`",
        )
