"""Follow-up questions ("and last month?") made to stand on their own.

A follow-up only makes sense beside the turn before it. Rather than spend a model call on
rewriting it, the previous question (and the SQL that answered it, when there was one) is put in
front of it: the router then labels the pair, and the SQL agent sees what "it" and "that" refer
to and can adjust the earlier query.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

FOLLOW_UP = re.compile(
    r"^\s*(and|but|also|or|what about|how about|same|now|then|only|just|instead|"
    r"and what about|what if)\b|^\s*(by|per|for|in|over|during|since|before|after)\b|"
    r"\b(those|these|that one|them|it|its|the same)\b",
    re.I,
)
MAX_FOLLOW_UP_WORDS = 8  # a longer question usually says everything it needs


class Turn(BaseModel):
    """One answered question of a conversation, as kept by the checkpointer."""

    question: str
    route: str
    answer: str
    sql: str | None = Field(
        None, description="The SQL the model wrote, before the guard scoped it."
    )


def is_follow_up(question: str) -> bool:
    """
    >>> is_follow_up("and last month?"), is_follow_up("What about ETH?")
    (True, True)
    >>> is_follow_up("How many open orders do I have?")
    False
    """
    return len(question.split()) <= MAX_FOLLOW_UP_WORDS and bool(FOLLOW_UP.search(question))


def standalone(question: str, history: list[Turn]) -> str:
    """The question with the turn it follows up on in front of it, or unchanged.

    >>> earlier = Turn(question="How many orders did I place this month?", route="sql",
    ...                answer="12", sql="SELECT COUNT(*) FROM orders")
    >>> print(standalone("and last month?", [earlier]))
    Earlier question: How many orders did I place this month?
    Earlier SQL: SELECT COUNT(*) FROM orders
    Follow-up question: and last month?
    >>> standalone("What is my balance?", [earlier])
    'What is my balance?'
    """
    if not history or not is_follow_up(question):
        return question
    last = history[-1]
    lines = [f"Earlier question: {last.question}"]
    if last.sql:
        lines.append(f"Earlier SQL: {last.sql}")
    lines.append(f"Follow-up question: {question}")
    return "\n".join(lines)
