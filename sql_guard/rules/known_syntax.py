"""Only syntax known to be a plain read: everything else is refused, whatever it is."""

from __future__ import annotations

from sqlglot import exp

from sql_guard.rules.read_only import HANDLED
from sql_guard.rules.subject import Subject
from sql_guard.verdict import Reason

# The non-function node kinds analytical queries are made of. Functions are checked by
# allowed_functions, cast targets by allowed_types; writes, locks and hints by read_only.
ALLOWED_NODES: frozenset[type[exp.Expression]] = frozenset(
    {
        # query structure
        exp.Select,
        exp.Union,
        exp.Intersect,
        exp.Except,
        exp.Subquery,
        exp.With,
        exp.CTE,
        exp.From,
        exp.Join,
        exp.Lateral,
        exp.Where,
        exp.Group,
        exp.Having,
        exp.Qualify,
        exp.Order,
        exp.Ordered,
        exp.Limit,
        exp.LimitOptions,
        exp.Offset,
        exp.Fetch,
        exp.Distinct,
        exp.Window,
        exp.WindowSpec,
        exp.Filter,
        exp.WithinGroup,
        exp.IgnoreNulls,
        exp.RespectNulls,
        exp.Cube,
        exp.Rollup,
        exp.GroupingSets,
        # names and values
        exp.Table,
        exp.TableAlias,
        exp.Alias,
        exp.Column,
        exp.Identifier,
        exp.Star,
        exp.Literal,
        exp.National,
        exp.Boolean,
        exp.Null,
        exp.Var,
        exp.Interval,
        exp.DataType,
        exp.DataTypeParam,
        exp.Tuple,
        exp.Paren,
        # operators
        exp.Add,
        exp.Sub,
        exp.Mul,
        exp.Div,
        exp.IntDiv,
        exp.Mod,
        exp.DPipe,
        exp.Neg,
        exp.Not,
        exp.EQ,
        exp.NEQ,
        exp.GT,
        exp.GTE,
        exp.LT,
        exp.LTE,
        exp.NullSafeEQ,
        exp.NullSafeNEQ,
        exp.Is,
        exp.Like,
        exp.ILike,
        exp.SimilarTo,
        exp.Glob,
        exp.Escape,
        exp.In,
        exp.Between,
        exp.Any,
        exp.All,
        exp.AtTimeZone,
        exp.BitwiseAnd,
        exp.BitwiseOr,
        exp.BitwiseXor,
        exp.BitwiseNot,
        exp.BitwiseLeftShift,
        exp.BitwiseRightShift,
        # JSON paths of -> and ->>
        exp.JSONPath,
        exp.JSONPathRoot,
        exp.JSONPathKey,
        exp.JSONPathSubscript,
    }
)
PARAMETERS: tuple[type[exp.Expression], ...] = (
    exp.Placeholder,
    exp.Parameter,
    exp.SessionParameter,
)
# Reported by other rules: functions, cast targets, and writes, locks and hints.
SKIPPED: tuple[type[exp.Expression], ...] = (exp.Func, exp.ObjectIdentifier, *HANDLED)
# A bare word (exp.Var) is a date part or unit inside a function or an interval; anywhere else
# it is a keyword SQLGlot did not model, which may be a session value.
VAR_PARENTS: tuple[type[exp.Expression], ...] = (exp.Func, exp.Interval, exp.WindowSpec)


def known_syntax(subject: Subject) -> list[Reason]:
    """Every node must be of a kind on the allow-list above. This is what stops the syntax
    nobody listed: bind parameters and session variables (`:id`, `@@version`, `@a := 1`),
    optimizer hints and query options, FOR XML, PIVOT, TABLESAMPLE, qualified function calls
    (`pg_catalog.pg_sleep`), dollar-quoted and escape strings.

    >>> codes = lambda sql, d="sqlite": [r.code for r in known_syntax(Subject.parse(sql, d))]
    >>> codes("SELECT * FROM orders WHERE id = :id"), codes("SELECT @@version", "tsql")
    (['parameter'], ['parameter'])
    >>> codes("SELECT * FROM orders OPTION (MAXDOP 1)", "tsql")
    ['unsupported_syntax']
    >>> codes("SELECT symbol FROM orders WHERE side = 'buy'")
    []
    """
    reasons: list[Reason] = []
    refused: set[int] = set()  # nodes already reported: what is inside them is not reported
    for node in subject.nodes:
        kind = type(node)
        if kind in ALLOWED_NODES and (kind is not exp.Var or isinstance(node.parent, VAR_PARENTS)):
            continue
        if isinstance(node, SKIPPED) or _inside(node, HANDLED, refused):
            continue
        refused.add(id(node))
        if isinstance(node, PARAMETERS):
            reason = Reason(
                code="parameter",
                message="parameters and session variables are not allowed; write the values",
            )
        else:
            reason = Reason(
                code="unsupported_syntax",
                message=f"{_describe(node, subject.dialect)} is not supported in a query",
            )
        if reason not in reasons:
            reasons.append(reason)
    return reasons


def _inside(node: exp.Expression, kinds: tuple[type[exp.Expression], ...], ids: set[int]) -> bool:
    """Whether an ancestor of `node` is of one of `kinds` (writes and locks are reported once,
    by read_only) or one of the nodes `ids` (reported already)."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, kinds) or id(parent) in ids:
            return True
        parent = parent.parent
    return False


def _describe(node: exp.Expression, dialect: str) -> str:
    try:
        text = node.sql(dialect)
    except Exception:  # noqa: BLE001 - a node SQLGlot cannot write back is still refused
        text = "..."
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{node.key.upper()} ({text})"
