"""Which `exp.Table` nodes of a query are tables of the database and which name a CTE."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.optimizer.scope import Scope

from sql_guard.verdict import Reason


@dataclass
class TableRefs:
    """Every table node of a tree, sorted by what it refers to as the database resolves it:
    a name is a CTE only where that CTE is visible (SQLGlot's scopes)."""

    real: list[exp.Table] = field(default_factory=list)  # tables of the database
    ctes: list[exp.Table] = field(default_factory=list)  # references to a CTE
    problems: list[Reason] = field(default_factory=list)  # nodes that could not be placed


def classify_tables(
    tree: exp.Expression, scopes: list[Scope], nodes: Iterable[exp.Expression] | None = None
) -> TableRefs:
    """Sort the table nodes of `tree`, given its scopes (and its nodes, when the caller has
    walked it already). A node no scope accounts for, or a name used for two tables, is a
    problem: nothing may be read that was not classified.

    >>> import sqlglot
    >>> from sqlglot.optimizer.scope import traverse_scope
    >>> t = sqlglot.parse_one("WITH o AS (SELECT * FROM orders) SELECT * FROM o JOIN users ON 1=1")
    >>> refs = classify_tables(t, traverse_scope(t))
    >>> [x.name for x in refs.real], [x.name for x in refs.ctes]
    (['orders', 'users'], ['o'])
    """
    refs = TableRefs()
    placed: set[int] = set()
    for scope in scopes:
        for table in scope.tables:
            placed.add(id(table))
            source = scope.sources.get(table.alias_or_name)
            if source is table:
                refs.real.append(table)
            elif isinstance(source, Scope) and not table.db and table.name in scope.cte_sources:
                refs.ctes.append(table)
            else:
                refs.problems.append(
                    Reason(
                        code="duplicate_alias",
                        message=f"the name {table.alias_or_name} is used for two tables; "
                        "give each table its own alias",
                    )
                )
    for node in tree.walk() if nodes is None else nodes:
        if isinstance(node, exp.Table) and id(node) not in placed:
            refs.problems.append(
                Reason(
                    code="unresolved_table",
                    message=f"{node.sql()} is not in a place a table can be read from",
                )
            )
    return refs
