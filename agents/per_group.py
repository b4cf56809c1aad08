""" "Per account type", "for each account": one answer per group, not one for all.

Asked "per account type, which account has the highest cash balance?", the embedded model
writes `... ORDER BY cash_balance DESC LIMIT 1`: the one richest account of all. Asked what it
paid for its AAPL shares "per account", it writes `AVG(avg_cost)` over every account. Where
what the question counts per is a column of the table the query reads, there is one reading:

- a top row (`ORDER BY ... LIMIT n`) becomes the top row of each group, numbered with
  `ROW_NUMBER() OVER (PARTITION BY the column ORDER BY the same keys)`;
- a figure (an aggregate with no GROUP BY) becomes one figure per value of the column, shown
  first.

Where it is no column ("per month" needs a date function), the query is only doubted
(`agents.query_doubts`), and the model asked again.
"""

from __future__ import annotations

from typing import Literal

from sqlglot import exp

from agents.sql_tree import name_words, parse, read_sources, result_figures, stem
from services.catalog import Catalog

RANK = "rank_in_group"


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


def _column_for(select: exp.Select, per: str, catalog: Catalog) -> exp.Column | None:
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
    column = _column_for(tree, per or "", catalog)
    if column is None:
        return sql
    if shape == "row":
        ranked = _top_rows(tree, column, dialect)
        return ranked.sql(dialect=dialect) if ranked else sql
    tree.set("expressions", [column.copy(), *tree.expressions])
    tree.set("limit", None)
    return tree.group_by(column, copy=False).sql(dialect=dialect)
