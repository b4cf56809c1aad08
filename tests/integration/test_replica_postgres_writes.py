"""Defence in depth on a real PostgreSQL: with the SQL guard bypassed on purpose, the replica
connection still refuses every write, and nothing is left changed.

Two layers are checked. The read-only session (`make_replica_engine`: every transaction read-only,
each statement rolled back by `ReplicaRunner`) refuses writes to the database even as the
`postgres` superuser. It does not stop what a superuser may do outside the database: COPY TO a
server file or a program, server-side large-object import, reading server files. Those are
refused when the replica logs in as what a replica role should be, a login role with only
CONNECT, USAGE and SELECT grants, which this test creates for its own database."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from services.db.engines import make_replica_engine
from sql_guard.runner import QueryError, ReplicaRunner
from tests.integration import postgres

pytestmark = pytest.mark.postgres

AUDIT_ROW = (
    "(occurred_at, actor_role, action, outcome, detail) VALUES (now(), 'x', 'x', 'ok', '{}')"
)
DATABASE_WRITES = {
    "writable CTE with DELETE": "WITH d AS (DELETE FROM orders RETURNING id) "
    "SELECT COUNT(*) FROM d",
    "writable CTE with UPDATE": "WITH u AS (UPDATE users SET role = 'admin' RETURNING id) "
    "SELECT COUNT(*) FROM u",
    "writable CTE with INSERT": f"WITH i AS (INSERT INTO audit_log {AUDIT_ROW} RETURNING id) "
    "SELECT COUNT(*) FROM i",
    "SELECT INTO": "SELECT * INTO stolen FROM users",
    "COPY FROM a server file": "COPY market_prices FROM '/etc/hostname'",
    "setval": "SELECT setval('orders_id_seq', 1)",
    "nextval": "SELECT nextval('orders_id_seq')",
    "set_config to read-write": "SELECT set_config('transaction_read_only', 'off', false)",
    "CREATE TEMP TABLE": "CREATE TEMP TABLE loot AS SELECT * FROM users",
    "CREATE TEMP TABLE empty": "CREATE TEMP TABLE loot (x int)",
    "DELETE": "DELETE FROM orders",
    "UPDATE": "UPDATE users SET role = 'admin'",
    "INSERT": f"INSERT INTO audit_log {AUDIT_ROW}",
    "TRUNCATE": "TRUNCATE orders CASCADE",
    "DROP TABLE": "DROP TABLE positions CASCADE",
    "EXPLAIN ANALYZE DELETE": "EXPLAIN ANALYZE DELETE FROM orders",
    "DO block": "DO $$ BEGIN DELETE FROM orders; END $$",
}
SERVER_WRITES = {  # refused by the replica role; a superuser's read-only session allows them
    "COPY TO a server file": "COPY users TO '{file}'",
    "COPY TO a program": "COPY (SELECT 1) TO PROGRAM 'touch {file}'",
    "lo_import": "SELECT lo_import('/etc/hostname')",
    "pg_read_file": "SELECT pg_read_file('/etc/hostname')",
}
STATE = (
    "SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM users WHERE role = 'admin'), "
    "(SELECT COUNT(*) FROM audit_log), (SELECT COUNT(*) FROM positions), "
    "(SELECT last_value FROM orders_id_seq), (SELECT COUNT(*) FROM pg_largeobject_metadata), "
    "(SELECT COUNT(*) FROM pg_class WHERE relname IN ('stolen', 'loot'))"
)

ADVISORY_LOCKS = (
    "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


@pytest.fixture(scope="module")
def database():
    role = f"ta_replica_{uuid.uuid4().hex[:10]}"
    with postgres.demo_database(users=20) as (name, engine):
        with engine.begin() as conn:
            conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
            conn.execute(text(f'GRANT CONNECT ON DATABASE "{name}" TO "{role}"'))
            conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{role}"'))
            conn.execute(text(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{role}"'))
        yield name, role, engine
    with psycopg.connect(postgres.ADMIN_DSN, autocommit=True) as conn:
        conn.execute(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture(scope="module", params=["read-only session", "replica role"])
def replica(request, database):
    name, role, _ = database
    user = role if request.param == "replica role" else "postgres"
    engine = make_replica_engine(postgres.url(name, user=user), statement_timeout_s=5)
    yield ReplicaRunner(engine, max_rows=10, timeout_s=5)
    engine.dispose()


@pytest.fixture(scope="module")
def replica_role(database):
    name, role, _ = database
    engine = make_replica_engine(postgres.url(name, user=role), statement_timeout_s=5)
    yield ReplicaRunner(engine, max_rows=10, timeout_s=5)
    engine.dispose()


def _state(engine) -> tuple:  # noqa: ANN001 - SQLAlchemy Engine
    with engine.connect() as conn:
        return tuple(conn.execute(text(STATE)).one())


def test_the_replica_reads(replica):
    assert replica.run("SELECT COUNT(*) FROM orders").rows[0][0] > 0


@pytest.mark.parametrize("sql", DATABASE_WRITES.values(), ids=DATABASE_WRITES.keys())
def test_database_writes_are_refused(database, replica, sql):
    _, _, engine = database
    before = _state(engine)
    with pytest.raises(QueryError, match="read-only transaction|permission denied|must be"):
        replica.run(sql)
    assert _state(engine) == before


@pytest.mark.parametrize("sql", SERVER_WRITES.values(), ids=SERVER_WRITES.keys())
def test_server_side_effects_are_refused_to_the_replica_role(database, replica_role, sql):
    _, _, engine = database
    target = Path("/tmp") / f"ta_replica_{uuid.uuid4().hex}"  # the server's /tmp, not pytest's
    before = _state(engine)
    with pytest.raises(QueryError, match="permission denied|must be superuser|privileges of"):
        replica_role.run(sql.format(file=target))
    assert not target.exists()
    assert _state(engine) == before


@pytest.mark.parametrize(
    "sql", ["SELECT lo_from_bytea(0, 'x')", "SELECT lo_create(0)", "SELECT pg_advisory_lock(1)"]
)
def test_what_read_only_mode_lets_through_is_rolled_back(database, replica, sql):
    """PostgreSQL lets any role create a large object or take a session-level advisory lock in
    a read-only transaction; the runner rolls back every statement and releases such locks
    before the connection goes back to the pool, so neither survives it."""
    _, _, engine = database
    before = _state(engine)
    replica.run(sql)
    assert _state(engine) == before
    with engine.connect() as conn:
        locks = conn.execute(text(ADVISORY_LOCKS)).scalar_one()
    assert locks == 0


def test_switching_read_only_off_does_not_outlive_the_statement(database):
    name, _, engine = database
    replica_engine = make_replica_engine(postgres.url(name), statement_timeout_s=5)
    runner = ReplicaRunner(replica_engine, max_rows=10, timeout_s=5)
    try:
        before = _state(engine)
        # as the superuser this succeeds, inside a transaction the runner rolls back ...
        runner.run("SELECT set_config('default_transaction_read_only', 'off', false)")
        # ... so the next statement on the same pooled connection is read-only again
        with pytest.raises(QueryError, match="read-only transaction"):
            runner.run("DELETE FROM orders")
        assert runner.run("SHOW default_transaction_read_only").rows == [["on"]]
        assert _state(engine) == before
    finally:
        replica_engine.dispose()
