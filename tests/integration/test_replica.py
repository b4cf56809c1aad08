"""The read replica refuses writes on its own, whatever SQL reaches it."""

import pytest
from sqlalchemy import text

from services.db.engines import make_replica_engine
from sql_guard.runner import QueryError, ReplicaRunner


@pytest.fixture
def runner(demo_settings):
    engine = make_replica_engine(demo_settings.read_replica_url, 5)
    yield ReplicaRunner(engine, max_rows=10, timeout_s=2)
    engine.dispose()


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM orders",
        "UPDATE users SET role = 'admin'",
        "INSERT INTO audit_log (occurred_at, actor_role, action, outcome, detail) "
        "VALUES ('2026-01-01', 'x', 'x', 'x', 'x')",
        "DROP TABLE positions",
        "CREATE TABLE evil (x INT)",
    ],
)
def test_sqlite_replica_refuses_writes(runner, demo_engine, sql):
    with demo_engine.connect() as conn:
        before = conn.execute(text("SELECT COUNT(*) FROM orders")).scalar_one()
    with pytest.raises(QueryError, match="readonly"):
        runner.run(sql)
    with demo_engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM orders")).scalar_one() == before


def test_rows_are_capped(runner):
    result = runner.run("SELECT id FROM orders")
    assert len(result.rows) == 10 and result.truncated


def test_runaway_query_is_stopped(runner):
    sql = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n"
    with pytest.raises(QueryError, match="longer than 2 s"):
        runner.run(sql)
