"""Nothing in the tree may write, lock or leave the database, at any depth."""

from __future__ import annotations

from sqlglot import exp

from sql_guard.rules.subject import Subject
from sql_guard.verdict import Reason

# Statements and clauses that change data, schema, settings or sessions, or run code.
WRITES: tuple[type[exp.Expression], ...] = (
    exp.DML,  # INSERT, UPDATE, DELETE, MERGE, COPY
    exp.DDL,  # CREATE and friends
    exp.Command,  # whatever SQLGlot could only keep as text
    exp.Alter,
    exp.Drop,
    exp.TruncateTable,
    exp.Set,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Pragma,
    exp.Attach,
    exp.Detach,
    exp.Execute,
    exp.Install,
    exp.Declare,
    exp.Use,
    exp.Grant,
    exp.Revoke,
    exp.Kill,
    exp.LoadData,
    exp.Comment,
    exp.Analyze,
    exp.Refresh,
    exp.Cache,
    exp.Uncache,
    exp.Export,
    exp.Put,
    exp.Get,
    exp.Block,
    exp.IfBlock,
    exp.WhileBlock,
    exp.StoredProcedure,
    exp.LockingStatement,
    exp.Summarize,
    exp.Describe,
    exp.Show,
    exp.Returning,
    exp.OnConflict,
)
LOCKS: tuple[type[exp.Expression], ...] = (exp.Lock,)
TABLE_HINTS: tuple[type[exp.Expression], ...] = (exp.WithTableHint, exp.IndexTableHint)
HANDLED = WRITES + LOCKS + TABLE_HINTS + (exp.Into,)


def read_only(subject: Subject) -> list[Reason]:
    """A query that writes anywhere in its tree is a write: a data-modifying CTE, SELECT INTO
    (a new table, a file, a variable), row locks (FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE) and
    T-SQL table hints (UPDLOCK, HOLDLOCK, ...).

    >>> codes = lambda sql, d="postgres": [r.code for r in read_only(Subject.parse(sql, d))]
    >>> codes("WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d")
    ['write_statement']
    >>> codes("SELECT * INTO stolen FROM users"), codes("SELECT * FROM orders FOR UPDATE")
    (['select_into'], ['row_lock'])
    >>> codes("SELECT * FROM orders WITH (UPDLOCK)", "tsql")
    ['table_hint']
    """
    reasons: list[Reason] = []
    for node in subject.find(*HANDLED):
        if node is subject.tree or _inside_handled(node):
            continue
        if isinstance(node, exp.Into):
            reason = Reason(code="select_into", message="SELECT ... INTO writes; it is not allowed")
        elif isinstance(node, LOCKS):
            reason = Reason(
                code="row_lock", message=f"{node.sql(subject.dialect)} locks rows; not allowed"
            )
        elif isinstance(node, TABLE_HINTS):
            reason = Reason(code="table_hint", message="table hints (WITH (...)) are not allowed")
        else:
            what = str(node.this).split()[0].upper() if isinstance(node, exp.Command) else node.key
            reason = Reason(
                code="write_statement",
                message=f"{what.upper()} inside a query is not allowed: queries only read",
            )
        if reason not in reasons:
            reasons.append(reason)
    return reasons


def _inside_handled(node: exp.Expression) -> bool:
    """A write inside a write (DELETE ... RETURNING) is reported once, as the outer one."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, HANDLED):
            return True
        parent = parent.parent
    return False
