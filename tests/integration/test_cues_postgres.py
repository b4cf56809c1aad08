"""The question cues that write dates and periods write them in PostgreSQL's own words: each
rewritten draft runs on a real PostgreSQL and returns what a query written for it by hand
returns."""

import pytest
from sqlalchemy import text

from agents.question_cues import enforced, read_cues
from services.catalog import catalog_from_engine
from tests.integration import postgres


@pytest.fixture(scope="module")
def pg():
    with postgres.demo_database(users=30) as (_name, engine):
        yield engine, catalog_from_engine(engine)


def _rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


@pytest.mark.parametrize(
    ("question", "draft", "by_hand"),
    [
        (
            "How many orders were placed in the last 2 months excluding the current month?",
            "SELECT COUNT(*) FROM orders WHERE created_at >= CURRENT_DATE - INTERVAL '60 days'",
            "SELECT COUNT(*) FROM orders WHERE created_at >= date_trunc('month', current_date) "
            "- interval '2 months' AND created_at < date_trunc('month', current_date)",
        ),
        (
            "How many orders were placed per month since January 2026?",
            "SELECT COUNT(*) FROM orders WHERE created_at >= '2026-01-01'",
            "SELECT to_char(created_at, 'YYYY-MM') AS m, COUNT(*) FROM orders "
            "WHERE created_at >= '2026-01-01' GROUP BY m ORDER BY m",
        ),
        (
            "What is the latest close for each symbol?",
            "SELECT symbol, MAX(close) AS close FROM market_prices GROUP BY symbol",
            "SELECT DISTINCT ON (symbol) symbol, close FROM market_prices "
            "ORDER BY symbol, price_date DESC",
        ),
        (
            "The average close on the earliest trading day of 2026?",
            "SELECT AVG(close) FROM market_prices WHERE price_date >= '2026-01-01'",
            "SELECT AVG(close) FROM market_prices WHERE price_date = "
            "(SELECT MIN(price_date) FROM market_prices WHERE price_date >= '2026-01-01')",
        ),
        (
            "Orders per month in 2026?",
            "SELECT to_char(created_at, 'YYYY-MM') AS m, COUNT(*) FROM orders "
            "WHERE to_char(created_at, 'YYYY-MM') >= '2026-01-01' GROUP BY m",
            "SELECT to_char(created_at, 'YYYY-MM') AS m, COUNT(*) FROM orders "
            "WHERE created_at >= '2026-01-01' GROUP BY m",
        ),
    ],
)
def test_a_rewritten_draft_runs_on_postgres_as_written_by_hand(pg, question, draft, by_hand):
    engine, catalog = pg
    sql = enforced(draft, read_cues(question, catalog=catalog), catalog, "postgres")
    assert sql != draft
    expected = _rows(engine, by_hand)
    assert expected and sorted(_rows(engine, sql), key=repr) == sorted(expected, key=repr)
