""" "Within the next 90 days" starts now; "the last 2 months excluding the current month" are
whole months.

Asked which KYC checks "expire within the next 90 days", the embedded model writes
`expires_at < DATE('now', '+90 days')` and stops there, so every check that expired years ago
comes back too. A window the question puts ahead of now has one reading, so the missing lower
bound is added: now, as a date for a DATE column and as a timestamp otherwise. Asked about "the
last 2 months excluding the current month", it counts 60 days back from today and stops at
today: the window is the two calendar months before this one.
"""

from __future__ import annotations

import re

from sqlglot import exp

from agents.sql_tree import conditions, parse, read_sources, table_aliases
from services.catalog import Catalog

_AHEAD = re.compile(
    r"\b(?:within|in|over|during)\s+the\s+(?:next|coming)\s+(?:\d+\s+|[a-z]+\s+)?"
    r"(?:hour|day|week|month|quarter|year)s?\b",
    re.I,
)
_NOW = (exp.CurrentDate, exp.CurrentTimestamp, exp.CurrentDatetime)
_COUNT = r"(?:\d+|two|three|four|five|six|seven|eight|nine|ten|twelve|thirty|ninety)"
_RECENT = re.compile(
    rf"\b(?:past|last|previous)\s+{_COUNT}\s+(?:day|week|month|quarter|year)s\b"
    r"|\b(?:past|last)\s+(?:week|month|quarter|year)\b",
    re.I,
)


# The first day of the month N months back, and of this month, as each database writes them
_MONTH_STARTS = {
    "sqlite": ("DATE('now', 'start of month', '-{n} months')", "DATE('now', 'start of month')"),
    "postgres": (
        "DATE_TRUNC('month', CURRENT_DATE) - INTERVAL '{n} months'",
        "DATE_TRUNC('month', CURRENT_DATE)",
    ),
    "duckdb": (
        "DATE_TRUNC('month', CURRENT_DATE) - INTERVAL '{n} months'",
        "DATE_TRUNC('month', CURRENT_DATE)",
    ),
    "mysql": (
        "DATE_SUB(DATE_FORMAT(CURRENT_DATE, '%Y-%m-01'), INTERVAL {n} MONTH)",
        "DATE_FORMAT(CURRENT_DATE, '%Y-%m-01')",
    ),
    "tsql": (
        "DATEADD(MONTH, -{n}, DATEFROMPARTS(YEAR(GETDATE()), MONTH(GETDATE()), 1))",
        "DATEFROMPARTS(YEAR(GETDATE()), MONTH(GETDATE()), 1)",
    ),
}


def in_whole_months(sql: str, months: int | None, dialect: str) -> str:
    """`sql` with its window back from now (`created_at >= DATE('now', '-2 months')`, and an
    upper bound at now if it has one) made the `months` calendar months before the current one;
    unchanged when no condition reads the clock, or the dialect is not one it knows.

    >>> in_whole_months("SELECT 1 FROM t WHERE d >= DATE('now', '-60 days')", 2, "sqlite")
    "SELECT 1 FROM t WHERE d >= DATE('now', 'start of month', '-2 months') AND d < DATE('now', \
'start of month')"
    """
    bounds = _MONTH_STARTS.get(dialect)
    tree = parse(sql, dialect) if months and bounds else None
    if tree is None or bounds is None:
        return sql
    start, end = (parse(b.format(n=months), dialect) for b in bounds)
    if start is None or end is None:
        return sql
    changed = False
    for select in list(tree.find_all(exp.Select)):
        found = conditions(select)
        lower = [c for c in found if _from_now(c, exp.GT, exp.GTE)]
        upper = [c for c in found if _from_now(c, exp.LT, exp.LTE)]
        columns = {c.this for c in lower + upper}
        if not lower or len(columns) != 1:
            continue
        (column,) = columns
        kept = [c for c in found if all(c is not b for b in lower + upper)]
        bounds = [column.copy() >= start.copy(), column.copy() < end.copy()]
        select.set("where", exp.Where(this=exp.and_(*kept, *bounds)))
        changed = True
    return tree.sql(dialect=dialect) if changed else sql


def _from_now(condition: exp.Expression, *kinds: type[exp.Expression]) -> bool:
    """Whether the condition bounds a column by a time counted from now, as `kinds` do."""
    return (
        isinstance(condition, kinds)
        and isinstance(condition.this, exp.Column)
        and mentions_now(condition.expression)
    )


