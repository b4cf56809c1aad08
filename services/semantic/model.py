"""What the business's words mean over a database, as the operator declares it.

The file has the shape of Cube's data model (`cubes:` with `sql_table` or `sql`, `measures`,
`dimensions`, `segments`, `{CUBE}` standing for the cube's own rows), which operators already
write, plus two sections Cube has no place for: `conventions` (how the data is stored: signed
amounts, the time format and zone, what "today" is) and `instructions` (advice the SQL agent
gets when a question resembles one of their `when` phrases, matched by meaning).

Names the SQL agent may use as if they were tables ("row sets"): every segment (`open_orders`:
the orders whose status says they still work) and every cube defined by a query (`holdings`:
positions beside their latest close). Measures may be used as columns of their cube's rows
(`SELECT fees_charged FROM transactions`). `services.semantic.expand` turns both back into
plain SQL over base tables before the guard sees the query.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CUBE = "{CUBE}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Meta(_Strict):
    synonyms: list[str] = Field(
        default_factory=list, description="Other words for it, in any language customers use."
    )


class Filter(_Strict):
    sql: str = Field(description="A condition on the cube's rows, `{CUBE}` standing for them.")


class Measure(_Strict):
    """An aggregate of the cube's rows (Cube's measure): `type` says which, `sql` over what,
    `filters` which rows count."""

    name: str
    type: Literal["count", "count_distinct", "sum", "avg", "min", "max", "number"]
    sql: str | None = Field(None, description="What is aggregated; for `number` the aggregate.")
    filters: list[Filter] = Field(default_factory=list)
    description: str = ""
    title: str = ""
    meta: Meta = Field(default_factory=Meta)

    @model_validator(mode="after")
    def _has_sql(self) -> Measure:
        if self.sql is None and self.type not in ("count",):
            raise ValueError(f"measure {self.name} of type {self.type} needs `sql`")
        return self


class Dimension(_Strict):
    name: str
    sql: str
    type: Literal["string", "number", "time", "boolean"] = "string"
    description: str = ""
    title: str = ""
    meta: Meta = Field(default_factory=Meta)


class Segment(_Strict):
    """A named subset of the cube's rows (Cube's segment), usable as a table name."""

    name: str
    sql: str
    description: str = ""
    title: str = ""
    meta: Meta = Field(default_factory=Meta)


class Cube(_Strict):
    name: str
    sql_table: str | None = Field(None, description="The table whose rows the cube describes.")
    sql: str | None = Field(None, description="Or a SELECT whose rows it describes.")
    description: str = ""
    title: str = ""
    public: bool = True
    measures: list[Measure] = Field(default_factory=list)
    dimensions: list[Dimension] = Field(default_factory=list)
    segments: list[Segment] = Field(default_factory=list)
    meta: Meta = Field(default_factory=Meta)

    @model_validator(mode="after")
    def _one_source(self) -> Cube:
        if (self.sql_table is None) == (self.sql is None):
            raise ValueError(f"cube {self.name} needs exactly one of `sql_table` and `sql`")
        return self


class Convention(_Strict):
    name: str
    text: str = Field(description="Told to the model as it is; `{today}` is today's date.")


class Instruction(_Strict):
    name: str
    when: list[str] = Field(min_length=1, description="Questions it applies to, as examples.")
    text: str


class ToolFigure(_Strict):
    """A figure no single query computes exactly (realised P&L by FIFO lots, buying power net
    of working orders): a question about it is answered by the read tool that computes it, not
    by SQL. A platform addition to Cube's shape."""

    name: str
    tool: str = Field(description="The read tool (in tools/) that computes it.")
    description: str
    title: str = ""
    meta: Meta = Field(default_factory=Meta)


class SemanticModel(_Strict):
    cubes: list[Cube] = Field(default_factory=list)
    tool_figures: list[ToolFigure] = Field(default_factory=list)
    conventions: list[Convention] = Field(default_factory=list)
    instructions: list[Instruction] = Field(default_factory=list)
    source: Path | None = Field(None, description="The file it was read from.")
    lines: dict[str, int] = Field(
        default_factory=dict, description="Dotted path (cubes.0.segments.1) -> line in the file."
    )

    @model_validator(mode="after")
    def _unique_names(self) -> SemanticModel:
        """Table-like names and measures share one namespace; the error starts with the path
        of the second use (`cubes.1.measures.0: ...`), which the loader turns into a line."""
        seen: dict[str, str] = {}

        def add(name: str, kind: str, path: str) -> None:
            key = name.lower()
            if key in seen:
                raise ValueError(f"{path}: {kind} {name} has the name of a {seen[key]} already")
            seen[key] = kind

        for i, cube in enumerate(self.cubes):
            named = [(cube.name, "cube", f"cubes.{i}")]
            named += [
                (s.name, "segment", f"cubes.{i}.segments.{j}") for j, s in enumerate(cube.segments)
            ]
            named += [
                (m.name, "measure", f"cubes.{i}.measures.{j}") for j, m in enumerate(cube.measures)
            ]
            for name, kind, path in named:
                add(name, kind, path)
        for i, figure in enumerate(self.tool_figures):
            add(figure.name, "tool figure", f"tool_figures.{i}")
        return self

    def line(self, path: str) -> int | None:
        """The line of the file where the part at `path` starts (None when unknown)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path.rpartition(".")[0]
        return None

    # -- what the SQL agent may name ----------------------------------------------------------
    def row_sets(self) -> dict[str, tuple[Cube, Segment | None]]:
        """Names usable as tables (lower-cased): segments, and cubes defined by a query."""
        found: dict[str, tuple[Cube, Segment | None]] = {}
        for cube in self.cubes:
            if cube.sql is not None:
                found[cube.name.lower()] = (cube, None)
            for segment in cube.segments:
                found[segment.name.lower()] = (cube, segment)
        return found

    def measures(self) -> dict[str, tuple[Cube, Measure]]:
        return {m.name.lower(): (c, m) for c in self.cubes for m in c.measures}

    def cube(self, name: str) -> Cube | None:
        return next((c for c in self.cubes if c.name.lower() == name.lower()), None)

    def cube_of(self, source: str) -> Cube | None:
        """The cube whose rows a table name reads: its own table, a segment of it, or itself."""
        key = source.lower()
        if key in (rows := self.row_sets()):
            return rows[key][0]
        return next(
            (c for c in self.cubes if c.sql_table and c.sql_table.lower() == key),
            None,
        )
