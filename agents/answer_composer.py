"""One sentence that states the query result.

Where the model would add nothing but words around the values (one value, or a short list of
one column's values) the sentence is written from a template, which saves a model call of a
second or more. Otherwise the model phrases it, but a sentence that drops or changes a value
of a one-row result is not trusted: the deterministic summary is used instead, so a number is
never invented.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from agents import prompts
from sql_guard.runner import QueryResult

log = logging.getLogger(__name__)
SHOWN_ROWS = 10


def format_value(value: Any) -> str:
    """
    >>> format_value(1234.5), format_value(3.0), format_value(None)
    ('1,234.50', '3', 'none')
    """
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


_NAMED = re.compile(r"[A-Za-z][A-Za-z0-9_ ]*")


def templated(result: QueryResult) -> str | None:
    """The sentence for one column of at most `SHOWN_ROWS` values, named by the column when its
    name reads as words; None for any other shape.

    >>> from sql_guard.runner import Column
    >>> def result(name, *values):
    ...     column = Column(name=name, type="text")
    ...     return QueryResult(columns=[column], rows=[[v] for v in values], truncated=False,
    ...                        elapsed_ms=1.0)
    >>> templated(result("open_orders", 12))
    'Open orders: 12.'
    >>> templated(result("COUNT(*)", 3.5))
    'The answer is 3.50.'
    >>> templated(result("symbol", "AAPL", "MSFT"))
    'Symbol: AAPL, MSFT.'
    """
    if len(result.columns) != 1 or not result.rows or len(result.rows) > SHOWN_ROWS:
        return None
    values = ", ".join(format_value(row[0]) for row in result.rows)
    more = " (and more)" if result.truncated else ""
    name = result.columns[0].name
    if not _NAMED.fullmatch(name):
        return f"The answer is {values}{more}."
    return f"{name.replace('_', ' ').strip().capitalize()}: {values}{more}."


def plain_summary(result: QueryResult) -> str:
    if not result.rows:
        return "I found no matching records."
    sentence = templated(result)
    if sentence:
        return sentence
    if len(result.rows) == 1:
        pairs = ", ".join(
            f"{c.name.replace('_', ' ')}: {format_value(v)}"
            for c, v in zip(result.columns, result.rows[0], strict=True)
        )
        return f"Here is the result: {pairs}."
    more = " (more exist; showing the first ones)" if result.truncated else ""
    return f"I found {len(result.rows)} matching rows{more}."


def faithful(sentence: str, result: QueryResult) -> bool:
    """Every value of a single-row result must appear in the sentence as written."""
    if len(result.rows) != 1:
        return bool(sentence)
    for value in result.rows[0]:
        if value is None:
            continue
        spellings = {format_value(value), str(value), format_value(value).replace(",", "")}
        if isinstance(value, float):
            spellings |= {f"{value:.2f}", f"{value:,.2f}", f"{value:g}"}
        if not any(s in sentence for s in spellings):
            return False
    return True


async def compose_answer(llm: BaseChatModel, question: str, result: QueryResult) -> str:
    if not result.rows or len(result.rows) > SHOWN_ROWS:
        return plain_summary(result)
    sentence = templated(result)
    if sentence:
        return sentence
    rows = [[format_value(v) for v in row] for row in result.rows]
    user = prompts.ANSWER_USER.format(
        question=question,
        columns=[c.name for c in result.columns],
        rows=rows,
        more=" (more rows exist)" if result.truncated else "",
    )
    try:
        reply = await llm.ainvoke(
            [SystemMessage(prompts.ANSWER_SYSTEM), HumanMessage(user)], max_tokens=80
        )
        text = str(reply.content).strip()
    except Exception:  # the sentence is a nicety: any provider failure falls back
        log.exception("answer composition failed; using the plain summary")
        return plain_summary(result)
    sentence = text.splitlines()[0].strip().strip('"') if text else ""
    if sentence and faithful(sentence, result):
        return sentence
    log.info("composed sentence %r not faithful to the result; using the plain summary", sentence)
    return plain_summary(result)
