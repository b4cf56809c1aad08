"""The database's clock replaced by the platform's, so a pinned clock pins the SQL too.

"Today" comes from `services.clock` everywhere else (the prompt's date, the demo data's build
day, market hours); a query that asks the database (`date('now')`, `CURRENT_DATE`,
`GETDATE()`) would read the machine's own clock instead, and a test pinned to 29 February
would count its window from today. So the guard writes the platform's moment in their place,
as the database would have read it: SQLite's `'now'` as UTC text, `CURRENT_DATE` and
`CURRENT_TIMESTAMP` as literals SQLite compares with its stored text, and as typed literals
(`CAST('2028-02-29' AS DATE)`) elsewhere.
"""

from __future__ import annotations

from datetime import datetime

import sqlglot
from sqlglot import exp

from services import clock

_NOW = "now"


def _typed(text: str, kind: str, dialect: str) -> exp.Expression:
    literal = exp.Literal.string(text)
    return literal if dialect == "sqlite" else exp.cast(literal, kind)


def pin_clock(tree: exp.Expression, now: datetime, dialect: str) -> exp.Expression:
    """`tree` with each reading of the database's clock replaced by `now` (naive UTC); changed
    in place and returned.

    >>> import sqlglot
    >>> at = datetime(2028, 2, 29, 9, 30)
    >>> sql = "SELECT date('now', '-7 days'), CURRENT_DATE FROM t"
    >>> pin_clock(sqlglot.parse_one(sql), at, "sqlite").sql()
    "SELECT DATE('2028-02-29 09:30:00', '-7 days'), '2028-02-29' FROM t"
    >>> pg = sqlglot.parse_one("SELECT NOW()", read="postgres")
    >>> pin_clock(pg, at, "postgres").sql("postgres")
    "SELECT CAST('2028-02-29 09:30:00' AS TIMESTAMP)"
    """
    stamp, day = now.strftime("%Y-%m-%d %H:%M:%S"), now.strftime("%Y-%m-%d")
    for node in list(tree.find_all(exp.CurrentDate, exp.CurrentTimestamp, exp.CurrentDatetime)):
        if isinstance(node, exp.CurrentDate):
            node.replace(_typed(day, "DATE", dialect))
        else:
            node.replace(_typed(stamp, "TIMESTAMP", dialect))
    if dialect == "sqlite":  # date('now'), strftime('%Y', 'now'), julianday('now'), ...
        for literal in list(tree.find_all(exp.Literal)):
            if (
                literal.is_string
                and literal.this.strip().lower() == _NOW
                and isinstance(literal.parent, exp.Func)
            ):
                literal.replace(exp.Literal.string(stamp))
    return tree


def on_platform_clock(sql: str, dialect: str = "sqlite") -> str:
    """`sql` reading the platform's clock (`services.clock`) where it read the database's: for
    queries that do not pass the guard, such as a golden set's reference answers, so that they
    and the guarded answers they are compared with count from the same moment. A query that
    does not read the clock, or that SQLGlot cannot parse, comes back as written.

    >>> on_platform_clock('SELECT "Name" FROM t WHERE x = 1')
    'SELECT "Name" FROM t WHERE x = 1'
    >>> "'now'" in on_platform_clock("SELECT date('now', '-7 days')")
    False
    """
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return sql
    before = tree.sql(dialect)
    pinned = pin_clock(tree, clock.utcnow(), dialect).sql(dialect)
    return sql if pinned == before else pinned
