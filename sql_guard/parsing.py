"""A statement is parsed once: the SQL agent reads a draft (its repairs, its doubts) and the
guard checks the same text moments later, and a parse costs about four copies of its tree.

The parsed trees are shared and must not be changed: each caller takes a copy (`statements`)
and rewrites its own.

>>> first = statements("SELECT a FROM t", "sqlite")[0]
>>> first.set("where", statements("SELECT 1 FROM t WHERE b", "sqlite")[0].args["where"])
>>> statements("SELECT a FROM t", "sqlite")[0].sql()
'SELECT a FROM t'
"""

from __future__ import annotations

from functools import lru_cache

import sqlglot
from sqlglot import exp


def statements(sql: str, dialect: str) -> list[exp.Expression | None]:
    """Each statement of `sql` as the caller's own tree (None for an empty one, as SQLGlot
    gives it); SQLGlot's errors are raised as they are."""
    return [None if tree is None else tree.copy() for tree in _parsed(sql, dialect)]


@lru_cache(maxsize=256)
def _parsed(sql: str, dialect: str) -> tuple[exp.Expression | None, ...]:
    return tuple(sqlglot.parse(sql, read=dialect))
