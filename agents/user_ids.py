"""The user id a question asks for is the owner's id, not the row's own.

Asked for "the user id and the expiry time" of KYC checks, the embedded model selected
`k.id`, the check's own number, beside or instead of `k.user_id`. When the only id a question
asks for is the user's (or customer's), a result column that is the `id` of a table holding
a `user_id` becomes that `user_id`, or goes when `user_id` is already a result column. The
users table's own `id` is the user id and stays.
"""

from __future__ import annotations

import re

from sqlglot import exp

from agents.sql_tree import parse, read_sources, table_aliases
from services.catalog import Catalog

_USER_ID = re.compile(r"\b(?:user|customer)\s+ids?\b", re.I)
_ANY_ID = re.compile(r"\bids?\b", re.I)


def asks_only_user_ids(question: str) -> bool:
    """
    >>> asks_only_user_ids("Return the user id and the expiry time.")
    True
    >>> asks_only_user_ids("Return the payment id and the user id.")
    False
    """
    asked = len(_USER_ID.findall(question))
    return asked > 0 and asked == len(_ANY_ID.findall(question))


def with_user_ids(sql: str, catalog: Catalog, dialect: str) -> str:
    """`sql` with each result column that is another table's own `id` turned into its
    `user_id` (or dropped, when that is already a result column); unchanged otherwise.

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> cols = [ColumnInfo(name=n, type="INTEGER") for n in ("id", "user_id")]
    >>> c = Catalog(tables=[TableInfo(name="kyc", columns=cols)])
    >>> with_user_ids("SELECT k.id, k.expires FROM kyc AS k", c, "sqlite")
    'SELECT k.user_id, k.expires FROM kyc AS k'
    >>> with_user_ids("SELECT id, user_id FROM kyc", c, "sqlite")
    'SELECT user_id FROM kyc'
    """
    tree = parse(sql, dialect)
    if not isinstance(tree, exp.Select):
        return sql
    owned = {
        t.name.lower()
        for t in catalog.tables
        if t.name.lower() != "users" and any(c.name.lower() == "user_id" for c in t.columns)
    }
    aliases = table_aliases(tree, owned)
    sources = [s.alias_or_name.lower() for s in read_sources(tree) if isinstance(s, exp.Table)]
    kept, changed = [], False
    for projection in tree.expressions:
        column = projection.unalias()
        qualifier = column.table.lower() if isinstance(column, exp.Column) else ""
        if len(sources) == 1 and not qualifier:
            qualifier = sources[0]
        own_id = isinstance(column, exp.Column) and column.name.lower() == "id"
        if not (own_id and qualifier in aliases):
            kept.append(projection)
            continue
        changed = True
        if not any(_is_user_id(p.unalias(), column.table) for p in tree.expressions):
            user_id = exp.column("user_id", table=column.table or None)
            kept.append(user_id if projection is column else projection)
            column.replace(user_id)
    if not changed or not kept:
        return sql
    tree.set("expressions", kept)
    return tree.sql(dialect=dialect)


def _is_user_id(column: exp.Expression, qualifier: str) -> bool:
    return (
        isinstance(column, exp.Column)
        and column.name.lower() == "user_id"
        and column.table.lower() in ("", qualifier.lower())
    )
