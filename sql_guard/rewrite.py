"""Rewrites applied to SQL the guard has accepted."""

from __future__ import annotations

from sqlglot import exp


def scope_rows(tree: exp.Expression, owners: dict[str, str], user_id: int, ctes: set[str]) -> None:
    """Replace every reference to an owned table, wherever it appears (joins, subqueries, CTEs,
    set operations), with a derived table holding only the user's rows under the same name.

    >>> import sqlglot
    >>> t = sqlglot.parse_one("SELECT COUNT(*) FROM orders o WHERE o.status = 'open'")
    >>> scope_rows(t, {"orders": "user_id"}, 7, set())
    >>> print(t.sql())
    SELECT COUNT(*) FROM (SELECT * FROM orders WHERE user_id = 7) AS o WHERE o.status = 'open'
    """
    targets = [
        t for t in tree.find_all(exp.Table) if t.name in owners and not t.db and t.name not in ctes
    ]
    for table in targets:
        alias = table.alias_or_name
        owner = owners[table.name]
        inner = (
            exp.select("*")
            .from_(exp.to_table(table.name))
            .where(exp.EQ(this=exp.column(owner), expression=exp.Literal.number(user_id)))
        )
        table.replace(inner.subquery(alias=alias))


def cap_limit(tree: exp.Expression, max_rows: int) -> exp.Expression:
    """Add an outer LIMIT, or lower one that asks for more than `max_rows`.

    >>> import sqlglot
    >>> cap_limit(sqlglot.parse_one("SELECT a FROM t LIMIT 5000"), 100).sql()
    'SELECT a FROM t LIMIT 100'
    """
    limit = tree.args.get("limit")
    current = limit.expression if isinstance(limit, exp.Limit) else None
    if isinstance(current, exp.Literal) and current.is_int and int(current.this) <= max_rows:
        return tree
    if isinstance(tree, exp.Subquery):
        return exp.select("*").from_(tree).limit(max_rows)
    return tree.limit(max_rows, copy=False)
