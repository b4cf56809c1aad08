""" "Per account type", "for each account": one answer per group, not one for all.

Asked "per account type, which account has the highest cash balance?", the embedded model
writes `... ORDER BY cash_balance DESC LIMIT 1`: the one richest account of all. Asked what it
paid for its AAPL shares "per account", it writes `AVG(avg_cost)` over every account. Where
what the question counts per is a column of the table the query reads, there is one reading:

- a top row (`ORDER BY ... LIMIT n`) becomes the top row of each group, numbered with
  `ROW_NUMBER() OVER (PARTITION BY the column ORDER BY the same keys)`;
- a figure (an aggregate with no GROUP BY) becomes one figure per value of the column, shown
  first.

"Per month" and "per year" are periods of the query's date column: a figure for all
becomes one figure per period, shown first as `YYYY-MM` (or `YYYY`), oldest first; a query
that groups by the period without showing it shows it. Where what the question counts per is
neither ("per week" has no one format), the query is only doubted (`agents.query_doubts`),
and the model asked again.
"""

from __future__ import annotations

import re
from typing import Literal

from sqlglot import exp

from agents.sql_tree import (
    RANGES,
    conditions,
    is_day,
    name_words,
    parse,
    range_bounds,
    read_sources,
    result_figures,
    stem,
)
from agents.time_windows import mentions_now
from services.catalog import Catalog, TableInfo

RANK = "rank_in_group"
_STAMP_TYPE = re.compile(r"date|time", re.I)
PERIOD_FORMATS = {"month": "%Y-%m", "year": "%Y"}


def one_for_all(select: exp.Expression) -> Literal["row", "figure"] | None:
    """What a query that groups and partitions nothing returns for all rows at once: its top
    row (ORDER BY with LIMIT 1), or a figure (an aggregate in its result); else None."""
    if not isinstance(select, exp.Select) or select.find(exp.Group):
        return None
    if any(w.args.get("partition_by") for w in select.find_all(exp.Window)):
        return None
    if result_figures(select):
        return "figure"
    limit = select.args.get("limit")
    if limit is not None and limit.expression.sql() == "1" and select.args.get("order"):
        return "row"
    return None


def column_for(select: exp.Select, per: str, catalog: Catalog) -> exp.Column | None:
    """The one column of the tables the SELECT reads whose name says `per` ("account type" is
    `account_type`, "account" is `account_id`)."""
    sources = read_sources(select)
    if not sources or not all(isinstance(s, exp.Table) for s in sources):
        return None
    tables = {t.name.lower(): t for t in catalog.tables}
    wanted = [stem(w) for w in per.split()]
    found = []
    for source in sources:
        for column in tables[source.name.lower()].columns if source.name.lower() in tables else []:
            words = name_words(column.name)
            words = words[:-1] if len(words) > 1 and words[-1] == "id" else words
            if [stem(w) for w in words] == wanted:
                found.append(exp.column(column.name, table=source.alias_or_name))
    return found[0] if len(found) == 1 else None


def _top_rows(select: exp.Select, column: exp.Column, dialect: str) -> exp.Select | None:
    names = [p.alias_or_name for p in select.expressions]
    if select.is_star or not all(names) or len(set(names)) != len(names) or RANK in names:
        return None
    computed = {p.alias: p.this for p in select.expressions if isinstance(p, exp.Alias)}
    keys = select.args["order"].copy()
    for key in keys.expressions:
        if isinstance(key.this, exp.Column) and not key.this.table and key.name in computed:
            key.set("this", computed[key.name].copy())  # a result alias means nothing in OVER
    limit = select.args["limit"].expression.copy()
    inner = select.copy()
    inner.set("order", None)
    inner.set("limit", None)
    rank = exp.Window(this=exp.RowNumber(), partition_by=[column], order=keys)
    inner.select(exp.alias_(rank, RANK), copy=False)
    ranked = exp.select(*names, dialect=dialect).from_(inner.subquery("ranked"))
    return ranked.where(exp.LTE(this=exp.column(RANK), expression=limit))


