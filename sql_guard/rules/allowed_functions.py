"""Functions, in any position, only from the allow-list."""

from __future__ import annotations

import re

from sqlglot import exp

from sql_guard.functions import denial, function_name, is_allowed
from sql_guard.rules.subject import Subject
from sql_guard.verdict import Reason

MAX_WIDTH = 1000  # longest LPAD/RPAD result, or printf/format field width, a query may ask for
_CONVERSION = re.compile(r"%%|%([^A-Za-z%]*)")  # a printf or format() conversion's flags


def allowed_functions(subject: Subject) -> list[Reason]:
    """Every function call (select list, FROM, WHERE, joins, subqueries) must be allowed.
    Sleeps, file and network readers, sequence changes, admin and server-information
    functions and row generators are refused by name (`denied_function`); a name on no list,
    such as a user-defined function or a look-alike, is refused as unknown
    (`unknown_function`). Functions that can build huge strings are bounded: LPAD and RPAD
    need a literal length of at most 1000, printf and format a literal format string whose
    field widths are literal numbers of at most 1000.

    >>> codes = lambda sql, d="postgres": [r.code for r in allowed_functions(Subject.parse(sql, d))]
    >>> codes("SELECT * FROM orders WHERE pg_sleep(5) IS NOT NULL")
    ['denied_function']
    >>> codes("SELECT my_udf(id) FROM orders"), codes("SELECT lpad(symbol, 10) FROM orders")
    (['unknown_function'], [])
    >>> codes("SELECT printf('%.2f', price) FROM orders", "sqlite")
    []
    >>> codes("SELECT printf('%.*c', 1000000000, 'x')", "sqlite")
    ['denied_function']
    """
    extra = subject.catalog.extra_functions
    reasons: list[Reason] = []
    for node in subject.find(exp.Func):
        if is_allowed(node, extra):
            reason = _unbounded(node)
        else:
            why = denial(node)
            name = function_name(node)
            if why is not None:
                reason = Reason(code="denied_function", message=f"function {name}() {why}")
            else:
                reason = Reason(
                    code="unknown_function",
                    message=f"function {name}() is not on the list of allowed functions",
                )
        if reason is not None and reason not in reasons:
            reasons.append(reason)
    return reasons


def _unbounded(node: exp.Func) -> Reason | None:
    """Why an allowed function call could build a huge string, or None."""
    if isinstance(node, exp.Pad):
        if _literal_int(node.expression, MAX_WIDTH):
            return None
        message = f"{function_name(node)}() needs a literal length of at most {MAX_WIDTH}"
    elif isinstance(node, exp.Format) or (
        isinstance(node, exp.Anonymous) and function_name(node) == "printf"
    ):
        template = node.this if isinstance(node, exp.Format) else (node.expressions or [None])[0]
        if _bounded_template(template):
            return None
        message = (
            f"{function_name(node)}() needs a literal format string with field widths of at "
            f"most {MAX_WIDTH}"
        )
    else:
        return None
    return Reason(code="denied_function", message=message)


def _literal_int(value: exp.Expression | None, limit: int) -> bool:
    return isinstance(value, exp.Literal) and value.is_int and int(value.this) <= limit


def _bounded_template(value: exp.Expression | None) -> bool:
    """A string literal whose conversions take no width from an argument (`*`) and ask for
    no width or precision above MAX_WIDTH."""
    if not (isinstance(value, exp.Literal) and value.is_string):
        return False
    for match in _CONVERSION.finditer(value.this):
        flags = match.group(1) or ""
        if "*" in flags or any(int(n) > MAX_WIDTH for n in re.findall(r"\d+", flags)):
            return False
    return True
