""" "The number of filled orders" counts orders, however many fills each has.

Asked which symbols have the most filled orders, the embedded model joins the fills
(`transactions`, each with the `order_id` it filled) to `orders` and writes `COUNT(*)`: an
order filled in three parts counts three times. Where the question counts the rows of one table
of the join, and another table of the join refers to that one by a foreign key (so its rows
repeat there), the count it shows is of that table's distinct keys. A count grouped by the
counted table's own rows ("countries with more than two car makers") counts what repeats them,
and is left alone.
"""

from __future__ import annotations

import re

from sqlglot import exp

from agents.sql_tree import name_words, parse, read_sources, result_figures, stem
from services.catalog import Catalog

_COUNTED = re.compile(
    r"\b(?:how\s+many|number\s+of|most|fewest|count\s+of)\s+(?:[a-z]+\s+){0,2}?(?P<word>[a-z]+s)\b",
    re.I,
)


def counted_words(question: str) -> list[str]:
    """The plural nouns the question counts, as stems of their singular.

    >>> counted_words("Which symbols have the most filled orders? And how many customers?")
    ['order', 'custo~']
    """
    return [stem(m["word"].lower().removesuffix("s")) for m in _COUNTED.finditer(question)]


def _fanned_key(select: exp.Select, words: list[str], catalog: Catalog) -> exp.Column | None:
    """The key of the one table the question counts, when another table of the join refers
    to it (and so repeats its rows)."""
    sources = read_sources(select)
    tables = {t.name.lower(): t for t in catalog.tables}
    if len(sources) < 2 or not all(
        isinstance(s, exp.Table) and s.name.lower() in tables for s in sources
    ):
        return None
    aliases = {s.alias_or_name.lower(): s.name.lower() for s in sources}
    counted = [
        alias
        for alias, table in aliases.items()
        if stem(name_words(table)[-1].removesuffix("s")) in words
    ]
    if len(counted) != 1:
        return None
    (alias,) = counted
    group = select.args.get("group")
    if group and any(c.table.lower() == alias for c in group.find_all(exp.Column)):
        return None  # a count per counted row is a count of the rows it repeats in
    keys = {
        referred_column
        for other, table in aliases.items()
        if other != alias
        for _column, referred, referred_column in tables[table].foreign_keys
        if referred.lower() == aliases[alias]
    }
    return exp.column(keys.pop(), table=alias) if len(keys) == 1 else None


def counted_once(sql: str, words: list[str], catalog: Catalog, dialect: str) -> str:
    """`sql` with each `COUNT(*)` of a join that repeats the counted table's rows made a count
    of that table's distinct keys; unchanged when there is none or it is not SQL.

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> c = Catalog(tables=[TableInfo(name="orders", columns=[ColumnInfo(name="id", type="INT")]),
    ...     TableInfo(name="fills", columns=[ColumnInfo(name="order_id", type="INT")],
    ...               foreign_keys=[("order_id", "orders", "id")])])
    >>> counted_once("SELECT COUNT(*) FROM fills AS f JOIN orders AS o ON f.order_id = o.id",
    ...     ["order"], c, "sqlite")
    'SELECT COUNT(DISTINCT o.id) FROM fills AS f JOIN orders AS o ON f.order_id = o.id'
    """
    tree = parse(sql, dialect) if words else None
    if tree is None:
        return sql
    changed = False
    for select in list(tree.find_all(exp.Select)):
        key = _fanned_key(select, words, catalog)
        for count in result_figures(select) if key else []:
            if isinstance(count, exp.Count) and isinstance(count.this, exp.Star):
                count.set("this", exp.Distinct(expressions=[key.copy()]))
                changed = True
    return tree.sql(dialect=dialect) if changed else sql
