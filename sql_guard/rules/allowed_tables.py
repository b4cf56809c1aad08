"""Tables only from the caller's part of the catalog; never system catalogs or files."""

from __future__ import annotations

from sqlglot import exp

from sql_guard.catalog import is_system_name
from sql_guard.rules.subject import Subject
from sql_guard.verdict import Reason

# What a table reference may carry besides its name and alias. Anything else (time travel,
# samples, pivots, partitions, ONLY, ...) would be dropped or misread by row scoping.
TABLE_ARGS = frozenset({"this", "alias", "db", "catalog"})


def allowed_tables(subject: Subject) -> list[Reason]:
    """Every table the query reads, wherever it appears (joins, subqueries, CTE bodies, set
    operations, LATERAL), must be in the catalog and allowed for the caller's role. A name is
    taken as a CTE only where that CTE is visible, as the database does, so a CTE cannot lend
    its name to a table outside it. System catalogs are refused even when qualified or
    listed in a policy; table functions and file sources (`FROM read_csv(...)`,
    `FROM 'file.csv'`) are not tables. A table's alias may not rename its columns
    (`users AS u(email, id)`), since the column checks read names as the catalog has them.

    >>> from services.identity import Caller, Role
    >>> customer = lambda sql: [r.code for r in allowed_tables(Subject.parse(
    ...     sql, caller=Caller(role=Role.CUSTOMER, user_id=7)))]
    >>> customer("SELECT * FROM audit_log"), customer("SELECT * FROM sqlite_master")
    (['table_not_allowed'], ['system_catalog'])
    >>> customer("SELECT * FROM (WITH secrets AS (SELECT 1 AS x) SELECT x FROM secrets) a, secrets")
    ['unknown_table']
    >>> customer("SELECT o.symbol FROM orders o JOIN positions p ON p.symbol = o.symbol")
    []
    """
    refs = subject.tables
    allowed = subject.catalog.tables_for(subject.caller.role)
    reasons = list(refs.problems)
    for table in refs.real:
        reasons.extend(_check(table, subject, allowed))
    for table in refs.ctes:
        extra = set(table.args) - TABLE_ARGS
        if any(table.args.get(arg) for arg in extra):
            reasons.append(_modifier(table, subject.dialect))
    return list(dict.fromkeys(reasons))


def _check(table: exp.Table, subject: Subject, allowed: frozenset[str]) -> list[Reason]:
    def sql() -> str:  # only written out for a message: generating SQL costs time
        return table.sql(subject.dialect)

    if not isinstance(table.this, exp.Identifier):
        return [Reason(code="table_source", message=f"{sql()} is not a table of the catalog")]
    reasons = []
    alias = table.args.get("alias")
    if any(table.args.get(arg) for arg in set(table.args) - TABLE_ARGS) or (
        alias is not None and alias.columns
    ):  # `users AS u(email, id)` would let a column pass for another
        reasons.append(_modifier(table, subject.dialect))
    name, schema = table.name, table.db
    if is_system_name(name, schema) or is_system_name(table.catalog):
        reasons.append(
            Reason(code="system_catalog", message=f"{sql()}: system catalogs cannot be queried")
        )
    elif schema or table.catalog:
        reasons.append(
            Reason(code="qualified_table", message=f"{sql()}: use the table name without a schema")
        )
    elif name not in subject.catalog.columns:
        reasons.append(Reason(code="unknown_table", message=f"no such table: {name}"))
    elif name not in allowed:
        reasons.append(
            Reason(
                code="table_not_allowed",
                message=f"table {name} is not available to the {subject.caller.role} role",
            )
        )
    return reasons


def _modifier(table: exp.Table, dialect: str) -> Reason:
    return Reason(
        code="table_modifier",
        message=f"{table.sql(dialect)}: only plain table names and aliases may be used",
    )
