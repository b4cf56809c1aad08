"""Text values a query compares its columns with, read off the SQLGlot tree.

Shared by the semantic layer (which comparisons restate a segment's definition) and the SQL
agent's checks and repairs (which values a column is looked up by).
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp


def text_comparisons(node: exp.Expression) -> Iterator[tuple[exp.Column, str]]:
    """Each (column, text literal) compared with `=` or `IN` anywhere in `node`.

    >>> import sqlglot
    >>> tree = sqlglot.parse_one("SELECT 1 FROM t WHERE s IN ('a', 'b') AND n = 1")
    >>> [(c.name, v) for c, v in text_comparisons(tree)]
    [('s', 'a'), ('s', 'b')]
    """
    for condition in node.find_all(exp.EQ, exp.In):
        column = condition.this
        if not isinstance(column, exp.Column):
            continue
        sides = [condition.expression] if isinstance(condition, exp.EQ) else condition.expressions
        for side in sides:
            if isinstance(side, exp.Literal) and side.is_string:
                yield column, side.this
