"""The guard's rewrites: row scoping wherever an owned table appears, the row cap, and the SQL
written for the replica's dialect.

Scoping is checked by its meaning, not its text: a customer's rewritten query over everyone's
rows must return exactly what the original query returns over a copy of the database that
holds only that customer's rows."""

from __future__ import annotations

import sqlite3

import pytest
import sqlglot
from sqlglot import exp

from services.identity import Caller, Role
from sql_guard.guard import check
from sql_guard.policy import Policy, open_policy, platform_policy
from sql_guard.rewrite import cap_limit, scope_rows
from sql_guard.verdict import Reason, Verdict

SCHEMA = {
    "users": {"id": "INT", "name": "TEXT", "country": "TEXT"},
    "accounts": {"id": "INT", "user_id": "INT", "kind": "TEXT"},
    "orders": {"id": "INT", "user_id": "INT", "account_id": "INT", "symbol": "TEXT", "qty": "INT"},
    "prices": {"symbol": "TEXT", "close": "DOUBLE"},
}
POLICY = Policy(
    tables=SCHEMA,
    owner_columns={"users": "id", "accounts": "user_id", "orders": "user_id"},
    max_rows=1000,
)
ROWS = {
    "users": [(1, "Ada", "UK"), (2, "Bo", "SE"), (3, "Cy", "UK")],
    "accounts": [(10, 1, "cash"), (11, 1, "margin"), (20, 2, "cash"), (30, 3, "cash")],
    "orders": [
        (100, 1, 10, "AAPL", 5),
        (101, 1, 11, "BTC", 1),
        (200, 2, 20, "AAPL", 50),
        (201, 2, 20, "TSLA", 7),
        (300, 3, 30, "BTC", 2),
        (301, 3, 30, "ETH", 9),
    ],
    "prices": [("AAPL", 190.0), ("BTC", 60000.0), ("TSLA", 250.0), ("ETH", 3000.0)],
}
OWNER_INDEX = {"users": 0, "accounts": 1, "orders": 1}
CUSTOMER = Caller(role=Role.CUSTOMER, user_id=1)

SCOPED_QUERIES = {
    "plain": "SELECT id, symbol FROM orders",
    "every user": "SELECT id, name FROM users",
    "join": "SELECT o.id, a.kind FROM orders o JOIN accounts a ON a.id = o.account_id",
    "join with an unowned table": "SELECT o.symbol, p.close FROM orders o JOIN prices p "
    "ON p.symbol = o.symbol",
    "left join from an unowned table": "SELECT p.symbol, COUNT(o.id) FROM prices p "
    "LEFT JOIN orders o ON o.symbol = p.symbol GROUP BY p.symbol",
    "subquery in WHERE": "SELECT symbol FROM prices WHERE symbol IN (SELECT symbol FROM orders)",
    "another user's id in WHERE": "SELECT id FROM orders WHERE user_id = 2",
    "correlated EXISTS": "SELECT u.name FROM users u WHERE EXISTS "
    "(SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.qty > 1)",
    "scalar subquery": "SELECT (SELECT SUM(qty) FROM orders) AS total",
    "derived table": "SELECT t.symbol, t.n FROM (SELECT symbol, COUNT(*) AS n FROM orders "
    "GROUP BY symbol) AS t",
    "CTE": "WITH mine AS (SELECT * FROM orders WHERE qty > 0) SELECT symbol, qty FROM mine",
    "CTE used twice": "WITH s AS (SELECT symbol, qty FROM orders) "
    "SELECT a.symbol FROM s a JOIN s b ON a.symbol = b.symbol",
    "CTE inside a subquery": "SELECT name FROM users WHERE id IN "
    "(WITH x AS (SELECT user_id FROM orders) SELECT user_id FROM x)",
    "UNION": "SELECT symbol FROM orders UNION SELECT kind FROM accounts",
    "UNION ALL with a filter on another user": "SELECT id FROM orders WHERE user_id = 3 "
    "UNION ALL SELECT id FROM accounts",
    "INTERSECT": "SELECT symbol FROM orders INTERSECT SELECT symbol FROM prices",
    "EXCEPT": "SELECT symbol FROM prices EXCEPT SELECT symbol FROM orders",
    "window": "SELECT id, RANK() OVER (ORDER BY qty DESC) FROM orders",
    "self join": "SELECT a.id, b.id FROM orders a JOIN orders b ON a.symbol <> b.symbol",
    "aggregate over a join of three": "SELECT u.country, COUNT(*) FROM users u "
    "JOIN accounts a ON a.user_id = u.id JOIN orders o ON o.account_id = a.id GROUP BY u.country",
}


