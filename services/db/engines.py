"""Engines for the operational database and its read replica.

The replica engine is the second line of defence behind `sql_guard`: even SQL that slipped past
the guard cannot write through it (SQLite opened `mode=ro`; PostgreSQL sessions default to
read-only transactions with a statement timeout).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def make_engine(database_url: str) -> Engine:
    """The read-write engine used by services, migrations and the demo-data loader."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def make_replica_engine(replica_url: str, statement_timeout_s: float) -> Engine:
    """A read-only engine: writes fail at the database, whatever SQL reaches it."""
    url = make_url(replica_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return create_engine(url, connect_args={"check_same_thread": False})
    if backend == "postgresql":
        options = (
            "-c default_transaction_read_only=on "
            f"-c statement_timeout={int(statement_timeout_s * 1000)}"
        )
        return create_engine(url, pool_pre_ping=True, connect_args={"options": options})
    return create_engine(url, pool_pre_ping=True)


def sqlite_file(database_url: str) -> Path | None:
    """The file behind a SQLite URL (None for other databases or in-memory)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    name = url.database.removeprefix("file:")
    return Path(name)
