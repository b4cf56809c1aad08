"""Row sets and measures of the semantic model, expanded before the guard: every rule and the
row scoping still apply to the base tables."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from services.identity import Caller, Role
from services.semantic.loader import load_semantic_model
from sql_guard.guard import check
from sql_guard.policy import platform_policy

MODEL = load_semantic_model()
POLICY = platform_policy(100_000)
ADMIN = Caller(role=Role.ADMIN)


def _rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _allowed_sql(sql: str, caller: Caller = ADMIN) -> str:
    """The query as the guard lets it run, the semantic model's names expanded."""
    verdict = check(sql, policy=POLICY, caller=caller, semantic=MODEL)
    assert verdict.allowed, verdict.reasons
    return verdict.sql


def _busiest_customer(engine) -> int:
    return _rows(
        engine,
        "SELECT user_id FROM orders WHERE status IN ('open', 'partially_filled') "
        "GROUP BY user_id ORDER BY COUNT(*) DESC LIMIT 1",
    )[0][0]


def test_a_customers_query_over_a_view_is_scoped_to_their_rows(demo_engine):
    user_id = _busiest_customer(demo_engine)
    customer = Caller(user_id=user_id, role=Role.CUSTOMER)
    verdict = check(
        "SELECT COUNT(*) FROM open_orders", policy=POLICY, caller=customer, semantic=MODEL
    )
    assert verdict.allowed, verdict.reasons
    assert f"user_id = {user_id}" in verdict.sql
    theirs = _rows(demo_engine, verdict.sql)
    expected = _rows(
        demo_engine,
        f"SELECT COUNT(*) FROM orders WHERE user_id = {user_id} "
        "AND status IN ('open', 'partially_filled')",
    )
    everyone = _rows(demo_engine, "SELECT COUNT(*) FROM orders WHERE status = 'open'")
    assert theirs == expected and theirs[0][0] > 0
    assert theirs != everyone


def test_a_measure_over_a_segment_is_scoped_too(demo_engine):
    user_id = _busiest_customer(demo_engine)
    customer = Caller(user_id=user_id, role=Role.CUSTOMER)
    verdict = check("SELECT fees_charged FROM fees", policy=POLICY, caller=customer, semantic=MODEL)
    assert verdict.allowed, verdict.reasons
    expected = _rows(
        demo_engine,
        f"SELECT -SUM(amount) FROM transactions WHERE type = 'fee' AND user_id = {user_id}",
    )
    assert _rows(demo_engine, verdict.sql) == expected


def test_the_total_of_a_measure_is_the_measure(demo_engine):
    """A measure is an aggregate already: SUM of it would nest aggregates, which SQL refuses."""
    per_account = "SELECT account_id, {} AS fees FROM transactions GROUP BY account_id"
    plain = check(per_account.format("fees_charged"), policy=POLICY, caller=ADMIN, semantic=MODEL)
    summed = check(
        per_account.format("SUM(fees_charged)"), policy=POLICY, caller=ADMIN, semantic=MODEL
    )
    assert plain.allowed and summed.allowed, (plain.reasons, summed.reasons)
    fees = _rows(demo_engine, summed.sql)
    assert fees == _rows(demo_engine, plain.sql) and any(f for _, f in fees)
    averaged = check(
        "SELECT AVG(fees_charged) FROM transactions", policy=POLICY, caller=ADMIN, semantic=MODEL
    )
    assert "AVG(SUM(" in averaged.sql.upper().replace(" ", "")  # "average fee" stays ambiguous


def test_a_segment_is_what_it_declares_not_what_its_name_says(demo_engine):
    """`open_orders WHERE status = 'open'` reads the name as the value; the declaration says
    partially filled orders are open too. Another value narrows the segment, as written."""
    restated, narrowed = (
        _allowed_sql(f"SELECT COUNT(*) FROM open_orders WHERE status = '{status}'")
        for status in ("open", "partially_filled")
    )
    open_ = _rows(demo_engine, "SELECT COUNT(*) FROM orders WHERE status = 'open'")
    partial = _rows(demo_engine, "SELECT COUNT(*) FROM orders WHERE status = 'partially_filled'")
    assert _rows(demo_engine, restated) == [(open_[0][0] + partial[0][0],)]
    assert _rows(demo_engine, narrowed) == partial and partial[0][0] > 0


