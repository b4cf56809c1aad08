"""A UNION of one-row figures, run on SQLite: equal counts both come back once mended, each
named by the value its branch compared."""

import sqlite3

import pytest

from agents.sql.quiet_slips import mended
from services.catalog import Catalog

DRAFT = (
    "SELECT COUNT(*) FROM orders WHERE side = 'buy' "
    "UNION SELECT COUNT(*) FROM orders WHERE side = 'sell'"
)
NONE = Catalog(tables=[])


@pytest.fixture
def db() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, side TEXT, status TEXT)")
    rows = [("buy", "filled"), ("sell", "filled"), ("buy", "filled"), ("sell", "open")]
    db.executemany("INSERT INTO orders (side, status) VALUES (?, ?)", rows)
    return db


def test_equal_counts_are_two_rows_each_named_by_its_value(db):
    assert db.execute(DRAFT).fetchall() == [(2,)]  # what the model's draft returned
    mended_sql = mended(DRAFT, NONE, "sqlite")
    assert db.execute(mended_sql).fetchall() == [("buy", 2), ("sell", 2)]
    assert [d[0] for d in db.execute(mended_sql).description] == ["side", "COUNT(*)"]


def test_branches_that_differ_in_more_than_one_value_stay_unnamed(db):
    two_ways = (
        "SELECT COUNT(*) FROM orders WHERE side = 'buy' AND status = 'filled' "
        "UNION ALL SELECT COUNT(*) FROM orders WHERE side = 'sell' AND status = 'open'"
    )
    assert mended(two_ways, NONE, "sqlite") == two_ways
    labelled = (
        "SELECT 'buys', COUNT(*) FROM orders WHERE side = 'buy' "
        "UNION ALL SELECT 'sells', COUNT(*) FROM orders WHERE side = 'sell'"
    )
    assert mended(labelled, NONE, "sqlite") == labelled  # the model named them itself


def test_rows_that_are_not_figures_stay_distinct():
    listed = "SELECT side FROM orders WHERE side = 'buy' UNION SELECT side FROM orders"
    assert mended(listed, NONE, "sqlite") == listed
