"""A result column the model wrote twice is shown once.

"Return the order id, user id, symbol, side and stop price" came back as
`SELECT o.id, o.user_id, o.symbol, o.side, o.limit_price, o.id`: the model, listing what was
asked, started over. A second copy of the same expression tells the reader nothing and makes
the answer a different table, so only the first is kept.
"""

from __future__ import annotations

from sqlglot import exp

from agents.sql_tree import parse


def without_repeats(sql: str, dialect: str) -> str:
    """`sql` with each result column that repeats an earlier one's expression dropped;
    unchanged when none does or it is not a SELECT.

    >>> without_repeats("SELECT t.a, t.b AS x, t.a FROM t", "sqlite")
    'SELECT t.a, t.b AS x FROM t'
    >>> without_repeats("SELECT a, a + 1 FROM t", "sqlite")
    'SELECT a, a + 1 FROM t'
    """
    tree = parse(sql, dialect)
    if not isinstance(tree, exp.Select) or tree.is_star:
        return sql
    kept: list[exp.Expression] = []
    for projection in tree.expressions:
        if not any(projection.unalias() == k.unalias() for k in kept):
            kept.append(projection)
    if len(kept) == len(tree.expressions):
        return sql
    tree.set("expressions", kept)
    return tree.sql(dialect=dialect)
