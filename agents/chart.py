"""A chart suggestion for results that read better as a picture than as a table."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from sql_guard.runner import QueryResult


class ChartSpec(BaseModel):
    kind: Literal["bar", "line"]
    x: str
    y: list[str]


def suggest_chart(result: QueryResult) -> ChartSpec | None:
    """A line over time or bars over categories, when there is one label column, at least one
    number column, and between 2 and 60 rows; otherwise nothing.

    >>> from sql_guard.runner import Column
    >>> r = QueryResult(columns=[Column(name="month", type="text"),
    ...                          Column(name="orders", type="number")],
    ...                 rows=[["2026-01", 3], ["2026-02", 5]], truncated=False, elapsed_ms=1)
    >>> suggest_chart(r)
    ChartSpec(kind='line', x='month', y=['orders'])
    """
    if not 2 <= len(result.rows) <= 60 or len(result.columns) < 2:
        return None
    label, *values = result.columns
    numbers = [c.name for c in values if c.type == "number"]
    if label.type == "number" or not numbers or len(numbers) != len(values):
        return None
    over_time = label.type in ("date", "datetime") or any(
        word in label.name.lower() for word in ("date", "day", "month", "year", "week", "time")
    )
    return ChartSpec(kind="line" if over_time else "bar", x=label.name, y=numbers)