def looks_ahead(question: str) -> bool:
    """Whether the question asks about a window that starts now and runs ahead.

    >>> looks_ahead("Which checks expire within the next 90 days?")
    True
    >>> looks_ahead("Orders in the last 30 days")
    False
    """
    return bool(_AHEAD.search(question))


def recent_window(question: str) -> str | None:
    """The window back from now the question asks about, as it says it.

    >>> recent_window("Lowest close for VTI in the past 7 days"), recent_window("Past orders")
    ('past 7 days', None)
    >>> recent_window("the close on the last trading day against the previous day") is None
    True
    """
    found = _RECENT.search(question)
    return found.group(0) if found else None


def mentions_now(expression: exp.Expression) -> bool:
    """Whether the expression reads the clock: `'now'` in SQLite, CURRENT_DATE and kin."""
    return any(
        isinstance(node, _NOW) or (isinstance(node, exp.Literal) and node.this.lower() == "now")
        for node in expression.walk()
    )


def _bounded_below(column: exp.Column, conditions: list[exp.Expression]) -> bool:
    for condition in conditions:
        if isinstance(condition, exp.Between) and condition.this == column:
            return True
        if isinstance(condition, exp.GT | exp.GTE) and condition.this == column:
            return True
        if isinstance(condition, exp.LT | exp.LTE) and condition.expression == column:
            return True
    return False


def _is_date(column: exp.Column, tree: exp.Expression, catalog: Catalog) -> bool:
    tables = {t.name.lower(): t for t in catalog.tables}
    aliases = table_aliases(tree, tables)
    homes = [aliases[column.table.lower()]] if column.table.lower() in aliases else aliases.values()
    types = {
        c.type.upper()
        for name in homes
        for c in tables[name].columns
        if c.name.lower() == column.name.lower()
    }
    return types == {"DATE"}


def with_lower_bound(sql: str, catalog: Catalog, dialect: str) -> str:
    """`sql` with `column >= now` beside each `column < (a time from now)` that has no lower
    bound; unchanged when none lacks one or it is not SQL.

    >>> sql = "SELECT id FROM kyc WHERE ends < DATE('now', '+9 days')"
    >>> with_lower_bound(sql, Catalog(tables=[]), "sqlite")
    "SELECT id FROM kyc WHERE ends < DATE('now', '+9 days') AND ends >= CURRENT_TIMESTAMP"
    """
    tree = parse(sql, dialect)
    if tree is None:
        return sql
    changed = False
    for select in list(tree.find_all(exp.Select)):
        found = conditions(select)
        for condition in found:
            column = condition.this
            if not _from_now(condition, exp.LT, exp.LTE) or _bounded_below(column, found):
                continue
            now = exp.CurrentDate() if _is_date(column, tree, catalog) else exp.CurrentTimestamp()
            select.where(exp.GTE(this=column.copy(), expression=now), copy=False)
            changed = True
    return tree.sql(dialect=dialect) if changed else sql


def in_trading_days(sql: str, days: int | None, dialect: str) -> str:
    """`sql` with a date counted back from now (`price_date >= date('now', '-5 days')`) read as
    "the last `days` trading days" the question says: the `days` latest dates that have rows
    (weekends and holidays have none), under the query's other conditions. Only a SELECT that
    reads one table; unchanged otherwise.

    >>> in_trading_days("SELECT AVG(c) FROM p WHERE d >= DATE('now', '-5 days')", 5, "sqlite")
    'SELECT AVG(c) FROM p WHERE d IN (SELECT DISTINCT d FROM p ORDER BY d DESC LIMIT 5)'
    """
    tree = parse(sql, dialect) if days else None
    if tree is None:
        return sql
    changed = False
    for select in list(tree.find_all(exp.Select)):
        sources = read_sources(select)
        found = conditions(select)
        if len(sources) != 1 or not isinstance(sources[0], exp.Table):
            continue
        for condition in found:
            column = condition.this
            if not _from_now(condition, exp.GT, exp.GTE):
                continue
            others = [c.copy() for c in found if c is not condition]
            latest = exp.select(exp.Distinct(expressions=[column.copy()])).from_(sources[0].copy())
            latest = latest.where(*others).order_by(exp.Ordered(this=column.copy(), desc=True))
            condition.replace(exp.In(this=column.copy(), query=latest.limit(days).subquery()))
            changed = True
    return tree.sql(dialect=dialect) if changed else sql
