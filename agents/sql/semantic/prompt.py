"""The semantic model told to the SQL model: compact, and the same for every question.

One line per row set and measure (its name, where its rows come from, what it means) and one
per convention. It sits in the system message after the schema, so llama.cpp keeps it
processed with the rest of the prefix. Their synonyms are not listed: a question that uses one
gets the definition it names beside it (`mention_notes`), and listed for every question they
were a tenth of the prompt the model reads before each answer.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from services.semantic.expand import measure_sql, row_set_sql
from services.semantic.mentions import Mention
from services.semantic.model import Cube, SemanticModel


def _columns(cube: Cube) -> str:
    """A cube defined by a query shows its result columns; one on a table is that table."""
    if cube.sql_table is not None:
        return cube.sql_table
    return _query_columns(cube.sql or "")


@lru_cache(maxsize=256)
def _query_columns(sql: str) -> str:
    """The notes are written for every question: each cube's query is parsed once, not per
    turn (parsing them was a fifth of a chat turn's CPU, `bench api`)."""
    try:
        query = sqlglot.parse_one(sql)
    except SqlglotError:
        return "a query"
    names = [p.alias_or_name for p in query.expressions] if isinstance(query, exp.Select) else []
    return f"columns {', '.join(names)}"


def semantic_notes(model: SemanticModel, today: date) -> str:
    """The model's row sets, measures and conventions as prompt lines.

    >>> from services.semantic.loader import load_semantic_model
    >>> notes = semantic_notes(load_semantic_model(), date(2028, 2, 29))
    >>> print(notes.splitlines()[1][:78])
    - customers (rows of users): The users who trade with us; staff (support and a
    >>> "Today is 2028-02-29 (UTC)." in notes
    True
    """
    lines = ["Named row sets; use each as a table (FROM open_orders):"]
    for cube in model.cubes:
        if cube.sql is not None:
            lines.append(f"- {cube.name} ({_columns(cube)}): {cube.description}")
        for segment in cube.segments:
            lines.append(f"- {segment.name} (rows of {_columns(cube)}): {segment.description}")
    lines.append("Measures; use each as a column of its table or row sets (SELECT fees_charged):")
    for cube in model.cubes:
        for measure in cube.measures:
            lines.append(f"- {measure.name} (of {cube.name}): {measure.description}")
    if model.conventions:
        lines.append("Conventions:")
        lines += [f"- {c.text.replace('{today}', today.isoformat())}" for c in model.conventions]
    return "\n".join(lines)


def _defined(mention: Mention, dialect: str) -> str:
    cube = mention.cube
    if mention.measure is not None:
        source = cube.sql_table or cube.name
        aggregate = measure_sql(mention.measure, source, dialect).sql(dialect=dialect)
        return f"SELECT {mention.name} FROM {source}, that is {aggregate}"
    if mention.segment is not None:
        rows = row_set_sql(cube, mention.segment, dialect).sql(dialect=dialect)
        return f"FROM {mention.name}, that is {rows}"
    return f"FROM {mention.name} ({_columns(cube)}): {cube.description}"


def mention_notes(mentions: list[Mention], dialect: str) -> str:
    """The row sets and measures a question names, each with the SQL it stands for, to stand
    beside the question. Listed only in the system message, the embedded model passed them by
    ("customers" became `FROM users`, "fees as a positive number" `SUM(amount)`).

    >>> from services.semantic.loader import load_semantic_model
    >>> from services.semantic.mentions import MentionFinder
    >>> found = MentionFinder(load_semantic_model()).find("fees charged to our clients")
    >>> print(mention_notes(found, "sqlite"))  # doctest: +NORMALIZE_WHITESPACE
    - fees_charged: SELECT fees_charged FROM transactions, that is SUM(CASE WHEN
      transactions.type = 'fee' THEN -transactions.amount END)
    - customers: FROM customers, that is SELECT * FROM users AS users WHERE users.role =
      'customer'
    """
    return "\n".join(f"- {m.name}: {_defined(m, dialect)}" for m in mentions)
