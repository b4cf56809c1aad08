"""Schema-aware repair of the model's most common slip: a column taken from the wrong table.

Told "no column last_name in dogs", the embedded 1.5B model writes the same query again: on the
seeded Spider sample all three attempts of every such question were identical. What the schema
alone decides is therefore repaired before a retry is spent:

- a qualified column `t.x` whose table lacks `x`, when exactly one other table of the same
  SELECT has `x`, is requalified to that table;
- a column that no table of its SELECT has (qualified or not), when exactly one table joined
  to them by a foreign key has it, brings that table in with an inner join on the key.

Anything less certain is left to the model's retry. The repaired query still goes through the
guard like any other: repair never widens what a caller may read.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from services.catalog import Catalog


class _Schema:
    """The catalog with names folded to lower case, as SQLite and the guard compare them."""

    def __init__(self, catalog: Catalog):
        self.columns = {t.name.lower(): {c.name.lower() for c in t.columns} for t in catalog.tables}
        self.names = {t.name.lower(): t.name for t in catalog.tables}
        self.links: dict[str, list[tuple[str, str, str]]] = {}  # table -> (col, other, other col)
        for table in catalog.tables:
            for column, referred, referred_column in table.foreign_keys:
                here, there = table.name.lower(), referred.lower()
                self.links.setdefault(here, []).append((column, there, referred_column))
                self.links.setdefault(there, []).append((referred_column, here, column))

    def has(self, table: str, column: str) -> bool:
        return column in self.columns.get(table, set())


def repair_columns(sql: str, catalog: Catalog, dialect: str = "sqlite") -> str | None:
    """The query with misplaced columns repaired, or None when there was nothing to repair
    (or it could not be repaired with certainty).

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> def table(name, *cols, fks=()):
    ...     return TableInfo(name=name, columns=[ColumnInfo(name=c, type="TEXT") for c in cols],
    ...                      foreign_keys=list(fks))
    >>> c = Catalog(tables=[table("people", "pid", "name"),
    ...                     table("player", "pid", "won", fks=[("pid", "people", "pid")])])
    >>> repair_columns("SELECT name FROM player WHERE won > 3", c)
    'SELECT people.name FROM player JOIN people ON player.pid = people.pid WHERE player.won > 3'
    >>> repair_columns("SELECT p.name FROM people AS o JOIN player AS p ON o.pid = p.pid", c)
    'SELECT o.name FROM people AS o JOIN player AS p ON o.pid = p.pid'
    >>> repair_columns("SELECT name FROM people", c) is None
    True
    """
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except (ParseError, TokenError, ValueError):
        return None
    schema = _Schema(catalog)
    changed = False
    for select in list(tree.find_all(exp.Select)):
        changed |= _repair_select(select, schema)
    return tree.sql(dialect=dialect) if changed else None


def _sources(select: exp.Select) -> dict[str, str] | None:
    """Alias (or name) -> table of a SELECT's FROM and joins; None when one is not a table."""
    sources = {}
    from_ = select.args.get("from_")
    joined = [from_.this] if from_ else []
    joined += [j.this for j in select.args.get("joins") or []]
    for source in joined:
        if not isinstance(source, exp.Table) or not source.name:
            return None
        sources[source.alias_or_name.lower()] = source.name.lower()
    return sources


def _own_columns(select: exp.Select) -> list[exp.Column]:
    """Column references that belong to this SELECT, not to a subquery inside it."""
    return [
        c
        for c in select.find_all(exp.Column)
        if c.find_ancestor(exp.Select) is select and c.name and not isinstance(c.this, exp.Star)
    ]


def _repair_select(select: exp.Select, schema: _Schema) -> bool:
    sources = _sources(select)
    if not sources or any(t not in schema.columns for t in sources.values()):
        return False
    outputs = {e.alias.lower() for e in select.expressions if e.alias}
    changed = False
    missing = []
    for column in _own_columns(select):
        name, qualifier = column.name.lower(), column.table.lower()
        if qualifier:
            table = sources.get(qualifier)
            if table is None or schema.has(table, name) or column.find_ancestor(exp.Join):
                continue  # a join key on the wrong table is a wrong join, not a slip
            homes = [a for a, t in sources.items() if schema.has(t, name)]
            if len(homes) == 1:
                column.set("table", exp.to_identifier(homes[0]))
                changed = True
            elif not homes:
                missing.append(column)
        elif name not in outputs and not any(schema.has(t, name) for t in sources.values()):
            missing.append(column)
    if missing:
        changed |= _join_for(select, sources, missing, schema)
    return changed


def _join_for(
    select: exp.Select, sources: dict[str, str], missing: list[exp.Column], schema: _Schema
) -> bool:
    """Join the one table, a foreign key away from a source, that holds every missing column."""
    names = {c.name.lower() for c in missing}
    candidates = {
        (alias, column, other, other_column)
        for alias, table in sources.items()
        for column, other, other_column in schema.links.get(table, [])
        if other not in sources.values() and all(schema.has(other, n) for n in names)
    }
    if len(candidates) != 1:
        return False
    alias, column, other, other_column = candidates.pop()
    moved = {id(c) for c in missing}
    for col in _own_columns(select):
        if id(col) in moved:
            home: str | None = other
        elif col.table:
            continue
        else:
            name = col.name.lower()
            home = next((a for a, t in sources.items() if schema.has(t, name)), None)
            if home is None and schema.has(other, name):
                home = other
        if home is not None:
            col.set("table", exp.to_identifier(home))
    condition = exp.column(column, table=alias).eq(exp.column(other_column, table=other))
    select.join(exp.to_table(schema.names[other]), on=condition, copy=False)
    return True
