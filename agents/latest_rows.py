""" "The latest balance for each user", "the earliest snapshot in 2023": rows picked by date.

Asked for "the latest balance for each user", the embedded model writes `MAX(balance) ...
GROUP BY user_id` (the largest balance each user ever had), or every balance of every user.
Asked for "the earliest setting snapshot in 2023", it filters on 2023 and stops there. Where
the query reads one table, the date that decides is that table's:

- for each group the question names (a column, as in `agents.per_group`), the group's latest
  (or earliest) row by the table's date column, numbered with `ROW_NUMBER()`;
- with no group, the rows of the latest (or earliest) date the query's own conditions allow.

A query that already looks for an extreme (MIN, MAX, ORDER BY, LIMIT, a window) is left as
it is: the model has then read the word, if not always well.
"""

from __future__ import annotations

import re
from typing import Literal

from sqlglot import exp

from agents.per_group import RANK, column_for, dated, only_table, stamp
from agents.sql_tree import parse, read_sources, result_figures
from services.catalog import Catalog

Extreme = Literal["latest", "earliest"]
_EXTREMES = re.compile(r"\b(?P<latest>latest|most\s+recent|newest)\b|\b(?:earliest|oldest)\b", re.I)


def extreme(text: str) -> Extreme | None:
    """Whether the text asks for the latest rows or the earliest ones.

    >>> extreme("the most recent balance of each user"), extreme("the earliest snapshot")
    ('latest', 'earliest')
    >>> extreme("the largest balance") is None
    True
    """
    found = _EXTREMES.search(text)
    if not found:
        return None
    return "latest" if found["latest"] else "earliest"


def _plain(sql: str, dialect: str) -> exp.Select | None:
    """The query as a tree when it is one SELECT with no extreme of its own, else None."""
    tree = parse(sql, dialect)
    if not isinstance(tree, exp.Select) or len(list(tree.find_all(exp.Select))) != 1:
        return None
    if tree.args.get("limit") or tree.find(exp.Window):
        return None
    return tree


def _unaggregated(select: exp.Select, column: exp.Column, date: str) -> bool:
    """Turn `MAX(balance) ... GROUP BY user_id` into `balance`, when the group is the column
    and every figure is a MAX or MIN of something other than the date. True too when there
    is no GROUP BY to undo; False when the query is grouped otherwise (and left as it is)."""
    group = select.args.get("group")
    if not group or select.args.get("having"):
        return not group
    if [k.name.lower() for k in group.expressions] != [column.name.lower()]:
        return False
    figures = result_figures(select)
    if not figures or not all(isinstance(f, exp.Max | exp.Min) for f in figures):
        return False
    if any(c.name.lower() == date.lower() for f in figures for c in f.find_all(exp.Column)):
        return False
    for figure in figures:
        figure.replace(figure.this.copy())
    select.set("group", None)
    return True


def extreme_of_each(
    sql: str, which: Extreme | None, per: str | None, catalog: Catalog, dialect: str
) -> str:
    """`sql` keeping each group's latest (or earliest) row by the table's date column, when
    asked for that per `per`; unchanged otherwise.

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> c = Catalog(tables=[TableInfo(name="balances", columns=[
    ...     ColumnInfo(name="user_id", type="INTEGER"), ColumnInfo(name="balance", type="REAL"),
    ...     ColumnInfo(name="updated_at", type="TIMESTAMP")])])
    >>> extreme_of_each("SELECT user_id, MAX(balance) AS b FROM balances GROUP BY user_id",
    ...     "latest", "user", c, "sqlite")  # doctest: +NORMALIZE_WHITESPACE
    'SELECT user_id, b FROM (SELECT user_id, balance AS b, ROW_NUMBER() OVER (PARTITION BY
    balances.user_id ORDER BY updated_at DESC) AS rank_in_group FROM balances) AS ranked WHERE
    rank_in_group = 1'
    """
    tree = _plain(sql, dialect) if which and per else None
    if tree is None:
        return sql
    column = column_for(tree, per or "", catalog)
    date = stamp(only_table(tree, catalog), "updated", "date")  # when it was last true
    names = [p.alias_or_name for p in tree.expressions]
    if column is None or date is None or tree.is_star or not all(names) or RANK in names:
        return sql
    if not _unaggregated(tree, column, date) or result_figures(tree):
        return sql
    order = tree.args.get("order")
    tree.set("order", None)
    key = exp.Ordered(this=exp.column(date), desc=which == "latest")
    rank = exp.Window(
        this=exp.RowNumber(), partition_by=[column], order=exp.Order(expressions=[key])
    )
    tree.select(exp.alias_(rank, RANK), copy=False)
    picked = exp.select(*names, dialect=dialect).from_(tree.subquery("ranked"))
    picked = picked.where(exp.column(RANK).eq(1))
    if order and all(
        isinstance(k.this, exp.Column) and not k.this.table and k.name in names
        for k in order.expressions
    ):
        picked.set("order", order)
    return picked.sql(dialect=dialect)


def on_extreme_date(
    sql: str, which: Extreme | None, per: str | None, catalog: Catalog, dialect: str
) -> str:
    """`sql` kept to the latest (or earliest) date its own conditions allow, when asked for
    that with no group to take it in; unchanged otherwise.

    >>> on_extreme_date("SELECT AVG(x) FROM s WHERE d >= '2023-01-01'", "earliest", None,
    ...     Catalog(tables=[]), "sqlite")  # doctest: +NORMALIZE_WHITESPACE
    "SELECT AVG(x) FROM s WHERE d >= '2023-01-01' AND d = (SELECT MIN(d) FROM s
    WHERE d >= '2023-01-01')"
    """
    tree = _plain(sql, dialect) if which and not per else None
    if tree is None or tree.args.get("order") or tree.args.get("group"):
        return sql
    sources = read_sources(tree)
    date = dated(tree, catalog)
    if len(sources) != 1 or not isinstance(sources[0], exp.Table) or date is None:
        return sql
    if tree.find(exp.Max, exp.Min):
        return sql
    extreme_date = exp.Max if which == "latest" else exp.Min
    allowed = exp.select(extreme_date(this=date.copy())).from_(sources[0].copy())
    if where := tree.args.get("where"):
        allowed.set("where", where.copy())
    return tree.where(date.copy().eq(allowed.subquery()), copy=False).sql(dialect=dialect)
