"""Quiet slips of the model's SQL, mended on the tree whatever the question says: on the demo
database, with the model's drafts scripted."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

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
