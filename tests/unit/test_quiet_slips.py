"""Quiet slips of the model's SQL, mended on the tree whatever the question says: on the demo
database, with the model's drafts scripted."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from agents.sql.date_modifiers import with_date_modifiers
from agents.sql.quiet_slips import mended
from agents.sql.time_differences import with_time_differences
from services.identity import Caller, Role
from services.llm.scripted import ScriptedChatModel


def _rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


@pytest.fixture
def answer(demo_sql_agent):
    async def ask(question: str, draft: str):
        model = ScriptedChatModel(responder=lambda _m, _k: json.dumps({"sql": draft}))
        return await demo_sql_agent(model, max_retries=0).answer(question, Caller(role=Role.ADMIN))

    return ask


async def test_a_difference_of_stored_times_is_a_span_in_days(answer, demo_engine):
    where = "FROM kyc_verifications WHERE status = 'approved'"
    ((days,),) = _rows(
        demo_engine, f"SELECT AVG(julianday(reviewed_at) - julianday(submitted_at)) {where}"
    )
    ((naive,),) = _rows(demo_engine, f"SELECT AVG(reviewed_at - submitted_at) {where}")
    assert days > 0 and naive != pytest.approx(days)  # text minus text: the years subtracted
    hours = await answer(
        "Hours to a decision?", f"SELECT AVG(reviewed_at - submitted_at) * 24 {where}"
    )
    assert hours.result.rows == [[pytest.approx(days * 24)]]


async def test_date_arithmetic_with_an_interval_runs_as_sqlite_date_modifiers(answer, demo_engine):
    # the last order's day, from the data: the demo is built around whatever day it is
    ((day,),) = _rows(demo_engine, "SELECT DATE(MAX(created_at)) FROM orders")
    since = f"FROM orders WHERE created_at >= DATE('{day}', '-30 day')"
    ((direct,),) = _rows(demo_engine, "SELECT COUNT(*) " + since)
    ((everything,),) = _rows(demo_engine, "SELECT COUNT(*) FROM orders")
    assert 0 < direct < everything
    draft = f"SELECT COUNT(*) FROM orders WHERE created_at >= DATE('{day}') - INTERVAL 30 DAY"
    with pytest.raises(sqlite3.OperationalError):
        sqlite3.connect(":memory:").execute(f"SELECT DATE('{day}') - INTERVAL 30 DAY")
    outcome = await answer("Orders in the 30 days before the last one?", draft)
    assert outcome.result.rows == [[direct]]


@given(
    amount=st.integers(-5000, 5000),
    unit=st.sampled_from(["DAY", "DAYS", "WEEK", "HOUR", "MINUTE", "SECOND"]),
    sign=st.sampled_from(["+", "-"]),
)
def test_an_interval_moves_a_time_as_far_as_python_does(amount, unit, sign):
    start = datetime(2024, 2, 29, 13, 30, 15)
    sql = f"SELECT DATETIME('{start:%Y-%m-%d %H:%M:%S}') {sign} INTERVAL '{amount}' {unit}"
    ((moved,),) = sqlite3.connect(":memory:").execute(with_date_modifiers(sql, "sqlite"))
    step = {
        "DAY": timedelta(days=1),
        "DAYS": timedelta(days=1),
        "WEEK": timedelta(weeks=1),
        "HOUR": timedelta(hours=1),
        "MINUTE": timedelta(minutes=1),
        "SECOND": timedelta(seconds=1),
    }[unit]
    expected = start + (1 if sign == "+" else -1) * amount * step
    assert moved == f"{expected:%Y-%m-%d %H:%M:%S}"


def test_an_interval_is_left_to_the_dialects_that_have_one():
    sql = "SELECT * FROM orders WHERE created_at >= CURRENT_DATE - INTERVAL '3' MONTH"
    assert with_date_modifiers(sql, "postgres") == sql
    assert "INTERVAL" not in with_date_modifiers(sql, "sqlite")


def test_time_differences_are_left_to_dialects_that_subtract_times(demo_catalog):
    sql = "SELECT AVG(reviewed_at - submitted_at) FROM kyc_verifications"
    assert with_time_differences(sql, demo_catalog, "postgres") == sql
    not_times = "SELECT AVG(quantity - filled_quantity) FROM orders"
    assert with_time_differences(not_times, demo_catalog, "sqlite") == not_times


async def test_a_running_total_beside_a_group_by_runs_over_the_groups(answer, demo_engine):
    where = "FROM payments WHERE direction = 'deposit' AND status = 'succeeded'"
    months = _rows(
        demo_engine,
        f"SELECT strftime('%Y-%m', created_at) AS m, SUM(amount) {where} GROUP BY m ORDER BY m",
    )
    assert len(months) > 1
    running, expected = 0.0, []
    for month, total in months:
        running += total
        expected.append((month, pytest.approx(total), pytest.approx(running)))
    draft = (
        "SELECT strftime('%Y-%m', created_at) AS month, SUM(amount) AS total, "
        f"SUM(amount) OVER (ORDER BY created_at) AS running {where} GROUP BY month ORDER BY month"
    )
    assert [tuple(r) for r in _rows(demo_engine, draft)] != expected  # one row's amount a month
    outcome = await answer("Successful deposits per month with the running total?", draft)
    assert [tuple(r) for r in outcome.result.rows] == expected


@pytest.mark.parametrize(
    "sql",
    [  # already over the groups; an average of averages is not the average; no GROUP BY
        "SELECT symbol, SUM(SUM(quantity)) OVER (ORDER BY symbol) FROM orders GROUP BY symbol",
        "SELECT symbol, AVG(quantity) OVER (ORDER BY created_at) FROM orders GROUP BY symbol",
        "SELECT symbol, SUM(quantity) OVER (ORDER BY created_at) FROM orders",
        "SELECT side, SUM(quantity) OVER (ORDER BY created_at) FROM orders GROUP BY side, symbol",
    ],
)
def test_a_window_is_left_alone_where_the_groups_give_no_one_reading(demo_catalog, sql):
    assert mended(sql, demo_catalog, "sqlite") == sql


async def test_an_ungrouped_aggregate_reads_the_rows_its_order_and_limit_pick(answer, demo_engine):
    picked = "FROM market_prices WHERE symbol = 'AAPL' ORDER BY price_date DESC LIMIT 3"
    ((latest,),) = _rows(demo_engine, f"SELECT AVG(close) FROM (SELECT close {picked})")
    ((every_day,),) = _rows(demo_engine, f"SELECT AVG(close) {picked}")
    assert every_day != pytest.approx(latest)  # one row over every day: the LIMIT cut nothing
    outcome = await answer(
        "Mean close of the three latest AAPL days?", f"SELECT AVG(close) {picked}"
    )
    assert outcome.result.rows == [[pytest.approx(latest)]]


@pytest.mark.parametrize(
    "sql",
    [  # grouped; a plain column beside the figure; ordered by the figure; two tables
        "SELECT symbol, AVG(close) FROM market_prices GROUP BY symbol ORDER BY symbol LIMIT 3",
        "SELECT symbol, MAX(close) FROM market_prices ORDER BY price_date DESC LIMIT 3",
        "SELECT AVG(close) AS mean FROM market_prices ORDER BY mean LIMIT 3",
        "SELECT COUNT(*) FROM orders AS o JOIN users AS u ON u.id = o.user_id "
        "ORDER BY o.created_at LIMIT 3",
    ],
)
def test_an_aggregate_keeps_its_limit_where_it_has_another_reading(demo_catalog, sql):
    assert mended(sql, demo_catalog, "sqlite") == sql
