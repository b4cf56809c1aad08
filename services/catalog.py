"""What a database holds, described for the model: tables, columns, types, comments, foreign
keys and, for columns with few distinct values, those values (for other undocumented text
columns, two examples that show how values are written: 'Hawaii', not 'HI').

Built from the platform's SQLAlchemy models or reflected from any database (the evaluation runs
on Spider's and defog's), so the SQL agent and schema linking work the same on both.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from pydantic import BaseModel, Field, PrivateAttr
from sqlalchemy import Connection, Engine, MetaData, inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeEngine

from services.key_inference import infer_foreign_keys, names_an_id

log = logging.getLogger(__name__)

_TEXT_TYPE = re.compile(r"char|text|string|clob", re.I)
MAX_SAMPLES = 12  # a column with more distinct values than this gets none listed


class ColumnInfo(BaseModel):
    name: str
    type: str
    comment: str = ""
    values: list[str] = Field(default_factory=list, description="All distinct values, if few.")
    examples: list[str] = Field(
        default_factory=list, description="The two commonest values, when too many to list."
    )

    @property
    def is_text(self) -> bool:
        return bool(_TEXT_TYPE.search(self.type))


class TableInfo(BaseModel):
    name: str
    comment: str = ""
    columns: list[ColumnInfo]
    foreign_keys: list[tuple[str, str, str]] = Field(
        default_factory=list, description="(column, referred table, referred column)"
    )
    internal_columns: list[str] = Field(
        default_factory=list,
        description="Bookkeeping columns the table has but the model is not shown "
        "(declared with `col(internal=True)`).",
    )
    primary_key: list[str] = Field(
        default_factory=list, description="The primary key's columns, as declared."
    )


class Catalog(BaseModel):
    """A catalog is not changed once built (`without` makes another), so what is written
    from it for every question is written once."""

    tables: list[TableInfo]
    _ddl: dict[frozenset[str] | None, str] = PrivateAttr(default_factory=dict)

    def without(self, names: set[str]) -> Catalog:
        return Catalog(tables=[t for t in self.tables if t.name not in names])

    def ordered(self, key: Callable[[str], int]) -> Catalog:
        """The same tables, sorted by `key` of their names; ties keep their order.

        >>> c = Catalog(tables=[TableInfo(name=n, columns=[]) for n in ("log", "a", "b")])
        >>> [t.name for t in c.ordered(lambda name: name == "log").tables]
        ['a', 'b', 'log']
        """
        return Catalog(tables=sorted(self.tables, key=lambda t: key(t.name)))

    def mapping(self) -> dict[str, dict[str, str]]:
        """SQLGlot's schema mapping `{table: {column: type}}`."""
        return {t.name: {c.name: c.type for c in t.columns} for t in self.tables}

    def table(self, name: str) -> TableInfo:
        return next(t for t in self.tables if t.name == name)

    def neighbours(self, names: set[str]) -> set[str]:
        """Tables joined to any of `names` by a foreign key, in either direction."""
        linked = set()
        for table in self.tables:
            for _, referred, _ in table.foreign_keys:
                if table.name in names:
                    linked.add(referred)
                if referred in names:
                    linked.add(table.name)
        return linked - names

    def ddl(self, only: set[str] | None = None) -> str:
        """CREATE TABLE statements with comments and known values, in catalog order (a stable
        order keeps the prompt prefix cacheable).

        >>> c = Catalog(tables=[TableInfo(name="t", comment="Things.", columns=[
        ...     ColumnInfo(name="kind", type="TEXT", comment="Sort.", values=["a", "b"]),
        ...     ColumnInfo(name="state", type="TEXT", examples=["Hawaii", "Ohio"])])])
        >>> print(c.ddl())
        CREATE TABLE t ( -- Things.
          kind TEXT, -- Sort. Values: 'a', 'b'
          state TEXT -- e.g. 'Hawaii', 'Ohio'
        );
        """
        key = None if only is None else frozenset(only)
        if (text := self._ddl.get(key)) is None:
            text = self._ddl[key] = self._write_ddl(only)
        return text

    def _write_ddl(self, only: set[str] | None) -> str:
        blocks = []
        for table in self.tables:
            if only is not None and table.name not in only:
                continue
            head = f"CREATE TABLE {_quote(table.name)} (" + (
                f" -- {table.comment}" if table.comment else ""
            )
            parts = [f"  {_quote(c.name)} {c.type}" for c in table.columns]
            parts += [
                f"  FOREIGN KEY ({_quote(col)}) REFERENCES {_quote(ref)}({_quote(ref_col)})"
                for col, ref, ref_col in table.foreign_keys
                if only is None or ref in only
            ]
            notes = [_note(c) for c in table.columns] + [""] * (len(parts) - len(table.columns))
            lines = []
            for index, (part, note) in enumerate(zip(parts, notes, strict=True)):
                comma = "," if index < len(parts) - 1 else ""
                lines.append(f"{part}{comma}{f' -- {note}' if note else ''}")
            blocks.append("\n".join([head, *lines, ");"]))
        return "\n".join(blocks)


