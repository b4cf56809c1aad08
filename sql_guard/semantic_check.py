"""A semantic model checked against the database it describes, before anything uses it.

A definition that names a column the table lacks, or a value no row holds (`status =
'partialy_filled'`), would not fail: it would quietly answer every question about open orders
with the wrong rows. So each cube's table must exist, each expression must parse and name only
its cube's columns, each text value it compares a column with must be held by a row (or be
listed in the catalog, or named in the column's comment), no row set or measure may take the
name of a table or of its cube's column (which the query could then no longer reach), and
every row set and measure, expanded, must pass the guard. Every problem names the line of the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator

import sqlglot
from pydantic import BaseModel
from sqlglot import exp
from sqlglot.errors import SqlglotError

from services.catalog import Catalog
from services.identity import Caller, Role
from services.semantic.loader import SemanticModelError
from services.semantic.model import CUBE, Cube, SemanticModel
from sql_guard.guard import check
from sql_guard.policy import Policy
from sql_guard.runner import QueryError, ReplicaRunner

Holds = Callable[[str, str, str], bool | None]  # (table, column, value) -> held? None: unknown


class SemanticProblem(BaseModel):
    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


def held_by(runner: ReplicaRunner, dialect: str) -> Holds:
    """Whether a row of `table` holds `value` in `column`; None when the table has no rows
    yet (a fresh database cannot say a value is wrong) or cannot be read."""

    def holds(table: str, column: str, value: str) -> bool | None:
        literal = exp.Literal.string(value)
        probe = exp.select("1").from_(table).where(exp.column(column).eq(literal)).limit(1)
        try:
            if runner.run(probe.sql(dialect)).rows:
                return True
        except QueryError:
            return None
        return False if _any_row(runner, table, dialect) else None

    return holds


def _any_row(runner: ReplicaRunner, table: str, dialect: str) -> bool:
    try:
        return bool(runner.run(exp.select("1").from_(table).limit(1).sql(dialect)).rows)
    except QueryError:
        return False


def _expressions(model: SemanticModel) -> Iterator[tuple[str, Cube, str, bool]]:
    """(path, cube, SQL, whether it is a condition) of every expression in the model."""
    for i, cube in enumerate(model.cubes):
        for j, segment in enumerate(cube.segments):
            yield f"cubes.{i}.segments.{j}.sql", cube, segment.sql, True
        for j, measure in enumerate(cube.measures):
            if measure.sql:
                yield f"cubes.{i}.measures.{j}.sql", cube, measure.sql, False
            for k, condition in enumerate(measure.filters):
                yield f"cubes.{i}.measures.{j}.filters.{k}.sql", cube, condition.sql, True
        for j, dimension in enumerate(cube.dimensions):
            yield f"cubes.{i}.dimensions.{j}.sql", cube, dimension.sql, False


def _columns_of(cube: Cube, catalog: Catalog, dialect: str) -> set[str] | None:
    """The columns a cube's rows have: its table's, or its query's result columns."""
    if cube.sql_table is not None:
        tables = {t.name.lower(): t for t in catalog.tables}
        table = tables.get(cube.sql_table.lower())
        return {c.name.lower() for c in table.columns} if table else None
    try:
        query = sqlglot.parse_one(cube.sql or "", read=dialect)
    except SqlglotError:
        return None
    if not isinstance(query, exp.Select) or query.is_star:
        return None
    return {p.alias_or_name.lower() for p in query.expressions}


def check_semantic_model(
    model: SemanticModel,
    catalog: Catalog,
    policy: Policy,
    dialect: str = "sqlite",
    holds: Holds | None = None,
    read_tools: Collection[str] | None = None,
) -> list[SemanticProblem]:
    """Every problem of `model` over the database `catalog` describes; empty when none.
    `holds` asks the database whether a value is held (without it only the catalog's listed
    values are known); `read_tools` names the registry's read tools, which the tool figures
    must name (None: not checked)."""
    problems: list[SemanticProblem] = []

    def problem(path: str, message: str) -> None:
        problems.append(SemanticProblem(path=path, line=model.line(path), message=message))

    for i, figure in enumerate(model.tool_figures):
        if read_tools is not None and figure.tool not in read_tools:
            problem(
                f"tool_figures.{i}.tool",
                f"tool figure {figure.name}: {figure.tool} is not a read tool "
                f"(read tools: {', '.join(sorted(read_tools))})",
            )

    tables = {t.name.lower(): t for t in catalog.tables}
    for i, cube in enumerate(model.cubes):
        if cube.sql_table is not None and cube.sql_table.lower() not in tables:
            problem(f"cubes.{i}.sql_table", f"cube {cube.name}: no table {cube.sql_table}")
        names = [(f"cubes.{i}.segments.{j}", s.name) for j, s in enumerate(cube.segments)]
        if cube.sql is not None:
            names.append((f"cubes.{i}", cube.name))
        for path, name in names:
            if name.lower() in tables:
                problem(path, f"{name} is the name of a table; a row set may not hide it")
        own = _columns_of(cube, catalog, dialect) or set()
        for j, measure in enumerate(cube.measures):
            if measure.name.lower() in own:
                problem(
                    f"cubes.{i}.measures.{j}",
                    f"measure {measure.name} is the name of a column of {cube.name}",
                )
    for path, cube, sql, condition in _expressions(model):
        problems_before = len(problems)
        try:
            tree = sqlglot.parse_one(sql.replace(CUBE, cube.name), read=dialect)
        except SqlglotError as exc:
            problem(path, f"cube {cube.name}: cannot parse {sql!r}: {str(exc).splitlines()[0]}")
            continue
        columns = _columns_of(cube, catalog, dialect)
        for column in tree.find_all(exp.Column):
            if column.table and column.table.lower() != cube.name.lower():
                problem(path, f"cube {cube.name}: {column.sql()} is not a column of the cube")
            elif columns is not None and column.name.lower() not in columns:
                problem(path, f"cube {cube.name}: no column {column.name}")
        if condition and len(problems) == problems_before and cube.sql_table:
            problems += _unheld(model, path, cube, tree, catalog, holds)
    if not problems:
        problems += _refused(model, policy, dialect)
    return problems


