"""Every column exists in the table it is read from."""

from __future__ import annotations

from sql_guard.rules.subject import Subject
from sql_guard.verdict import Reason


def known_columns(subject: Subject) -> list[Reason]:
    """Each column reference resolves to exactly one column of the catalog (through aliases,
    derived tables, CTEs and correlated subqueries; see `sql_guard.columns`). An invented
    column, a system column such as `ctid` or `rowid`, or a whole-row reference is unknown.

    >>> codes = lambda sql: [r.code for r in known_columns(Subject.parse(sql, "postgres"))]
    >>> codes("SELECT password FROM users"), codes("SELECT ctid FROM orders")
    (['unknown_column'], ['unknown_column'])
    >>> codes("SELECT status FROM orders JOIN payments ON payments.user_id = orders.user_id")
    ['ambiguous_column']
    >>> codes("SELECT o.status FROM orders o WHERE o.user_id IN (SELECT id FROM users)")
    []
    """
    return list(subject.columns.problems)
