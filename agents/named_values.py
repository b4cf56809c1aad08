"""Values the question names, made conditions of the query that forgot them.

"List the open limit buy orders", "the SPM from sell transactions": the question names 'buy' or
'sell', a value the catalog lists for a column of a table the query reads, and the embedded
model's query never looks at that column, so it answers for buys and sells alike. Such a value
has one reading, so the condition is added rather than hoped for.

A value counts as named only where that reading is the plain one:

- it is spelled out as a word of its own (a plural s allowed), with at least three characters
  and a letter, so codes like '0' or 'T' never match;
- no negation comes just before it ("not even a cancelled one" asks for all of them);
- it is the one value of its column the question names ("buys and sells" asks for a split);
- it is not also a word of a column name the query can read ("cash" names `cash_balance` as
  much as the 'cash' account type, "emails" the `email` column).

And it is added only where the query has no say on the column at all, so a model that wrote
`side != 'buy'` or grouped by the column is never overruled.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field
from sqlglot import exp

from agents.sql_tree import name_words, parse, read_sources
from services.catalog import Catalog

_NEGATION = re.compile(r"\b(?:not|no|never|without|except|excluding)\W+(?:\w+\W+){0,2}$", re.I)


class NamedValue(BaseModel):
    table: str
    column: str
    value: str
    beside_table: bool = Field(
        False, description="Named just before a word of its table: 'filled orders'."
    )


def _found(value: str, question: str) -> re.Match | None:
    if len(value) < 3 or not re.search(r"[A-Za-z]", value):
        return None
    found = re.search(rf"(?<![\w-]){re.escape(value)}(?:e?s)?(?![\w-])", question, re.I)
    return None if found is None or _NEGATION.search(question[: found.start()]) else found


def _beside_table(found: re.Match, table: str) -> bool:
    words = "|".join(re.escape(w.removesuffix("s")) for w in name_words(table) if len(w) > 2)
    return (
        bool(words)
        and re.match(rf"\s+(?:\w+\s+)?(?:{words})", found.string[found.end() :], re.I) is not None
    )


def named_values(question: str, catalog: Catalog) -> list[NamedValue]:
    """Each column's value the question names, where it names only one of the column's values.

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> side = ColumnInfo(name="side", type="TEXT", values=["buy", "sell"])
    >>> c = Catalog(tables=[TableInfo(name="orders", columns=[side])])
    >>> [(n.value, n.beside_table) for n in named_values("Open buy orders?", c)]
    [('buy', True)]
    >>> named_values("How many buys and how many sells?", c), named_values("No buy orders", c)
    ([], [])
    """
    found = []
    for table in catalog.tables:
        for column in table.columns:
            hits = [(v, f) for v in column.values if (f := _found(v, question))]
            if len(hits) == 1:
                ((value, where),) = hits
                found.append(
                    NamedValue(
                        table=table.name,
                        column=column.name,
                        value=value,
                        beside_table=_beside_table(where, table.name),
                    )
                )
    return found


def with_named_values(sql: str, named: list[NamedValue], catalog: Catalog, dialect: str) -> str:
    """`sql` with `column = 'value'` added to each SELECT that reads a named value's table and
    says nothing anywhere about its column; unchanged when none applies.

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> c = Catalog(tables=[TableInfo(name="orders", columns=[
    ...     ColumnInfo(name="side", type="TEXT", values=["buy", "sell"])])])
    >>> buy = [NamedValue(table="orders", column="side", value="buy")]
    >>> with_named_values("SELECT COUNT(*) FROM orders AS o", buy, c, "sqlite")
    "SELECT COUNT(*) FROM orders AS o WHERE o.side = 'buy'"
    >>> with_named_values("SELECT side, COUNT(*) FROM orders GROUP BY side", buy, c, "sqlite")
    'SELECT side, COUNT(*) FROM orders GROUP BY side'
    """
    tree = parse(sql, dialect) if named else None
    if tree is None:
        return sql
    said = {c.name.lower() for c in tree.find_all(exp.Column)}
    read = {t.name.lower() for t in tree.find_all(exp.Table)}
    words = {
        word
        for table in catalog.tables
        if table.name.lower() in read
        for column in table.columns
        for word in name_words(column.name)
    }
    wanted = [n for n in named if n.value.lower() not in words and n.column.lower() not in said]
    changed = False
    for select in list(tree.find_all(exp.Select)):
        tables = [t for t in read_sources(select) if isinstance(t, exp.Table)]
        fits = [
            (table, n) for table in tables for n in wanted if table.name.lower() == n.table.lower()
        ]
        for table, n in fits:
            if sum(other.value == n.value for _, other in fits) > 1:
                continue  # one word, two columns it could filter: not for us to pick
            column = exp.column(n.column, table=table.alias_or_name)
            select.where(exp.EQ(this=column, expression=exp.Literal.string(n.value)), copy=False)
            changed = True
    return tree.sql(dialect=dialect) if changed else sql
