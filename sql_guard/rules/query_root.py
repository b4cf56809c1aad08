"""Only a query may run: a SELECT, a set operation of SELECTs, or a parenthesised query."""

from __future__ import annotations

from sqlglot import exp

from sql_guard.rules.subject import Subject
from sql_guard.verdict import Reason

QUERY_ROOTS = (exp.Select, exp.SetOperation, exp.Subquery)


def query_root(subject: Subject) -> list[Reason]:
    """The statement itself must be a query. SQLGlot parses what it does not understand (CALL,
    DO, EXPLAIN, VACUUM INTO, PREPARE, ...) as an opaque `Command`, which is never one.

    >>> [r.message for r in query_root(Subject.parse("DELETE FROM orders"))]
    ['only SELECT queries may run, not DELETE']
    >>> [r.message for r in query_root(Subject.parse("EXPLAIN ANALYZE SELECT 1", "postgres"))]
    ['only SELECT queries may run, not EXPLAIN']
    >>> query_root(Subject.parse("SELECT 1 UNION SELECT 2"))
    []
    """
    tree = subject.tree
    if isinstance(tree, QUERY_ROOTS) and not (
        isinstance(tree, exp.Subquery) and not isinstance(tree.unnest(), exp.Query)
    ):
        return []
    return [
        Reason(
            code="not_select", message=f"only SELECT queries may run, not {_kind(tree, subject)}"
        )
    ]


def _kind(tree: exp.Expression, subject: Subject) -> str:
    """The statement's first keyword as written (SQLGlot reads some statements it does not
    know, such as SAVEPOINT or CHECKPOINT, as a column or an alias, so its node kind would
    mislead)."""
    if isinstance(tree, exp.Command):
        return str(tree.this).split()[0].upper()
    try:
        words = tree.sql(subject.dialect).split()
    except Exception:  # noqa: BLE001 - the message must not fail the refusal
        words = []
    return words[0].upper() if words else tree.key.upper()
