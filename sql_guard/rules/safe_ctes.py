"""CTEs may name intermediate results, never hide a table or loop."""

from __future__ import annotations

from sqlglot import exp

from sql_guard.rules.subject import Subject
from sql_guard.verdict import Reason


def safe_ctes(subject: Subject) -> list[Reason]:
    """A CTE may not carry the name of a catalog table (a reader, and row scoping, would take
    one for the other), and may not be recursive: a recursive CTE is an unbounded row
    generator, and SQLite and T-SQL recurse even without the RECURSIVE keyword.

    >>> codes = lambda sql: [r.code for r in safe_ctes(Subject.parse(sql))]
    >>> codes("WITH orders AS (SELECT * FROM orders) SELECT * FROM orders")
    ['cte_shadows_table']
    >>> codes("WITH n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i FROM n")
    ['recursive_cte']
    >>> codes("WITH big AS (SELECT symbol FROM orders) SELECT symbol FROM big")
    []
    """
    tables = subject.catalog.lower_tables
    reasons: list[Reason] = []
    for node in subject.find(exp.With, exp.CTE):
        if isinstance(node, exp.With) and node.args.get("recursive"):
            reasons.append(_recursive("WITH RECURSIVE"))
        if not isinstance(node, exp.CTE):
            continue
        recursive = isinstance(node.parent, exp.With) and node.parent.args.get("recursive")
        name = node.alias
        if name.lower() in tables:  # whether it also refers to itself no longer matters
            reasons.append(
                Reason(
                    code="cte_shadows_table",
                    message=f"a CTE may not be named {name}, like a table; rename it",
                )
            )
        elif not recursive and any(
            t.name == name and not t.db for t in node.this.find_all(exp.Table)
        ):
            reasons.append(_recursive(f"CTE {name} refers to itself"))
    return list(dict.fromkeys(reasons))


def _recursive(what: str) -> Reason:
    return Reason(code="recursive_cte", message=f"recursive queries are not allowed ({what})")
