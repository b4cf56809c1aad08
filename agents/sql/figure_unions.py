"""A UNION of single rows of figures keeps every row, and says which row is which.

Asked "how many of my filled orders were buys and how many were sells?", the embedded model
writes one count per branch, joined by UNION. UNION drops duplicate rows, so two equal counts
come back as one figure: they are values that coincide, not a row read twice. When every
branch is a SELECT of aggregates with no GROUP BY (one row each), the UNION is a UNION ALL.

Its rows are also bare numbers: the result says "12" and "7", not which is the buys. When the
branches are the same query but for the value one column is compared with, each row is named
by that value, under the column's name (`SELECT 'buy' AS side, COUNT(*) ...`), which is what a
GROUP BY of that column would have shown.
"""

from __future__ import annotations

from sqlglot import exp

from agents.sql.tree import parse, result_figures


def _one_row_of_figures(branch: exp.Expression) -> bool:
    """An aggregate with no GROUP BY returns one row, whatever else the SELECT shows."""
    return (
        isinstance(branch, exp.Select)
        and not branch.args.get("group")
        and bool(result_figures(branch))
    )


def _compared(select: exp.Select) -> list[exp.EQ]:
    """The `column = literal` conditions of the SELECT's own WHERE, in order."""
    where = select.args.get("where")
    found = where.find_all(exp.EQ) if where else []
    return [
        eq
        for eq in found
        if eq.find_ancestor(exp.Select) is select
        and isinstance(eq.this, exp.Column)
        and isinstance(eq.expression, exp.Literal)
    ]


def _shape(select: exp.Select, dialect: str) -> str:
    """The SELECT with its figures' aliases and compared values blanked out."""
    shape = select.copy()
    for eq in _compared(shape):
        eq.expression.replace(exp.Literal.string("?"))
    for projection in shape.expressions:
        if isinstance(projection, exp.Alias):
            projection.replace(projection.this)
    return shape.sql(dialect=dialect)


def _named(branches: list[exp.Select], dialect: str) -> list[exp.Select]:
    """`branches` with the one compared value they differ in put first in each, named by its
    column; none when they differ in more, or show more than figures."""
    if not all(p.find(exp.AggFunc) for b in branches for p in b.expressions):
        return []  # a branch shows something besides its figures: a label of its own
    if len({_shape(b, dialect) for b in branches}) != 1:
        return []
    values = [[eq.expression.sql(dialect=dialect) for eq in _compared(b)] for b in branches]
    differ = [i for i, seen in enumerate(zip(*values, strict=True)) if len(set(seen)) > 1]
    if len(differ) != 1 or len({v[differ[0]] for v in values}) != len(branches):
        return []
    aliases = {tuple(p.alias for p in b.expressions) for b in branches}
    named = []
    for branch in branches:
        eq = _compared(branch)[differ[0]]
        figures = [p.copy() for p in branch.expressions]
        if len(aliases) > 1:  # "buys" and "sells": row names, which the label now gives
            figures = [p.this if isinstance(p, exp.Alias) else p for p in figures]
        select = branch.copy()
        select.set("expressions", [exp.alias_(eq.expression.copy(), eq.this.name), *figures])
        named.append(select)
    return named


def _branches(union: exp.Union) -> list[exp.Expression]:
    found = []
    for side in (union.this, union.expression):
        found += _branches(side) if isinstance(side, exp.Union) else [side]
    return found


def every_figure(sql: str, dialect: str) -> str:
    """`sql` with a UNION of one-row figure branches made UNION ALL, and its rows named when
    its branches differ in one compared value only; else unchanged.

    >>> every_figure("SELECT 'buy', COUNT(*) FROM o WHERE side = 'buy' UNION "
    ...     "SELECT 'sell', COUNT(*) FROM o WHERE side = 'sell'", "sqlite").split(" UNION ")[1]
    "ALL SELECT 'sell', COUNT(*) FROM o WHERE side = 'sell'"
    >>> for branch in every_figure("SELECT COUNT(*) AS buys FROM o WHERE side = 'buy' AND ok = 1 "
    ...     "UNION SELECT COUNT(*) AS sells FROM o WHERE side = 'sell' AND ok = 1", "sqlite"
    ... ).split(" UNION ALL "):
    ...     print(branch)
    SELECT 'buy' AS side, COUNT(*) FROM o WHERE side = 'buy' AND ok = 1
    SELECT 'sell' AS side, COUNT(*) FROM o WHERE side = 'sell' AND ok = 1
    >>> sql = "SELECT side, COUNT(*) FROM o GROUP BY side UNION SELECT 'all', COUNT(*) FROM o"
    >>> every_figure(sql, "sqlite") == sql
    True
    """
    tree = parse(sql, dialect)
    if not isinstance(tree, exp.Union):
        return sql
    branches = [b.this if isinstance(b, exp.Subquery) else b for b in _branches(tree)]
    if not all(map(_one_row_of_figures, branches)):
        return sql
    distinct = [u for u in tree.find_all(exp.Union) if u.args.get("distinct")]
    named = _named(branches, dialect)
    if not distinct and not named:
        return sql
    for union in distinct:
        union.set("distinct", False)
    for branch, select in zip(branches, named, strict=False):
        branch.replace(select)
    return tree.sql(dialect=dialect)
