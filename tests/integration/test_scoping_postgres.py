"""Row scoping on a real PostgreSQL: a customer's guard-rewritten query returns exactly what a
direct query filtered by that customer returns, through joins, subqueries, CTEs, LATERAL and
set operations, and never another customer's rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from services.db.engines import make_replica_engine
from services.identity import Caller, Role
from sql_guard.guard import check
from sql_guard.policy import platform_policy
from sql_guard.runner import ReplicaRunner
from tests.fixtures.sql_guard.loader import read_cases
from tests.integration import postgres

pytestmark = pytest.mark.postgres

POLICY = platform_policy(max_rows=10_000)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sql_guard"

# (what the customer asks, the same question asked directly with every table filtered by {uid})
PAIRS = {
    "join": (
        "SELECT o.id, a.account_number FROM orders o "
        "JOIN trading_accounts a ON a.id = o.account_id",
        "SELECT o.id, a.account_number FROM orders o "
        "JOIN trading_accounts a ON a.id = o.account_id "
        "WHERE o.user_id = {uid} AND a.user_id = {uid}",
    ),
    "left join to a public table": (
        "SELECT m.symbol, COUNT(o.id) FROM market_prices m "
        "LEFT JOIN orders o ON o.symbol = m.symbol AND o.status = 'filled' GROUP BY m.symbol",
        "SELECT m.symbol, COUNT(o.id) FROM market_prices m "
        "LEFT JOIN orders o ON o.symbol = m.symbol AND o.status = 'filled' "
        "AND o.user_id = {uid} GROUP BY m.symbol",
    ),
    "subquery": (
        "SELECT symbol, quantity FROM positions WHERE account_id IN "
        "(SELECT id FROM trading_accounts WHERE status = 'active')",
        "SELECT symbol, quantity FROM positions WHERE user_id = {uid} AND account_id IN "
        "(SELECT id FROM trading_accounts WHERE status = 'active' AND user_id = {uid})",
    ),
    "correlated subquery": (
        "SELECT a.id, (SELECT COUNT(*) FROM orders o WHERE o.account_id = a.id) "
        "FROM trading_accounts a",
        "SELECT a.id, (SELECT COUNT(*) FROM orders o WHERE o.account_id = a.id "
        "AND o.user_id = {uid}) FROM trading_accounts a WHERE a.user_id = {uid}",
    ),
    "EXISTS": (
        "SELECT u.id, u.email FROM users u WHERE EXISTS "
        "(SELECT 1 FROM payments p WHERE p.user_id = u.id)",
        "SELECT u.id, u.email FROM users u WHERE u.id = {uid} AND EXISTS "
        "(SELECT 1 FROM payments p WHERE p.user_id = u.id AND p.user_id = {uid})",
    ),
    "CTE": (
        "WITH t AS (SELECT symbol, SUM(amount) AS total FROM transactions GROUP BY symbol) "
        "SELECT symbol, total FROM t",
        "WITH t AS (SELECT symbol, SUM(amount) AS total FROM transactions "
        "WHERE user_id = {uid} GROUP BY symbol) SELECT symbol, total FROM t",
    ),
    "two CTEs joined": (
        "WITH b AS (SELECT account_id, SUM(quantity) AS q FROM orders GROUP BY account_id), "
        "p AS (SELECT account_id, COUNT(*) AS n FROM positions GROUP BY account_id) "
        "SELECT b.account_id, b.q, p.n FROM b JOIN p ON p.account_id = b.account_id",
        "WITH b AS (SELECT account_id, SUM(quantity) AS q FROM orders WHERE user_id = {uid} "
        "GROUP BY account_id), p AS (SELECT account_id, COUNT(*) AS n FROM positions "
        "WHERE user_id = {uid} GROUP BY account_id) "
        "SELECT b.account_id, b.q, p.n FROM b JOIN p ON p.account_id = b.account_id",
    ),
    "UNION": (
        "SELECT account_id, symbol FROM orders UNION SELECT account_id, symbol FROM positions",
        "SELECT account_id, symbol FROM orders WHERE user_id = {uid} "
        "UNION SELECT account_id, symbol FROM positions WHERE user_id = {uid}",
    ),
    "UNION ALL of money movements": (
        "SELECT 'payment' AS kind, amount FROM payments "
        "UNION ALL SELECT 'transaction', amount FROM transactions",
        "SELECT 'payment' AS kind, amount FROM payments WHERE user_id = {uid} "
        "UNION ALL SELECT 'transaction', amount FROM transactions WHERE user_id = {uid}",
    ),
    "LATERAL": (
        "SELECT a.id, l.created_at FROM trading_accounts a CROSS JOIN LATERAL "
        "(SELECT o.created_at FROM orders o WHERE o.account_id = a.id "
        "ORDER BY o.created_at DESC LIMIT 1) AS l",
        "SELECT a.id, l.created_at FROM trading_accounts a CROSS JOIN LATERAL "
        "(SELECT o.created_at FROM orders o WHERE o.account_id = a.id AND o.user_id = {uid} "
        "ORDER BY o.created_at DESC LIMIT 1) AS l WHERE a.user_id = {uid}",
    ),
    "every user id": (
        "SELECT DISTINCT user_id FROM orders",
        "SELECT DISTINCT user_id FROM orders WHERE user_id = {uid}",
    ),
    "whole users table": ("SELECT * FROM users", "SELECT * FROM users WHERE id = {uid}"),
}


@pytest.fixture(scope="module")
def pg():
    with postgres.demo_database(users=30) as (name, engine):
        yield from _scoped(name, engine)


def _scoped(name, engine):
    replica = make_replica_engine(postgres.url(name), statement_timeout_s=5)
    runner = ReplicaRunner(replica, max_rows=10_000, timeout_s=5)
    with engine.connect() as conn:
        busiest = conn.execute(
            text(
                "SELECT u.id FROM users u JOIN orders o ON o.user_id = u.id "
                "WHERE u.role = 'customer' GROUP BY u.id ORDER BY COUNT(*) DESC, u.id LIMIT 2"
            )
        ).scalars()
        customers = list(busiest)
    yield runner, customers
    replica.dispose()


def _as_customer(runner: ReplicaRunner, sql: str, uid: int) -> list[list]:
    verdict = check(
        sql, policy=POLICY, caller=Caller(role=Role.CUSTOMER, user_id=uid), dialect="postgres"
    )
    assert verdict.allowed, verdict.explain()
    return sorted(runner.run(verdict.sql).rows, key=repr)


def _direct(runner: ReplicaRunner, sql: str) -> list[list]:
    return sorted(runner.run(sql).rows, key=repr)


@pytest.mark.parametrize("name", PAIRS)
def test_customer_sees_what_a_query_filtered_by_them_sees(pg, name):
    runner, (customer, other) = pg
    asked, filtered = PAIRS[name]
    mine = _as_customer(runner, asked, customer)
    assert mine == _direct(runner, filtered.format(uid=customer))
    assert mine  # the customer has data here, so the comparison says something
    everyone = _direct(runner, asked)
    assert everyone != mine  # and the unscoped query would have shown more
    assert _as_customer(runner, asked, other) == _direct(runner, filtered.format(uid=other))


def test_customer_cannot_reach_another_customers_rows(pg):
    runner, (customer, other) = pg
    assert _direct(runner, f"SELECT COUNT(*) FROM orders WHERE user_id = {other}")[0][0] > 0
    probes = {  # each asks for the other customer's rows; each must come back without them
        f"SELECT user_id FROM orders WHERE user_id = {other}": [],
        f"SELECT id FROM users WHERE id = {other}": [],
        f"SELECT o.user_id FROM orders o JOIN users u ON u.id = o.user_id WHERE u.id = {other}": [],
        f"SELECT user_id FROM payments WHERE user_id IN "
        f"(SELECT id FROM users WHERE id = {other})": [],
        f"WITH theirs AS (SELECT * FROM positions WHERE user_id = {other}) "
        "SELECT COUNT(*) FROM theirs": [[0]],
        f"SELECT (SELECT COUNT(*) FROM transactions t WHERE t.user_id = {other}) AS n": [[0]],
        f"SELECT DISTINCT user_id FROM orders WHERE user_id = {customer} "
        f"UNION SELECT user_id FROM orders WHERE user_id = {other}": [[customer]],
        "SELECT COUNT(*) FROM users": [[1]],
    }
    for sql, expected in probes.items():
        assert _as_customer(runner, sql, customer) == expected, sql


def test_public_prices_are_not_scoped(pg):
    runner, (customer, _) = pg
    sql = "SELECT COUNT(*) FROM market_prices"
    assert _as_customer(runner, sql, customer) == _direct(runner, sql)


def test_allowed_postgres_fixture_cases_run_on_postgres(pg):
    runner, (customer, _) = pg
    cases = [c for c in read_cases(FIXTURES) if c.allowed and c.dialect == "postgres"]
    assert len(cases) >= 10
    for case in cases:
        caller = case.caller()
        if caller.is_scoped:
            caller = Caller(role=Role.CUSTOMER, user_id=customer)
        verdict = check(case.sql, policy=POLICY, caller=caller, dialect="postgres")
        assert verdict.allowed, (case.title, verdict.explain())
        runner.run(verdict.sql)  # a QueryError would mean the rewrite broke the query
