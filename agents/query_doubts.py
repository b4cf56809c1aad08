"""Signs that a query which ran does not answer the question, put to the model as objections.

Two slips of the embedded model are plain from the query and the catalog alone, yet no rewrite
can mend them, because the model picked the wrong table:

- the question names a value beside its table's word ("the most filled orders", "my crypto
  account") and the query never reads that table (it counted fills in `transactions`, or fees
  of every account);
- a condition compares a column with a value the catalog says it never holds but another
  column does (`trading_accounts.status = 'filled'`: 'filled' is an order status).

On the four evaluation sets each sign was found only on wrong answers (nine of them), never on
a right one; one gold query of defog's shows the first ("daily active users" counted without
the users table), so a doubt asks again, and when no later draft clears it, the first answer
stands.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlglot import exp

from agents.named_values import NamedValue
from agents.sql_tree import parse, table_aliases
from services.catalog import Catalog


def _unread(tree: exp.Expression, named: Sequence[NamedValue]) -> list[str]:
    read = {t.name.lower() for t in tree.find_all(exp.Table)}
    return [
        f"the question asks for {n.table} with {n.column} '{n.value}', but the query does not "
        f"read {n.table}"
        for n in named
        if n.beside_table and n.table.lower() not in read
    ]


def _foreign_values(tree: exp.Expression, catalog: Catalog) -> list[str]:
    tables = {t.name.lower(): t for t in catalog.tables}
    aliases = table_aliases(tree, tables)
    found = []
    for condition in tree.find_all(exp.EQ, exp.In):
        column = condition.this
        if not isinstance(column, exp.Column):
            continue
        home = aliases.get(column.table.lower()) if column.table else None
        homes = [home] if home else ([] if column.table else sorted(set(aliases.values())))
        listed = [
            (name, c)
            for name in homes
            for c in tables[name].columns
            if c.name.lower() == column.name.lower()
        ]
        if len(listed) != 1 or not listed[0][1].values:
            continue  # a column of unknown values, or of a subquery
        table, info = listed[0]
        right_side = (
            [condition.expression] if isinstance(condition, exp.EQ) else condition.expressions
        )
        for literal in right_side:
            if (
                isinstance(literal, exp.Literal)
                and literal.is_string
                and literal.this not in info.values
            ):
                holders = [
                    f"{t.name}.{c.name}"
                    for t in catalog.tables
                    for c in t.columns
                    if literal.this in c.values
                ]
                if holders:  # a value of nothing at all may just be asked about: 'ZZZZ' orders
                    found.append(
                        f"{table}.{info.name} never holds '{literal.this}' (its values: "
                        f"{', '.join(info.values)}); it is a value of {', '.join(holders)}"
                    )
    return found


def doubts(sql: str, named: Sequence[NamedValue], catalog: Catalog, dialect: str) -> list[str]:
    """What speaks against `sql` answering a question that names `named`; empty when nothing.

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> status = ColumnInfo(name="status", type="TEXT", values=["filled", "open"])
    >>> c = Catalog(tables=[TableInfo(name="orders", columns=[status]),
    ...     TableInfo(name="fills", columns=[ColumnInfo(name="symbol", type="TEXT")])])
    >>> filled = NamedValue(table="orders", column="status", value="filled", beside_table=True)
    >>> doubts("SELECT COUNT(*) FROM fills", [filled], c, "sqlite")
    ["the question asks for orders with status 'filled', but the query does not read orders"]
    >>> doubts("SELECT COUNT(*) FROM orders WHERE status = 'done'", [], c, "sqlite")
    []
    """
    tree = parse(sql, dialect)
    if tree is None:
        return []
    return _unread(tree, named) + _foreign_values(tree, catalog)