def _note(column: ColumnInfo) -> str:
    parts = [column.comment] if column.comment else []
    if column.values:
        parts.append(f"Values: {_literals(column.values)}")
    elif column.examples:
        parts.append(f"e.g. {_literals(column.examples)}")
    return " ".join(parts)


def _literals(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _quote(name: str) -> str:
    return name if name.replace("_", "").isalnum() and not name[0].isdigit() else f'"{name}"'


def _type_name(column_type: TypeEngine) -> str:
    try:
        return str(column_type.compile()).split("(")[0].upper() or "TEXT"
    except Exception:  # reflected types a dialect cannot render (NullType)
        return "TEXT"


def catalog_from_metadata(metadata: MetaData) -> Catalog:
    """The tables as the models declare them, less their internal columns."""
    tables = []
    for table in metadata.sorted_tables:
        columns = [
            ColumnInfo(name=c.name, type=_type_name(c.type), comment=c.comment or "")
            for c in table.columns
            if not c.info.get("internal")
        ]
        fks = [(fk.parent.name, fk.column.table.name, fk.column.name) for fk in table.foreign_keys]
        tables.append(
            TableInfo(
                name=table.name,
                comment=table.comment or "",
                columns=columns,
                foreign_keys=sorted(fks),
                internal_columns=[c.name for c in table.columns if c.info.get("internal")],
                primary_key=[c.name for c in table.primary_key.columns],
            )
        )
    return Catalog(tables=tables)


def catalog_from_engine(
    engine: Engine,
    *,
    descriptions: dict[str, dict[str, str]] | None = None,
    sample_values: bool = True,
    base: Catalog | None = None,
    volatile: frozenset[str] = frozenset(),
) -> Catalog:
    """Reflect tables, columns and foreign keys; list the values of low-cardinality text columns.

    `descriptions` ({table: {column: text}}) adds comments a database lacks; `base` (for the
    platform's own database) supplies comments and foreign keys that reflection may not see,
    and leaves out its internal columns. Tables in `volatile` get no values listed: their values
    change as the platform runs (the audit log), and a prompt that changes loses its
    processed-prompt cache.
    """
    inspector = inspect(engine)
    descriptions = descriptions or {}
    known = {t.name: t for t in base.tables} if base else {}
    tables = []
    with engine.connect() as conn:
        for name in inspector.get_table_names():
            if name.startswith("sqlite_") or name == "alembic_version":
                continue
            prior = known.get(name)
            prior_cols = {c.name: c for c in prior.columns} if prior else {}
            fks = sorted(
                (c, fk["referred_table"], r)
                for fk in inspector.get_foreign_keys(name)
                for c, r in zip(fk["constrained_columns"], fk["referred_columns"], strict=False)
                if fk.get("referred_table")
            ) or (prior.foreign_keys if prior else [])
            # An identifier's values are arbitrary labels: shown two codes, the model filters
            # on a guessed one ('AD' for Anguilla) instead of on the name the question gives
            primary = inspector.get_pk_constraint(name).get("constrained_columns") or []
            identifiers = {c for c, _, _ in fks} | set(primary)
            columns = []
            hidden = set(prior.internal_columns) if prior else set()
            for col in inspector.get_columns(name):
                if col["name"] in hidden:
                    continue
                type_name = _type_name(col["type"])
                comment = (
                    descriptions.get(name, {}).get(col["name"])
                    or col.get("comment")
                    or (prior_cols[col["name"]].comment if col["name"] in prior_cols else "")
                    or ""
                )
                listable = (
                    sample_values
                    and name not in volatile
                    and type_name in ("TEXT", "VARCHAR", "CHAR", "NVARCHAR", "STRING", "")
                    and "(personal data)" not in comment  # never put personal data in a prompt
                    and "(payment data)" not in comment
                )
                values = _distinct_values(conn, name, col["name"]) if listable else []
                identifier = col["name"] in identifiers or names_an_id(col["name"])
                undocumented = listable and not values and not comment and not identifier
                examples = _common_values(conn, name, col["name"]) if undocumented else []
                columns.append(
                    ColumnInfo(
                        name=col["name"],
                        type=type_name,
                        comment=comment,
                        values=values,
                        examples=examples,
                    )
                )
            tables.append(
                TableInfo(
                    name=name,
                    comment=prior.comment if prior else "",
                    columns=columns,
                    foreign_keys=fks,
                    primary_key=primary or (prior.primary_key if prior else []),
                )
            )
        if not any(t.foreign_keys for t in tables):
            _add_inferred_keys(conn, tables)
    return Catalog(tables=tables)


def _add_inferred_keys(conn: Connection, tables: list[TableInfo]) -> None:
    names = {t.name: [c.name for c in t.columns] for t in tables}
    keys = {t.name: _table_key(conn, t, t.primary_key) for t in tables}
    inferred = infer_foreign_keys(names, keys)
    for table in tables:
        table.foreign_keys = sorted(inferred.get(table.name, []))


def _table_key(conn: Connection, table: TableInfo, primary: list[str]) -> str | None:
    """The column other tables would refer to: the declared single-column primary key, else
    the first column when it is named like an id and its values are unique."""
    if len(primary) == 1:
        return primary[0]
    if not table.columns or not names_an_id(table.columns[0].name):
        return None
    first = table.columns[0].name
    counts = _counts(conn, table.name, first)
    return first if counts and counts[0] and counts[0] == counts[1] else None


def _counts(conn: Connection, table: str, column: str) -> tuple[int, int] | None:
    """(non-null values, distinct values) of a column, or None when it cannot be read."""
    try:
        total, distinct = conn.execute(
            text(f'SELECT COUNT("{column}"), COUNT(DISTINCT "{column}") FROM "{table}"')
        ).one()
    except SQLAlchemyError:
        log.debug("no counts for %s.%s", table, column)
        return None
    return total, distinct


def _distinct_values(conn: Connection, table: str, column: str) -> list[str]:
    """The values of a categorical column: few distinct ones, each repeated (a column of names
    where every row differs is not categorical, and listing it would only cost tokens)."""
    counts = _counts(conn, table, column)
    if counts is None:
        return []
    total, distinct = counts
    if distinct == 0 or distinct > MAX_SAMPLES or total < 2 * distinct:
        return []
    try:
        rows = conn.execute(
            text(f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL')
        ).all()
    except SQLAlchemyError:
        log.debug("no values for %s.%s", table, column)
        return []
    values = [str(r[0]) for r in rows]
    return [] if any(len(v) > 40 for v in values) else sorted(values)


def _common_values(conn: Connection, table: str, column: str, k: int = 2) -> list[str]:
    """A column's commonest short values, to show the model how its values are written."""
    try:
        rows = conn.execute(
            text(
                f'SELECT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL '
                f'AND LENGTH("{column}") BETWEEN 1 AND 40 GROUP BY "{column}" '
                f'ORDER BY COUNT(*) DESC, "{column}" LIMIT {k}'
            )
        ).all()
    except SQLAlchemyError:
        log.debug("no examples for %s.%s", table, column)
        return []
    return [str(r[0]) for r in rows]