def _unheld(
    model: SemanticModel,
    path: str,
    cube: Cube,
    tree: exp.Expression,
    catalog: Catalog,
    holds: Holds | None,
) -> list[SemanticProblem]:
    table = next(t for t in catalog.tables if t.name.lower() == (cube.sql_table or "").lower())
    found = []
    for condition in tree.find_all(exp.EQ, exp.In, exp.NEQ):
        column = condition.this
        if not isinstance(column, exp.Column):
            continue
        info = next((c for c in table.columns if c.name.lower() == column.name.lower()), None)
        sides = condition.expressions if isinstance(condition, exp.In) else [condition.expression]
        for side in sides:
            if not (isinstance(side, exp.Literal) and side.is_string) or info is None:
                continue
            value = side.this
            if value in info.values or _documented(value, info.comment):
                continue
            if holds is not None:
                held = holds(table.name, info.name, value)
            else:  # the catalog lists the values of few-valued columns only
                held = False if info.values else None
            if held is False:
                listed = f" (its values: {', '.join(info.values)})" if info.values else ""
                found.append(
                    SemanticProblem(
                        path=path,
                        line=model.line(path),
                        message=f"cube {cube.name}: no row of {table.name}.{info.name} holds "
                        f"'{value}'{listed}",
                    )
                )
    return found


def _documented(value: str, comment: str) -> bool:
    """Whether the column's comment names the value among the ones it may hold: a status no
    row has reached yet ('past_due' in a young database) is still a real one.

    >>> _documented("past_due", "trialing, active, past_due or cancelled.")
    True
    >>> _documented("due", "past_due")
    False
    """
    return re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", comment) is not None


def _refused(model: SemanticModel, policy: Policy, dialect: str) -> list[SemanticProblem]:
    """Each row set and measure, expanded, put to the guard as an administrator's query."""
    admin = Caller(role=Role.ADMIN)
    found = []
    for i, cube in enumerate(model.cubes):
        uses = [
            (f"cubes.{i}.segments.{j}", f"SELECT * FROM {s.name}")
            for j, s in enumerate(cube.segments)
        ]
        source = cube.name if cube.sql is not None else cube.sql_table
        if cube.sql is not None:
            uses.append((f"cubes.{i}", f"SELECT * FROM {cube.name}"))
        uses += [
            (f"cubes.{i}.measures.{j}", f"SELECT {m.name} FROM {source}")
            for j, m in enumerate(cube.measures)
        ]
        for path, sql in uses:
            verdict = check(sql, policy=policy, caller=admin, dialect=dialect, semantic=model)
            if not verdict.allowed:
                found.append(
                    SemanticProblem(
                        path=path,
                        line=model.line(path),
                        message=f"{sql!r} is refused by the guard: {verdict.explain()}",
                    )
                )
    return found


def require_sound(
    model: SemanticModel,
    catalog: Catalog,
    policy: Policy,
    runner: ReplicaRunner,
    dialect: str,
    read_tools: Collection[str] | None = None,
) -> None:
    """Raise `SemanticModelError`, naming the file and the line of the first problem, unless
    `model` is sound over the database: the platform then stops at start rather than answer
    with a wrong definition."""
    problems = check_semantic_model(
        model, catalog, policy, dialect, held_by(runner, dialect), read_tools
    )
    if problems:
        first, more = problems[0], len(problems) - 1
        also = f" (and {more} more: see `trading-assist semantic check`)" if more else ""
        raise SemanticModelError(model.source, first.line, first.message + also)
