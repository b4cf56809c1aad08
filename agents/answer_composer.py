"""One sentence that states the query result.

Where the model would add nothing but words around the values (one row, or a short list of
one or two columns) the sentence is written from a template, which saves a model call of 4 to
16 seconds on two cores: the embedded model restated such lists row by row. Otherwise (a few
rows of three columns or more) the model phrases it, but a sentence stating a number that is
neither in the result, nor in the question, nor the row count is not trusted: the
deterministic summary is used instead, so a number is never invented.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from agents import prompts
from agents.rag.citation_check import numbers  # the figures a text states, read one way
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


def _label(name: str) -> str | None:
    """A column name as words, or None when it does not read as words (`COUNT(*)`)."""
    return name.replace("_", " ").strip() if _NAMED.fullmatch(name) else None


def _capitalised(text: str) -> str:
    return f"{text[0].upper()}{text[1:]}"


def templated(result: QueryResult) -> str | None:
    """The sentence for one row, or for at most `SHOWN_ROWS` rows of one or two columns (a
    list, or a list of labelled values), each value named by its column when the name reads
    as words; None for any other shape.

    >>> from sql_guard.runner import Column
    >>> def result(names, *rows):
    ...     columns = [Column(name=name, type="text") for name in names.split()]
    ...     return QueryResult(columns=columns, rows=[list(r) for r in rows], truncated=False,
    ...                        elapsed_ms=1.0)
    >>> templated(result("open_orders", [12]))
    'Open orders: 12.'
    >>> templated(result("COUNT(*)", [3.5]))
    'The answer is 3.50.'
    >>> templated(result("symbol", ["AAPL"], ["MSFT"]))
    'Symbol: AAPL, MSFT.'
    >>> templated(result("buy_orders SUM(amount)", [3, 1234.5]))
    'Buy orders: 3; SUM(amount): 1,234.50.'
    >>> templated(result("symbol filled_orders", ["NVDA", 1215], ["IBM", 1090]))
    'Symbol and filled orders: NVDA 1,215; IBM 1,090.'
    >>> templated(result("a b c", [1, 2, 3], [4, 5, 6])) is None
    True
    """
    rows, columns = result.rows, result.columns
    if not rows or len(rows) > SHOWN_ROWS:
        return None
    more = " (and more)" if result.truncated else ""
    labels = [_label(c.name) or c.name for c in columns]
    if len(rows) == 1 and len(columns) > 1:
        pairs = [f"{label}: {format_value(v)}" for label, v in zip(labels, rows[0], strict=True)]
        return f"{_capitalised('; '.join(pairs))}."
    if len(columns) == 2:
        listed = "; ".join(f"{format_value(a)} {format_value(b)}" for a, b in rows)
        return f"{_capitalised(' and '.join(labels))}: {listed}{more}."
    if len(columns) != 1:
        return None
    values = ", ".join(format_value(row[0]) for row in rows)
    if _label(columns[0].name) is None:
        return f"The answer is {values}{more}."
    return f"{_capitalised(labels[0])}: {values}{more}."


def plain_summary(result: QueryResult) -> str:
    if not result.rows:
        return "I found no matching records."
    sentence = templated(result)
    if sentence:
        return sentence
    more = " (more exist; showing the first ones)" if result.truncated else ""
    return f"I found {len(result.rows)} matching rows{more}."


def faithful(sentence: str, result: QueryResult, question: str = "") -> bool:
    """Every number the sentence states is a value of the result (as given or rounded to two
    decimals, its sign aside, also one inside a text value such as a date), the row count or a
    number of the question ("within 90 days").

    >>> from sql_guard.runner import Column
    >>> rows = QueryResult(columns=[Column(name="symbol", type="text"),
    ...     Column(name="spent", type="real")], rows=[["AAPL", -1204.0], ["MSFT", 9.126]],
    ...     truncated=False, elapsed_ms=1.0)
    >>> faithful("In 30 days the 2 symbols: AAPL ($-1,204) and MSFT (9.13).", rows, "30 days?")
    True
    >>> faithful("AAPL leads with 1,240.", rows)
    False
    """
    if not sentence:
        return False
    held = numbers(f"{len(result.rows)} {question}")
    for row in result.rows:
        for value in row:
            if isinstance(value, int | float) and not isinstance(value, bool):
                held |= numbers(f"{abs(value)} {abs(value):.2f}")
            elif value is not None:
                held |= numbers(str(value))
    return numbers(sentence) <= held


async def compose_answer(llm: BaseChatModel, question: str, result: QueryResult) -> str:
    if not result.rows or len(result.rows) > SHOWN_ROWS or templated(result):
        return plain_summary(result)
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
    if sentence and faithful(sentence, result, question):
        return sentence
    log.info("composed sentence %r not faithful to the result; using the plain summary", sentence)
    return plain_summary(result)
