"""Differences of stored times, computed the way SQLite can.

SQLite keeps DATETIME and TIMESTAMP values as text, and `reviewed_at - submitted_at` then
subtracts the leading years: a number, no error, and a wrong answer. The embedded model writes
it for "average session duration" or "hours from submission to decision". A difference of two
stored times has one meaning, a span of time, so it is rewritten to SQLite's own span in days
(`julianday(later) - julianday(earlier)`), the unit PostgreSQL's date subtraction gives too; a
model that then multiplies by 24 gets hours.

Other dialects subtract timestamps into intervals, which are right as they are.
"""

from __future__ import annotations

from sqlglot import exp

from agents.sql.tree import parse, table_aliases
from services.catalog import Catalog

_TIME_TYPES = ("DATE", "DATETIME", "TIMESTAMP", "TIME")


def _times(tree: exp.Expression, catalog: Catalog) -> set[tuple[str, str]]:
    """(alias or table, column) of the stored times the query can name, with "" as the alias of
    a column named without one, where every table it reads agrees that name is a time."""
    tables = {t.name.lower(): t for t in catalog.tables}
    aliases = table_aliases(tree, tables)
    kinds: dict[tuple[str, str], list[bool]] = {}
    for alias, name in aliases.items():
        for column in tables[name].columns:
            timed = column.type.upper().startswith(_TIME_TYPES)
            for key in ((alias, column.name.lower()), ("", column.name.lower())):
                kinds.setdefault(key, []).append(timed)
    return {key for key, timed in kinds.items() if all(timed)}


def _difference(later: exp.Expression, earlier: exp.Expression) -> exp.Expression:
    return exp.Paren(
        this=exp.Sub(this=exp.func("julianday", later), expression=exp.func("julianday", earlier))
    )


def with_time_differences(sql: str, catalog: Catalog, dialect: str) -> str:
    """`sql` with each difference of two stored times computed in days; unchanged on other
    dialects, or when there is none.

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> times = [ColumnInfo(name=n, type="TIMESTAMP") for n in ("start_ts", "end_ts")]
    >>> c = Catalog(tables=[TableInfo(name="s", columns=times)])
    >>> with_time_differences("SELECT AVG(end_ts - start_ts) * 24 FROM s", c, "sqlite")
    'SELECT AVG((JULIANDAY(end_ts) - JULIANDAY(start_ts))) * 24 FROM s'
    """
    tree = parse(sql, dialect) if dialect == "sqlite" else None
    if tree is None:
        return sql
    times = _times(tree, catalog)

    def is_time(node: exp.Expression) -> bool:
        return isinstance(node, exp.Column) and (node.table.lower(), node.name.lower()) in times

    changed = False
    for sub in list(tree.find_all(exp.Sub)):
        if is_time(sub.this) and is_time(sub.expression):
            sub.replace(_difference(sub.this.copy(), sub.expression.copy()))
            changed = True
    return tree.sql(dialect=dialect) if changed else sql
