"""Dates compared in the shape they are stored in.

Two slips of the embedded model make a date condition quietly wrong, with no error to retry on:

- `STRFTIME('%Y-%m', created_at) BETWEEN '2023-01-01' AND '2023-03-31'` compares months with
  days, and '2023-01' sorts before '2023-01-01': January is lost. The stored date itself is
  what the bounds were written for.
- `DATE(created_at, 'month')` is no month: SQLite knows no modifier 'month' and returns NULL,
  so `DATE(a, 'month') = DATE(b, 'month')` holds for no row. The month of each is meant.
"""

from __future__ import annotations

from datetime import datetime

from sqlglot import exp

from agents.sql.tree import RANGES, is_day, parse, range_bounds

_SAMPLE = datetime(2023, 1, 2, 3, 4, 5)
_UNIT_FORMATS = {"year": "%Y", "month": "%Y-%m", "day": "%Y-%m-%d"}


def _misshapen(condition: exp.Expression) -> bool:
    """Whether a formatted date is bounded by days it can never be shaped like."""
    formatted = condition.this
    form = formatted.args.get("format") if isinstance(formatted, exp.TimeToStr) else None
    if not isinstance(form, exp.Literal):
        return False
    try:
        shape = len(_SAMPLE.strftime(form.this))
    except ValueError:  # a format only the database knows
        return False
    return all(is_day(b) and len(b.this) != shape for b in range_bounds(condition))


def in_stored_shape(sql: str, dialect: str) -> str:
    """`sql` with formatted dates bounded by days compared as stored, and SQLite's
    `DATE(x, 'month')` read as the month of x; unchanged when neither occurs.

    >>> in_stored_shape("SELECT 1 FROM t WHERE STRFTIME('%Y-%m', d) >= '2023-01-01'", "sqlite")
    "SELECT 1 FROM t WHERE d >= '2023-01-01'"
    >>> in_stored_shape("SELECT 1 FROM a JOIN b ON DATE(a.d, 'month') = DATE(b.d, 'month')",
    ...     "sqlite")
    "SELECT 1 FROM a JOIN b ON STRFTIME('%Y-%m', a.d) = STRFTIME('%Y-%m', b.d)"
    """
    tree = parse(sql, dialect)
    if tree is None:
        return sql
    changed = False
    for call in list(tree.find_all(exp.Anonymous)) if dialect == "sqlite" else []:
        modifier = call.expressions[1] if len(call.expressions) == 2 else None
        unit = modifier.this.lower().removesuffix("s") if isinstance(modifier, exp.Literal) else ""
        if call.name.upper() in ("DATE", "DATETIME") and unit in _UNIT_FORMATS:
            form = exp.Literal.string(_UNIT_FORMATS[unit])
            call.replace(exp.TimeToStr(this=call.expressions[0].copy(), format=form))
            changed = True
    for condition in list(tree.find_all(*RANGES)):
        if _misshapen(condition):
            stored = condition.this.this
            if isinstance(stored, exp.TsOrDsToTimestamp):
                stored = stored.this
            condition.this.replace(stored.copy())
            changed = True
    return tree.sql(dialect=dialect) if changed else sql
