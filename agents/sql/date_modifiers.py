"""Date arithmetic written with INTERVAL, computed the way SQLite can.

SQLite has no INTERVAL: `DATE('now') - INTERVAL 90 DAY`, ninety days back in MySQL and
PostgreSQL, is a syntax error there, and the embedded model, told so, writes it again (all three
attempts of a question of the demo set failed on it). SQLite says the same with a modifier of
its date functions, `DATE(DATE('now'), '-90 day')`, so the arithmetic is rewritten to that: the
span keeps its one meaning, and the result keeps the shape of the date it shifts (a day stays a
day, a STRFTIME keeps its format), so comparisons with stored values still line up.

Other dialects know INTERVAL, and their queries are left as they are.
"""

from __future__ import annotations

from sqlglot import exp

from agents.sql.tree import parse

# SQLite's modifiers know seconds to years; a week is seven days, a quarter three months
_UNITS = {
    "second": (1, "second"),
    "minute": (1, "minute"),
    "hour": (1, "hour"),
    "day": (1, "day"),
    "week": (7, "day"),
    "month": (1, "month"),
    "quarter": (3, "month"),
    "year": (1, "year"),
}


def _modifier(interval: exp.Interval, sign: int) -> exp.Literal | None:
    """SQLite's modifier for `interval` added (`sign` 1) or taken away (-1), or None when its
    amount is not a plain number or its unit no modifier has."""
    amount, unit = interval.this, interval.text("unit").lower().removesuffix("s")
    if not isinstance(amount, exp.Literal) or unit not in _UNITS:
        return None
    try:
        number = float(amount.this)
    except ValueError:
        return None
    factor, name = _UNITS[unit]
    value = sign * factor * number
    return exp.Literal.string(f"{int(value) if value.is_integer() else value:+} {name}")


def _shifted(base: exp.Expression, modifier: exp.Literal) -> exp.Expression:
    """`base` moved by `modifier`, in the shape `base` has."""
    if isinstance(base, exp.TimeToStr):  # STRFTIME(format, t): the format is kept
        moved = exp.Anonymous(this="DATETIME", expressions=[base.this.copy(), modifier])
        return exp.TimeToStr(this=moved, format=base.args["format"].copy())
    day = isinstance(base, exp.Date | exp.CurrentDate) or (
        isinstance(base, exp.Anonymous) and base.name.upper() == "DATE"
    )
    return exp.Anonymous(this="DATE" if day else "DATETIME", expressions=[base.copy(), modifier])


def with_date_modifiers(sql: str, dialect: str) -> str:
    """`sql` with each date plus or minus an INTERVAL written as SQLite's date modifier;
    unchanged on other dialects, or when there is none it can write.

    >>> with_date_modifiers("SELECT * FROM t WHERE d >= DATE('now') - INTERVAL 90 DAY", "sqlite")
    "SELECT * FROM t WHERE d >= DATE(DATE('now'), '-90 day')"
    >>> with_date_modifiers("SELECT STRFTIME('%Y-%m', d) + INTERVAL '1' QUARTER FROM t", "sqlite")
    "SELECT STRFTIME('%Y-%m', DATETIME(d, '+3 month')) FROM t"
    >>> with_date_modifiers("SELECT d - INTERVAL 1 DAY FROM t", "postgres")
    'SELECT d - INTERVAL 1 DAY FROM t'
    """
    tree = parse(sql, dialect) if dialect == "sqlite" else None
    if tree is None:
        return sql
    changed = False
    for interval in list(tree.find_all(exp.Interval)):
        arithmetic = interval.parent
        if not isinstance(arithmetic, exp.Add | exp.Sub) or arithmetic.expression is not interval:
            continue
        modifier = _modifier(interval, -1 if isinstance(arithmetic, exp.Sub) else 1)
        if modifier is not None:
            arithmetic.replace(_shifted(arithmetic.this, modifier))
            changed = True
    return tree.sql(dialect=dialect) if changed else sql