def _database(only_user: int | None = None) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    for table, columns in SCHEMA.items():
        conn.execute(f"CREATE TABLE {table} ({', '.join(columns)})")
        rows = [
            row
            for row in ROWS[table]
            if only_user is None or table not in OWNER_INDEX or row[OWNER_INDEX[table]] == only_user
        ]
        conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})", rows)
    return conn


@pytest.fixture(scope="module")
def everyone():
    conn = _database()
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def only_user_1():
    conn = _database(only_user=1)
    yield conn
    conn.close()


@pytest.mark.parametrize("sql", SCOPED_QUERIES.values(), ids=SCOPED_QUERIES.keys())
def test_scoped_query_sees_exactly_the_customers_rows(everyone, only_user_1, sql):
    verdict = check(sql, policy=POLICY, caller=CUSTOMER)
    assert verdict.allowed, verdict.explain()
    scoped = sorted(everyone.execute(verdict.sql).fetchall())
    expected = sorted(only_user_1.execute(sql).fetchall())
    assert scoped == expected
    unscoped = sorted(everyone.execute(sql).fetchall())
    if unscoped != expected:  # the query reads other users' rows: the rewrite must change it
        assert verdict.sql != sql


def test_every_reference_to_an_owned_table_is_scoped():
    sql = (
        "WITH c AS (SELECT account_id FROM orders) SELECT u.name FROM users u "
        "WHERE u.id IN (SELECT user_id FROM accounts WHERE id IN (SELECT account_id FROM c)) "
        "UNION SELECT symbol FROM orders"
    )
    rewritten = sqlglot.parse_one(check(sql, policy=POLICY, caller=CUSTOMER).sql)
    owned = [t for t in rewritten.find_all(exp.Table) if t.name in POLICY.owner_columns]
    assert sorted(t.name for t in owned) == ["accounts", "orders", "orders", "users"]
    for table in owned:  # each is the only source of a subquery keeping the customer's rows
        select = table.parent.parent
        assert isinstance(select, exp.Select) and isinstance(select.parent, exp.Subquery)
        assert not select.args.get("joins")
        assert select.args["where"].sql() == f"WHERE {POLICY.owner_columns[table.name]} = 1"


def test_scoping_keeps_the_alias_and_leaves_ctes_and_unowned_tables():
    tree = sqlglot.parse_one(
        "WITH x AS (SELECT * FROM orders) "
        "SELECT p.close FROM x JOIN prices p ON p.symbol = x.symbol"
    )
    assert scope_rows(tree, {"orders": "user_id"}, 9).sql() == (
        "WITH x AS (SELECT * FROM (SELECT * FROM orders WHERE user_id = 9) AS orders) "
        "SELECT p.close FROM x JOIN prices AS p ON p.symbol = x.symbol"
    )


def test_only_customers_are_scoped():
    sql = "SELECT COUNT(*) FROM orders"
    for role in (Role.SUPPORT, Role.ADMIN):
        verdict = check(sql, policy=POLICY, caller=Caller(role=role, user_id=1))
        assert verdict.sql == "SELECT COUNT(*) FROM orders LIMIT 1000"
    assert "user_id = 1" in check(sql, policy=POLICY, caller=CUSTOMER).sql


def test_a_customer_without_a_user_id_is_refused():
    verdict = check("SELECT 1", policy=POLICY, caller=Caller(role=Role.CUSTOMER))
    assert verdict == Verdict(
        allowed=False,
        reasons=[
            Reason(code="no_identity", message="a customer query needs an authenticated user id")
        ],
    )


