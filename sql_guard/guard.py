"""The one entry point: check a statement, and rewrite it when it passes.

>>> from services.identity import Caller, Role
>>> from sql_guard.policy import open_policy
>>> policy = open_policy({"t": {"a": "INT"}}, max_rows=10)
>>> check("SELECT a FROM t", policy=policy, caller=Caller(role=Role.ADMIN)).sql
'SELECT a FROM t LIMIT 10'
>>> check("DROP TABLE t", policy=policy, caller=Caller(role=Role.ADMIN)).reasons[0].code
'not_select'
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from services.identity import Caller
from sql_guard.policy import Policy
from sql_guard.rewrite import cap_limit, scope_rows
from sql_guard.rules import STAGES, Subject
from sql_guard.verdict import Reason, Verdict

DIALECTS = ("sqlite", "postgres", "tsql", "mysql", "duckdb")


def check(
    sql: str,
    *,
    policy: Policy,
    caller: Caller,
    dialect: str = "sqlite",
    target_dialect: str | None = None,
) -> Verdict:
    if dialect not in DIALECTS:
        return _reject("unknown_dialect", f"dialect must be one of {', '.join(DIALECTS)}")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        return _reject("parse_error", f"not valid {dialect} SQL: {_first_line(exc)}")
    if len(statements) != 1:
        return _reject("statement_count", f"expected exactly one statement, got {len(statements)}")
    tree = statements[0]
    subject = Subject(tree, dialect, policy, caller, {c.alias for c in tree.find_all(exp.CTE)})
    for stage in STAGES:
        reasons = [reason for rule in stage for reason in rule(subject)]
        if reasons:
            return Verdict(allowed=False, reasons=reasons)
    tables = sorted({t.name for t in subject.real_tables()})
    if caller.is_scoped:
        if caller.user_id is None:
            return _reject("no_identity", "a customer query needs an authenticated user id")
        scope_rows(tree, policy.owner_columns, caller.user_id, subject.cte_names)
    tree = cap_limit(tree, policy.max_rows)
    return Verdict(allowed=True, sql=tree.sql(dialect=target_dialect or dialect), tables=tables)


def _reject(code: str, message: str) -> Verdict:
    return Verdict(allowed=False, reasons=[Reason(code=code, message=message)])


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300]
