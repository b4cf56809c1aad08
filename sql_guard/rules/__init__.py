"""The guard's rules. Each one looks at the parsed tree, never at the SQL string.

A rule is a function of the `Subject` (the normalised tree, the dialect, the policy and the
caller) returning the reasons it objects, an empty list when it has none; each lives in a
module of its own name, with its reasons and an example in its docstring.

`STAGES` orders them: every rule of a stage runs, so the caller hears all its problems at once,
and a later stage runs only when the earlier ones found nothing (checking the columns of a
statement that writes would only add noise, and the later stages rely on the earlier ones:
column resolution needs tables that exist). The first stage looks at the statement's kind, the
second at every node of the tree on its own (writes, syntax, comments, CTEs, functions, cast
types), the third at the tables the query reads, the last at its columns.

>>> [rule.__name__ for rule in RULES][:3]
['query_root', 'read_only', 'known_syntax']
"""

from __future__ import annotations

from sql_guard.rules.allowed_functions import allowed_functions
from sql_guard.rules.allowed_tables import allowed_tables
from sql_guard.rules.allowed_types import allowed_types
from sql_guard.rules.known_columns import known_columns
from sql_guard.rules.known_syntax import known_syntax
from sql_guard.rules.no_comments import no_comments
from sql_guard.rules.query_root import query_root
from sql_guard.rules.read_only import read_only
from sql_guard.rules.safe_ctes import safe_ctes
from sql_guard.rules.sensitive_columns import sensitive_columns
from sql_guard.rules.subject import Rule, Subject

STAGES: tuple[tuple[Rule, ...], ...] = (
    (query_root,),
    (read_only, known_syntax, no_comments, safe_ctes, allowed_functions, allowed_types),
    (allowed_tables,),
    (known_columns, sensitive_columns),
)
RULES: tuple[Rule, ...] = tuple(rule for stage in STAGES for rule in stage)

__all__ = ["RULES", "STAGES", "Rule", "Subject"]
