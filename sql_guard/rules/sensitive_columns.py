"""Personal and payment data only for the roles allowed to read it."""

from __future__ import annotations

from sql_guard.rules.subject import Subject
from sql_guard.verdict import Reason


def sensitive_columns(subject: Subject) -> list[Reason]:
    """A role outside the policy's `sensitive_roles` may not read a sensitive column in any
    position: selecting it, filtering or sorting on it (which leaks it one question at a time),
    or through `*`, a derived table, a CTE or a correlated subquery.

    >>> from services.identity import Caller, Role
    >>> support = Caller(role=Role.SUPPORT)
    >>> refused = lambda sql: [r.message.split()[0] for r in sensitive_columns(
    ...     Subject.parse(sql, caller=support))]
    >>> refused("SELECT id FROM users WHERE email LIKE '%@example.com'")
    ['users.email']
    >>> refused("SELECT * FROM users")
    ['users.date_of_birth', 'users.email', 'users.full_name', 'users.phone']
    >>> refused("SELECT country, COUNT(*) FROM users GROUP BY country")
    []
    """
    catalog = subject.catalog
    role = subject.caller.role
    if role in catalog.sensitive_roles:
        return []
    reasons = []
    for table, column in sorted(subject.columns.reads):
        if column in catalog.sensitive.get(table, ()):
            reasons.append(
                Reason(
                    code="sensitive_column",
                    message=f"{table}.{column} holds personal or payment data that the {role} "
                    "role may not read",
                )
            )
    return reasons