def test_the_largest_of_a_sum_is_its_largest_row(demo_engine):
    """MAX(SUM(...)) is refused by SQL; "the biggest fee" or "the biggest unrealised gain" can
    only mean the largest single row, with the measure's filters kept."""
    extremes = _allowed_sql("SELECT MAX(fees_charged), MIN(fees_charged) FROM transactions")
    expected = _rows(
        demo_engine, "SELECT MAX(-amount), MIN(-amount) FROM transactions WHERE type = 'fee'"
    )
    assert _rows(demo_engine, extremes) == expected and expected[0][0] > expected[0][1]
    user_id = _busiest_customer(demo_engine)
    best = _allowed_sql(
        "SELECT symbol, MAX(unrealised_pnl) AS gain FROM holdings ORDER BY gain DESC LIMIT 1",
        Caller(user_id=user_id, role=Role.CUSTOMER),
    )
    gains = _rows(
        demo_engine,
        "SELECT p.symbol, p.quantity * (l.close - p.avg_cost) FROM positions p JOIN "
        "market_prices l ON l.symbol = p.symbol AND l.price_date = (SELECT MAX(price_date) "
        f"FROM market_prices m WHERE m.symbol = p.symbol) WHERE p.user_id = {user_id}",
    )
    assert _rows(demo_engine, best) == [max(gains, key=lambda g: g[1])]


def test_a_name_the_query_defines_itself_shadows_the_models():
    verdict = check(
        "WITH open_orders AS (SELECT id FROM orders WHERE status = 'filled') "
        "SELECT COUNT(*) FROM open_orders",
        policy=POLICY,
        caller=ADMIN,
        semantic=MODEL,
    )
    assert verdict.allowed, verdict.reasons
    assert "partially_filled" not in verdict.sql


def test_an_unknown_name_is_still_refused():
    verdict = check(
        "SELECT COUNT(*) FROM closed_orders", policy=POLICY, caller=ADMIN, semantic=MODEL
    )
    assert not verdict.allowed
    assert [r.code for r in verdict.reasons] == ["unknown_table"]


def test_the_guards_rules_see_the_base_table_behind_a_view():
    support = Caller(role=Role.SUPPORT)
    over_view = check("SELECT email FROM customers", policy=POLICY, caller=support, semantic=MODEL)
    over_table = check("SELECT email FROM users", policy=POLICY, caller=support)
    assert not over_view.allowed
    assert [r.code for r in over_view.reasons] == [r.code for r in over_table.reasons]


def test_without_the_model_a_view_name_is_an_unknown_table():
    verdict = check("SELECT COUNT(*) FROM open_orders", policy=POLICY, caller=ADMIN)
    assert [r.code for r in verdict.reasons] == ["unknown_table"]


@pytest.mark.parametrize(
    ("dialect", "sql", "shape"),
    [
        ("postgres", "SELECT symbol, market_value FROM holdings GROUP BY symbol", "SUM("),
        ("tsql", "SELECT TOP 5 symbol FROM open_orders", "SELECT TOP 5"),
    ],
)
def test_views_and_measures_expand_in_each_dialect(dialect, sql, shape):
    verdict = check(sql, policy=POLICY, caller=ADMIN, dialect=dialect, semantic=MODEL)
    assert verdict.allowed, verdict.reasons
    assert shape in verdict.sql and "FROM positions" in verdict.sql or "FROM orders" in verdict.sql


def test_the_platform_views_and_measures_run_on_the_demo_database(demo_engine):
    for sql in [
        "SELECT symbol, market_value, unrealised_pnl FROM holdings GROUP BY symbol",
        "SELECT monthly_recurring_revenue FROM subscriptions",
        "SELECT net_deposits FROM payments",
        "SELECT traded_value FROM transactions",
        "SELECT COUNT(*) FROM staff",
    ]:
        verdict = check(sql, policy=POLICY, caller=ADMIN, semantic=MODEL)
        assert verdict.allowed, (sql, verdict.reasons)
        assert _rows(demo_engine, verdict.sql), sql
