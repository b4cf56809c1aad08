"""Aggregate questions as a choice of names: measures, groups, a time grain and filters.

A small model writes GROUP BY and date arithmetic badly and picks names well. For a question
about a figure ("fees charged per month this year"), it fills a `MetricQuery` through a JSON
schema and this module writes the SQL: the measure names stay names (the guard expands them
from the semantic model like any other query's), the period is the dialect's own formatting
of the date, and every column and value goes in as an identifier or a literal, never as text
spliced into SQL.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlglot import exp

from services.semantic.model import SemanticModel

PERIODS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


class Condition(BaseModel):
    column: str = Field(description="A column of the rows read.")
    op: Literal["=", "!=", ">", ">=", "<", "<="]
    value: str | float = Field(description="A value, or a date 'YYYY-MM-DD'.")


class MetricQuery(BaseModel):
    measures: list[str] = Field(min_length=1, description="Measure names, of one cube.")
    rows: str | None = Field(
        None, description="A row set or table of that cube to read (default: all its rows)."
    )
    group_by: list[str] = Field(default_factory=list, description="Columns to group by.")
    time_column: str | None = Field(None, description="The date column to group by period.")
    grain: Literal["day", "month", "year"] | None = None
    filters: list[Condition] = Field(default_factory=list)
    order: Literal["largest_first", "smallest_first", "by_group"] | None = None
    limit: int | None = Field(None, ge=1, le=1000)


class MetricQueryError(ValueError):
    """The query names what the semantic model does not have; the message says what."""


def _operator(condition: Condition) -> exp.Expression:
    column = exp.column(condition.column)
    value = (
        exp.Literal.string(condition.value)
        if isinstance(condition.value, str)
        else exp.Literal.number(condition.value)
    )
    kinds = {"=": exp.EQ, "!=": exp.NEQ, ">": exp.GT, ">=": exp.GTE, "<": exp.LT, "<=": exp.LTE}
    return kinds[condition.op](this=column, expression=value)


def compile_metric_query(query: MetricQuery, model: SemanticModel, dialect: str) -> str:
    """The SQL a metric query stands for, in the semantic model's names.

    >>> from services.semantic.loader import load_semantic_model
    >>> q = MetricQuery(measures=["fees_charged"], time_column="executed_at", grain="month",
    ...     filters=[Condition(column="executed_at", op=">=", value="2026-01-01")])
    >>> compile_metric_query(q, load_semantic_model(), "sqlite")  # doctest: +NORMALIZE_WHITESPACE
    "SELECT STRFTIME('%Y-%m', executed_at) AS month, fees_charged FROM transactions
    WHERE executed_at >= '2026-01-01' GROUP BY STRFTIME('%Y-%m', executed_at) ORDER BY month"
    """
    measures = model.measures()
    unknown = [m for m in query.measures if m.lower() not in measures]
    if unknown:
        raise MetricQueryError(f"no measure {', '.join(unknown)} in the semantic model")
    cubes = {measures[m.lower()][0].name for m in query.measures}
    if len(cubes) != 1:
        raise MetricQueryError(f"the measures belong to several cubes: {', '.join(sorted(cubes))}")
    cube = model.cube(cubes.pop())
    assert cube is not None
    source = query.rows or (cube.sql_table or cube.name)
    if model.cube_of(source) is not cube:
        raise MetricQueryError(f"{source} holds no rows of {cube.name}")
    keys: list[exp.Expression] = []
    shown: list[exp.Expression] = []
    if query.grain and query.time_column:
        period = exp.TimeToStr(
            this=exp.column(query.time_column), format=exp.Literal.string(PERIODS[query.grain])
        )
        keys.append(period)
        shown.append(exp.alias_(period.copy(), query.grain))
    for name in query.group_by:
        keys.append(exp.column(name))
        shown.append(exp.column(name))
    select = exp.select(*shown, *(exp.column(m) for m in query.measures)).from_(source)
    for condition in query.filters:
        select = select.where(_operator(condition))
    if keys:
        select = select.group_by(*(k.copy() for k in keys))
    first = exp.column(query.measures[0])
    if query.order == "largest_first":
        select = select.order_by(exp.Ordered(this=first, desc=True))
    elif query.order == "smallest_first":
        select = select.order_by(first)
    elif keys:  # by period (or group), oldest first
        select = select.order_by(exp.column(query.grain) if query.grain else keys[0].copy())
    if query.limit:
        select = select.limit(query.limit)
    return select.sql(dialect=dialect)
