"""Find the PostgreSQL server on 127.0.0.1:5432, starting it when it is down, and hand each
test a fresh database of its own."""

from __future__ import annotations

import glob
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import psycopg
from sqlalchemy import Engine

ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def _reachable() -> bool:
    try:
        with psycopg.connect(ADMIN_DSN, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


def ensure_server() -> None:
    if _reachable():
        return
    for version in sorted(glob.glob("/etc/postgresql/*")):
        subprocess.run(
            [
                "pg_ctlcluster",
                "--skip-systemctl-redirect",
                version.rsplit("/", 1)[1],
                "main",
                "start",
            ],
            check=False,
            capture_output=True,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _reachable():
            return
        time.sleep(0.5)
    raise RuntimeError("PostgreSQL is not reachable on 127.0.0.1:5432 and could not be started")


def create_database() -> str:
    ensure_server()
    name = f"ta_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def url(name: str, user: str = "postgres") -> str:
    return f"postgresql+psycopg://{user}@127.0.0.1:5432/{name}"


@contextmanager
def demo_database(users: int = 30) -> Iterator[tuple[str, Engine]]:
    """A fresh database with the schema and a small demo dataset, dropped afterwards."""
    from services.db.engines import make_engine
    from services.db.migrate import upgrade
    from services.demo_data.generator import load_demo_data

    name = create_database()
    engine = make_engine(url(name))
    try:
        upgrade(engine)
        load_demo_data(engine, seed=7, as_of=date(2026, 11, 24), users=users)
        yield name, engine
    finally:
        engine.dispose()
        drop_database(name)