def grouped_as_asked(sql: str, per: str | None, catalog: Catalog, dialect: str) -> str:
    """`sql` answering for each value of the column `per` names, when it answers for all at
    once; unchanged when it already groups, or `per` is no column of the tables it reads.

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> c = Catalog(tables=[TableInfo(name="positions", columns=[
    ...     ColumnInfo(name="account_id", type="INTEGER"), ColumnInfo(name="cost", type="REAL")])])
    >>> grouped_as_asked("SELECT AVG(cost) FROM positions", "account", c, "sqlite")
    'SELECT positions.account_id, AVG(cost) FROM positions GROUP BY positions.account_id'
    >>> top = grouped_as_asked("SELECT cost FROM positions ORDER BY cost LIMIT 1", "account", c,
    ...     "sqlite")
    >>> top.startswith("SELECT cost FROM (SELECT cost, ROW_NUMBER() OVER (PARTITION BY")
    True
    """
    tree = parse(sql, dialect) if per else None
    shape = one_for_all(tree) if tree else None
    if shape is None or not isinstance(tree, exp.Select):
        return sql
    column = column_for(tree, per or "", catalog)
    if column is None:
        return sql
    if shape == "row":
        ranked = _top_rows(tree, column, dialect)
        return ranked.sql(dialect=dialect) if ranked else sql
    tree.set("expressions", [column.copy(), *tree.expressions])
    tree.set("limit", None)
    return tree.group_by(column, copy=False).sql(dialect=dialect)


def stamp(table: TableInfo | None, *preferred: str) -> str | None:
    """The table's one date or time column; among several, the one named with the first of the
    `preferred` words that names exactly one."""
    stamps = [c.name for c in table.columns if _STAMP_TYPE.search(c.type)] if table else []
    if len(stamps) == 1:
        return stamps[0]
    for word in preferred:
        named = [s for s in stamps if word in name_words(s)]
        if len(named) == 1:
            return named[0]
    return None


def only_table(select: exp.Select, catalog: Catalog) -> TableInfo | None:
    """The catalog's table the SELECT reads, when it reads one table and nothing else."""
    sources = read_sources(select)
    if len(sources) != 1 or not isinstance(sources[0], exp.Table):
        return None
    return next((t for t in catalog.tables if t.name.lower() == sources[0].name.lower()), None)


def dated(select: exp.Select, catalog: Catalog) -> exp.Column | None:
    """The column the SELECT's WHERE bounds by days or by now (`d >= '2023-01-01'`), when it
    is one; else the date column of the one table it reads, the one that says when a row
    happened."""
    bounded = {
        c.this
        for c in conditions(select)
        if isinstance(c, RANGES)
        and isinstance(c.this, exp.Column)
        and all(is_day(b) or mentions_now(b) for b in range_bounds(c))
    }
    if len(bounded) == 1:
        return bounded.pop().copy()
    found = None if bounded else stamp(only_table(select, catalog), "date", "created")
    return exp.column(found) if found else None


def grouped_by_period(sql: str, per: str | None, catalog: Catalog, dialect: str) -> str:
    """`sql` answering for each month (or year) `per` names: a figure for all becomes one per
    period of its date column; a period grouped by but not shown is shown. Unchanged otherwise.

    >>> grouped_by_period("SELECT AVG(p) FROM t WHERE d >= '2023-01-01'", "month",
    ...     Catalog(tables=[]), "sqlite")  # doctest: +NORMALIZE_WHITESPACE
    "SELECT STRFTIME('%Y-%m', d) AS month, AVG(p) FROM t WHERE d >= '2023-01-01'
    GROUP BY STRFTIME('%Y-%m', d) ORDER BY month"
    >>> grouped_by_period("SELECT AVG(p) FROM t GROUP BY STRFTIME('%Y-%m', d)", "month",
    ...     Catalog(tables=[]), "sqlite")
    "SELECT STRFTIME('%Y-%m', d) AS month, AVG(p) FROM t GROUP BY STRFTIME('%Y-%m', d)"
    """
    form = PERIOD_FORMATS.get(per or "")
    tree = parse(sql, dialect) if form else None
    if not isinstance(tree, exp.Select) or not per:
        return sql
    shown = [p.unalias() for p in tree.expressions]
    if group := tree.args.get("group"):
        periods = [k for k in group.expressions if isinstance(k, exp.TimeToStr)]
        if len(periods) != 1 or periods[0] in shown:
            return sql
        tree.set("expressions", [exp.alias_(periods[0].copy(), per), *tree.expressions])
        return tree.sql(dialect=dialect)
    if one_for_all(tree) != "figure" or tree.args.get("limit"):
        return sql
    column = dated(tree, catalog)
    if column is None:
        return sql
    period = exp.TimeToStr(this=column, format=exp.Literal.string(form))
    tree.set("expressions", [exp.alias_(period, per), *tree.expressions])
    tree.group_by(period.copy(), copy=False)
    return tree.order_by(exp.column(per), copy=False).sql(dialect=dialect)
