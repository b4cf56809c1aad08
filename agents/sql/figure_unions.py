"""A UNION of single rows of figures keeps every row.

Asked "how many of my filled orders were buys and how many were sells?", the embedded model
writes one count per branch, joined by UNION. UNION drops duplicate rows, so two equal counts
come back as one figure: they are values that coincide, not a row read twice. When every
branch is a SELECT of aggregates with no GROUP BY (one row each), the UNION is a UNION ALL.
"""

from __future__ import annotations

from sqlglot import exp

from agents.sql.tree import parse, result_figures


def _one_row_of_figures(branch: exp.Expression) -> bool:
    """An aggregate with no GROUP BY returns one row, whatever else the SELECT shows."""
    if isinstance(branch, exp.Subquery):
        branch = branch.this
    return (
        isinstance(branch, exp.Select)
        and not branch.args.get("group")
        and bool(result_figures(branch))
    )


def _branches(union: exp.Union) -> list[exp.Expression]:
    found = []
    for side in (union.this, union.expression):
        found += _branches(side) if isinstance(side, exp.Union) else [side]
    return found


def every_figure(sql: str, dialect: str) -> str:
    """`sql` with a UNION of one-row figure branches made UNION ALL; else unchanged.

    >>> every_figure("SELECT 'buy', COUNT(*) FROM o WHERE side = 'buy' UNION "
    ...     "SELECT 'sell', COUNT(*) FROM o WHERE side = 'sell'", "sqlite").split(" UNION ")[1]
    "ALL SELECT 'sell', COUNT(*) FROM o WHERE side = 'sell'"
    >>> sql = "SELECT side, COUNT(*) FROM o GROUP BY side UNION SELECT 'all', COUNT(*) FROM o"
    >>> every_figure(sql, "sqlite") == sql
    True
    """
    tree = parse(sql, dialect)
    if not isinstance(tree, exp.Union):
        return sql
    distinct = [u for u in tree.find_all(exp.Union) if u.args.get("distinct")]
    if not distinct or not all(map(_one_row_of_figures, _branches(tree))):
        return sql
    for union in distinct:
        union.set("distinct", False)
    return tree.sql(dialect=dialect)
