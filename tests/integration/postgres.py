"""Find the PostgreSQL server on 127.0.0.1:5432, starting it when it is down, and hand each
test a fresh database of its own."""

from __future__ import annotations

import glob
import subprocess
import time
import uuid

import psycopg

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
