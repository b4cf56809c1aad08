"""Rewrites applied to SQL the guard has accepted: row scoping and the row cap."""

from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

from sql_guard.tables import classify_tables


def scope_rows(
    tree: exp.Expression,
    owners: dict[str, str],
    user_id: int,
    tables: list[exp.Table] | None = None,
) -> exp.Expression:
    """Replace every reference to an owned table, wherever it appears (joins, subqueries, CTE
    bodies, set operations, correlated subqueries, LATERAL), with a derived table holding only
    the user's rows, under the alias the query used, so the rest of the query reads as before.

    `tables` are the query's real table references (`sql_guard.tables.classify_tables`); they
    are worked out from the scopes when not given. A reference to a CTE is not a table: the
    tables inside the CTE's body are the ones scoped.

    >>> import sqlglot
    >>> t = sqlglot.parse_one("SELECT COUNT(*) FROM orders o WHERE o.status = 'open'")
    >>> print(scope_rows(t, {"orders": "user_id"}, 7).sql())
    SELECT COUNT(*) FROM (SELECT * FROM orders WHERE user_id = 7) AS o WHERE o.status = 'open'
    >>> t = sqlglot.parse_one("WITH x AS (SELECT * FROM orders) SELECT * FROM x")
    >>> print(scope_rows(t, {"orders": "user_id"}, 7).sql())
    WITH x AS (SELECT * FROM (SELECT * FROM orders WHERE user_id = 7) AS orders) SELECT * FROM x
    >>> t = sqlglot.parse_one("SELECT * FROM ((orders))")
    >>> print(scope_rows(t, {"orders": "user_id"}, 7).sql())
    SELECT * FROM (SELECT * FROM orders WHERE user_id = 7) AS orders
    """
    if tables is None:
        tables = classify_tables(tree, traverse_scope(tree)).real
    for table in tables:
        owner = owners.get(table.name)
        if owner is None:
            continue
        alias = table.args.get("alias")
        alias = alias.copy() if alias is not None else exp.TableAlias(this=table.this.copy())
        only_theirs = exp.Select(
            expressions=[exp.Star()],
            from_=exp.From(this=exp.Table(this=table.this.copy())),
            where=exp.Where(
                this=exp.EQ(
                    this=exp.Column(this=exp.to_identifier(owner)),
                    expression=exp.Literal.number(int(user_id)),
                )
            ),
        )
        target: exp.Expression = table
        while _bare_parentheses(target.parent, target):  # FROM (orders): PostgreSQL refuses
            target = target.parent  # FROM ((SELECT ...) AS orders), so replace the parentheses
        target.replace(exp.Subquery(this=only_theirs, alias=alias))
    return tree


def _bare_parentheses(node: exp.Expression | None, child: exp.Expression) -> bool:
    """Whether `node` only puts parentheses around `child`: no alias, no modifiers."""
    return (
        isinstance(node, exp.Subquery)
        and node.this is child
        and not any(value for key, value in node.args.items() if key != "this")
    )


def cap_limit(tree: exp.Expression, max_rows: int) -> exp.Expression:
    """Give the outermost query a LIMIT of at most `max_rows`: added when absent, lowered when
    larger, and put in place of anything that is not a plain number (`LIMIT -1`, `LIMIT ALL`,
    a subquery, `TOP 10 PERCENT`, `WITH TIES`). Set operations get one LIMIT for the whole;
    T-SQL receives it as TOP when the SQL is generated.

    >>> import sqlglot
    >>> cap_limit(sqlglot.parse_one("SELECT a FROM t LIMIT 5000"), 100).sql()
    'SELECT a FROM t LIMIT 100'
    >>> cap_limit(sqlglot.parse_one("SELECT a FROM t UNION SELECT a FROM u"), 100).sql()
    'SELECT a FROM t UNION SELECT a FROM u LIMIT 100'
    >>> cap_limit(sqlglot.parse_one("SELECT TOP 50 PERCENT a FROM t", "tsql"), 100).sql("tsql")
    'SELECT TOP 100 a FROM t'
    >>> cap_limit(sqlglot.parse_one("SELECT a FROM t LIMIT 10 OFFSET 20"), 100).sql()
    'SELECT a FROM t LIMIT 10 OFFSET 20'

    A query in plain parentheses is taken out of them first (T-SQL has no LIMIT for one):

    >>> cap_limit(sqlglot.parse_one("((SELECT a FROM t))", "tsql"), 100).sql("tsql")
    'SELECT TOP 100 a FROM t'
    """
    while isinstance(tree, exp.Subquery) and not any(
        value for key, value in tree.args.items() if key != "this"
    ):
        tree = tree.this
        tree.pop()  # detach from the parentheses: it is the root now
    limit = tree.args.get("limit")
    if isinstance(limit, exp.Limit | exp.Fetch) and _plain(limit.args.get("limit_options")):
        count = limit.expression if isinstance(limit, exp.Limit) else limit.args.get("count")
        if isinstance(limit, exp.Fetch) and count is None:  # FETCH FIRST ROW ONLY
            return tree
        if _count(count) <= max_rows:
            return tree
    tree.set("limit", exp.Limit(expression=exp.Literal.number(max_rows)))
    return tree


def _plain(options: exp.Expression | None) -> bool:
    """No PERCENT and no WITH TIES, which would return more rows than the count."""
    return options is None or not (options.args.get("percent") or options.args.get("with_ties"))


def _count(value: exp.Expression | None) -> float:
    """The row count a LIMIT asks for; infinite unless a plain non-negative integer."""
    if isinstance(value, exp.Literal) and value.is_int and int(value.this) >= 0:
        return int(value.this)
    return float("inf")