@pytest.mark.parametrize(
    ("sql", "dialect", "expected"),
    [
        ("SELECT a FROM t", "sqlite", "SELECT a FROM t LIMIT 50"),
        ("SELECT a FROM t LIMIT 10", "sqlite", "SELECT a FROM t LIMIT 10"),
        ("SELECT a FROM t LIMIT 5000", "sqlite", "SELECT a FROM t LIMIT 50"),
        ("SELECT a FROM t LIMIT -1", "sqlite", "SELECT a FROM t LIMIT 50"),
        ("SELECT a FROM t LIMIT 20, 5000", "sqlite", "SELECT a FROM t LIMIT 50 OFFSET 20"),
        ("SELECT a FROM t LIMIT 10 OFFSET 5", "postgres", "SELECT a FROM t LIMIT 10 OFFSET 5"),
        ("SELECT a FROM t LIMIT (SELECT 9)", "postgres", "SELECT a FROM t LIMIT 50"),
        ("SELECT a FROM t FETCH FIRST 500 ROWS ONLY", "postgres", "SELECT a FROM t LIMIT 50"),
        (
            "SELECT a FROM t UNION SELECT a FROM u",
            "postgres",
            "SELECT a FROM t UNION SELECT a FROM u LIMIT 50",
        ),
        ("(SELECT a FROM t)", "postgres", "SELECT a FROM t LIMIT 50"),
        ("SELECT TOP 10 a FROM t", "tsql", "SELECT TOP 10 a FROM t"),
        ("SELECT TOP 900 a FROM t", "tsql", "SELECT TOP 50 a FROM t"),
        ("SELECT TOP 10 PERCENT a FROM t", "tsql", "SELECT TOP 50 a FROM t"),
        ("SELECT TOP 5 WITH TIES a FROM t ORDER BY a", "tsql", "SELECT TOP 50 a FROM t ORDER BY a"),
        ("SELECT a FROM t", "tsql", "SELECT TOP 50 a FROM t"),
        ("SELECT a FROM t LIMIT 10%", "duckdb", "SELECT a FROM t LIMIT 50"),
        ("SELECT a FROM t LIMIT 7", "mysql", "SELECT a FROM t LIMIT 7"),
    ],
)
def test_row_cap(sql, dialect, expected):
    assert cap_limit(sqlglot.parse_one(sql, read=dialect), 50).sql(dialect) == expected


def test_row_cap_comes_from_the_policy():
    policy = platform_policy(max_rows=25)
    verdict = check("SELECT symbol FROM market_prices LIMIT 100", policy=policy, caller=CUSTOMER)
    assert verdict.sql == "SELECT symbol FROM market_prices LIMIT 25"


@pytest.mark.parametrize(
    ("sql", "source", "target", "expected"),
    [
        (
            "SELECT TOP 5 [a] FROM [t] WHERE ISNULL(b, '') <> ''",
            "tsql",
            "postgres",
            """SELECT "a" FROM "t" WHERE COALESCE(b, '') <> '' LIMIT 5""",
        ),
        (
            "SELECT a FROM t WHERE b LIKE 'x%' LIMIT 3",
            "postgres",
            "tsql",
            "SELECT TOP 3 a FROM t WHERE b LIKE 'x%'",
        ),
        (
            "SELECT strftime('%Y', d) AS y, COUNT(*) FROM t GROUP BY y",
            "sqlite",
            "postgres",
            "SELECT TO_CHAR(CAST(d AS TIMESTAMP), 'YYYY') AS y, COUNT(*) FROM t "
            "GROUP BY y LIMIT 50",
        ),
        (
            "SELECT DATE_FORMAT(d, '%Y-%m') AS m, IFNULL(b, 'none') AS b2 FROM `t`",
            "mysql",
            "duckdb",
            """SELECT STRFTIME(CAST(d AS TIMESTAMP), '%Y-%m') AS m, COALESCE(b, 'none') AS b2 """
            """FROM "t" LIMIT 50""",
        ),
    ],
)
def test_sql_is_written_for_the_replicas_dialect(sql, source, target, expected):
    policy = open_policy({"t": {"a": "INT", "b": "TEXT", "d": "TIMESTAMP"}}, max_rows=50)
    verdict = check(
        sql, policy=policy, caller=Caller(role=Role.ADMIN), dialect=source, target_dialect=target
    )
    assert verdict.allowed, verdict.explain()
    assert verdict.sql == expected


def test_rewritten_sql_is_scoped_in_the_target_dialect_too():
    verdict = check(
        "SELECT symbol FROM orders o",
        policy=POLICY,
        caller=CUSTOMER,
        dialect="sqlite",
        target_dialect="tsql",
    )
    assert verdict.sql == (
        "SELECT TOP 1000 symbol FROM (SELECT * FROM orders WHERE user_id = 1) AS o"
    )


def test_the_verdict_names_the_tables_and_drops_comments():
    verdict = check(
        "SELECT o.id FROM orders o JOIN prices p ON p.symbol = o.symbol",
        policy=POLICY,
        caller=CUSTOMER,
    )
    assert verdict.tables == ["orders", "prices"]
    assert "--" not in verdict.sql and "/*" not in verdict.sql
    assert Verdict.model_validate_json(verdict.model_dump_json()) == verdict


def test_unknown_dialects_are_refused():
    verdict = check("SELECT 1", policy=POLICY, caller=CUSTOMER, dialect="oracle")
    assert [r.code for r in verdict.reasons] == ["unknown_dialect"]
    verdict = check("SELECT 1", policy=POLICY, caller=CUSTOMER, target_dialect="oracle")
    assert [r.code for r in verdict.reasons] == ["unknown_dialect"]
