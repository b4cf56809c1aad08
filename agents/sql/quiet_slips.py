"""The model's quiet slips, mended before its query runs: SQL that runs without an error and
answers wrongly, with one reading whatever the schema or the question's words.

Each mend is its own module, acting on the SQLGlot tree and the catalog only:
`x IN (SELECT x FROM t)` where `t` has no `x` compares with `t`'s own column
(`agents.sql.repair.unechoed`); a month bounded by days is the stored date, SQLite's
`DATE(x, 'month')` the month of x (`agents.sql.date_shapes`); a difference of stored times is a
span in days (`agents.sql.time_differences`); a running total beside a GROUP BY runs over the
groups' totals, a plain column beside a count is its group, and an ungrouped aggregate reads the
rows its ORDER BY and LIMIT pick (`agents.sql.grouping`); a UNION
of one-row figures keeps equal figures and names each row (`agents.sql.figure_unions`). One slip
that is not quiet is mended here too, since it has a single reading: date arithmetic with
INTERVAL, which SQLite refuses, becomes SQLite's date modifier (`agents.sql.date_modifiers`).
What the guard or the database refuses is repaired afterwards (`agents.sql.repair.repair`).
"""

from __future__ import annotations

from agents.sql.date_modifiers import with_date_modifiers
from agents.sql.date_shapes import in_stored_shape
from agents.sql.figure_unions import every_figure
from agents.sql.grouping import grouped
from agents.sql.repair import unechoed
from agents.sql.time_differences import with_time_differences
from services.catalog import Catalog


def mended(sql: str, catalog: Catalog, dialect: str) -> str:
    """`sql` with its quiet slips mended; unchanged when it has none or is not SQL.

    >>> none = Catalog(tables=[])
    >>> mended("SELECT m.name, COUNT(*) FROM m JOIN c ON m.id = c.mid", none, "sqlite")
    'SELECT m.name, COUNT(*) FROM m JOIN c ON m.id = c.mid GROUP BY m.name'
    >>> mended("SELECT 1 FROM t WHERE STRFTIME('%Y-%m', d) >= '2023-01-01'", none, "sqlite")
    "SELECT 1 FROM t WHERE d >= '2023-01-01'"
    """
    sql = with_date_modifiers(unechoed(sql, catalog, dialect), dialect)
    sql = in_stored_shape(sql, dialect)
    sql = grouped(with_time_differences(sql, catalog, dialect), dialect)
    return every_figure(sql, dialect)
