"""A UNION of one-row figures, run on SQLite: equal counts both come back once mended."""

import sqlite3

from agents.sql.quiet_slips import mended
from services.catalog import Catalog

DRAFT = (
    "SELECT COUNT(*) FROM orders WHERE side = 'buy' "
    "UNION SELECT COUNT(*) FROM orders WHERE side = 'sell'"
)


def test_equal_counts_are_two_rows():
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, side TEXT)")
    db.executemany(
        "INSERT INTO orders (side) VALUES (?)", [("buy",), ("sell",), ("buy",), ("sell",)]
    )
    assert db.execute(DRAFT).fetchall() == [(2,)]  # what the model's draft returned
    assert db.execute(mended(DRAFT, Catalog(tables=[]), "sqlite")).fetchall() == [(2,), (2,)]
    listed = "SELECT side FROM orders WHERE side = 'buy' UNION SELECT side FROM orders"
    assert mended(listed, Catalog(tables=[]), "sqlite") == listed  # rows, not figures: distinct
