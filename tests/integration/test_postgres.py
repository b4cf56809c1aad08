"""The operational schema, the demo data and the replica's defences on a real PostgreSQL."""

import pytest
from sqlalchemy import inspect, text

from services.db.engines import make_replica_engine
from services.db.migrate import is_current
from sql_guard.runner import QueryError, ReplicaRunner
from tests.integration import postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_database():
    with postgres.demo_database(users=30) as database:
        yield database


def test_schema_and_comments_exist_on_postgres(pg_database):
    _, engine = pg_database
    assert is_current(engine)
    inspector = inspect(engine)
    assert inspector.get_table_comment("orders")["text"].startswith("Buy and sell orders")
    columns = {c["name"]: c for c in inspector.get_columns("users")}
    assert columns["email"]["comment"] == "Login email address (personal data)."


def test_demo_data_loads_on_postgres(pg_database):
    _, engine = pg_database
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM users")).scalar_one() == 30
        assert conn.execute(text("SELECT COUNT(*) FROM orders")).scalar_one() > 100


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM orders",
        "UPDATE users SET role = 'admin'",
        "CREATE TABLE evil (x int)",
        "SELECT setval('orders_id_seq', 1)",
    ],
)
def test_replica_session_is_read_only(pg_database, sql):
    name, engine = pg_database
    replica = make_replica_engine(postgres.url(name), statement_timeout_s=2)
    with pytest.raises(QueryError, match="read-only transaction"):
        ReplicaRunner(replica, max_rows=10, timeout_s=2).run(sql)
    replica.dispose()


def test_replica_statement_timeout(pg_database):
    name, _ = pg_database
    replica = make_replica_engine(postgres.url(name), statement_timeout_s=1)
    with pytest.raises(QueryError, match="longer than 1 s"):
        ReplicaRunner(replica, max_rows=10, timeout_s=1).run("SELECT pg_sleep(3)")
    replica.dispose()
