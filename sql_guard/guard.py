"""The one entry point: check a statement, and rewrite it when it passes.

`check` parses the SQL with SQLGlot in its dialect, insists on exactly one statement, expands the
names a semantic model declares (`services.semantic.expand`: `FROM open_orders`, a measure used
as a column) into SQL over base tables, normalises
its identifiers the way that dialect's engine resolves them, runs the rules (`sql_guard.rules`)
stage by stage, and only then rewrites the tree: the database's clock read as the platform's
(`sql_guard.clock_pin`), each owned table scoped to the caller's rows (for customers), an outer
LIMIT, and the SQL generated for the replica's dialect, without
comments. Whatever goes wrong inside the guard refuses the query.

>>> from services.identity import Caller, Role
>>> from sql_guard.policy import open_policy
>>> policy = open_policy({"t": {"a": "INT"}}, max_rows=10)
>>> check("SELECT a FROM t", policy=policy, caller=Caller(role=Role.ADMIN)).sql
'SELECT a FROM t LIMIT 10'
>>> check("DROP TABLE t", policy=policy, caller=Caller(role=Role.ADMIN)).reasons[0].code
'not_select'
>>> check("SELECT TOP 5 a FROM t", policy=policy, caller=Caller(role=Role.ADMIN),
...       dialect="tsql", target_dialect="postgres").sql
'SELECT a FROM t LIMIT 5'
"""

from __future__ import annotations

import logging

from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, SqlglotError, TokenError

from services import clock
from services.identity import Caller
from services.semantic.expand import expand
from services.semantic.model import SemanticModel
from sql_guard.clock_pin import pin_clock
from sql_guard.parsing import statements as parse_statements
from sql_guard.policy import Policy
from sql_guard.rewrite import cap_limit, scope_rows
from sql_guard.rules import STAGES, Subject
from sql_guard.verdict import Reason, Verdict

log = logging.getLogger(__name__)

DIALECTS = ("sqlite", "postgres", "tsql", "mysql", "duckdb")
MAX_SQL_CHARS = 20_000


def check(
    sql: str,
    *,
    policy: Policy,
    caller: Caller,
    dialect: str = "sqlite",
    target_dialect: str | None = None,
    semantic: SemanticModel | None = None,
) -> Verdict:
    """Decide whether `sql` (written in `dialect`) may run for `caller`, and return the SQL to
    run on the replica (in `target_dialect`, by default the same). With `semantic`, the names
    it declares are expanded first, so every rule and the row scoping see base tables."""
    target = target_dialect or dialect
    if dialect not in DIALECTS or target not in DIALECTS:
        return _reject("unknown_dialect", f"dialect must be one of {', '.join(DIALECTS)}")
    if caller.is_scoped and caller.user_id is None:
        return _reject("no_identity", "a customer query needs an authenticated user id")
    if len(sql) > MAX_SQL_CHARS:
        return _reject("too_long", f"a query may be at most {MAX_SQL_CHARS} characters long")
    try:
        statements = parse_statements(sql, dialect)
    except (ParseError, TokenError) as exc:
        return _reject("parse_error", f"not valid {dialect} SQL: {_first_line(exc)}")
    except RecursionError:
        return _reject("parse_error", "the query is nested too deeply")
    except Exception:  # noqa: BLE001 - whatever the parser does, the query is refused
        log.exception("SQLGlot failed to parse %.500r", sql)
        return _reject("parse_error", f"the query could not be parsed as {dialect} SQL")
    trailing = [s for s in statements if isinstance(s, exp.Semicolon)]
    statements = [s for s in statements if s is not None and not isinstance(s, exp.Semicolon)]
    if len(statements) != 1:
        return _reject("statement_count", f"expected exactly one statement, got {len(statements)}")
    if any(s.comments for s in trailing):
        return _reject("comment", "comments are not allowed in a query; remove them")
    tree = statements[0]
    if semantic is not None:
        try:
            tree = expand(tree, semantic, dialect)
        except Exception as exc:  # noqa: BLE001 - a definition that does not expand refuses
            log.warning("semantic expansion failed on %.500r: %s", sql, exc)
            return _reject(
                "semantic_error", f"the semantic model's names could not be expanded: {exc}"
            )
    try:
        return _check_tree(tree, policy, caller, dialect, target)
    except Exception:  # noqa: BLE001 - a guard that fails must refuse, never let through
        log.exception("the SQL guard failed on %.500r", sql)
        return _reject("guard_error", "the query could not be checked, so it may not run")


def _check_tree(
    tree: exp.Expression, policy: Policy, caller: Caller, dialect: str, target: str
) -> Verdict:
    subject = Subject.prepare(tree, dialect, policy, caller)
    for stage in STAGES:
        reasons = [reason for rule in stage for reason in rule(subject)]
        if reasons:
            return Verdict(allowed=False, reasons=list(dict.fromkeys(reasons)))
    real = subject.tables.real
    tables = sorted({t.name for t in real})
    pin_clock(tree, clock.utcnow(), target)
    if caller.is_scoped:
        scope_rows(tree, subject.catalog.owners, caller.user_id, real)
    tree = cap_limit(tree, policy.max_rows)
    try:
        # copy=False: the tree is not used again, and copying it costs a third of a parse
        sql = tree.sql(
            dialect=target, copy=False, comments=False, unsupported_level=ErrorLevel.RAISE
        )
    except SqlglotError as exc:
        return _reject("transpile_error", f"cannot write this query for {target}: {exc}")
    return Verdict(allowed=True, sql=sql, tables=tables)


def _reject(code: str, message: str) -> Verdict:
    return Verdict(allowed=False, reasons=[Reason(code=code, message=message)])


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300]
