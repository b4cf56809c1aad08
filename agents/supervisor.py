"""Decides which agent handles a request. For now: data questions go to the SQL agent and
greetings or requests for help get a direct answer; no model call is spent on the decision."""

from __future__ import annotations

import re
from typing import Literal

Route = Literal["sql", "general"]

SMALL_TALK = re.compile(
    r"^\s*(hi|hello|hey|thanks|thank you|good (morning|afternoon|evening)|help|"
    r"what can you do|who are you)\b[\s!?.]*$",
    re.I,
)


def choose_route(question: str) -> Route:
    """
    >>> choose_route("hello!"), choose_route("How many open orders do I have?")
    ('general', 'sql')
    """
    return "general" if SMALL_TALK.match(question) else "sql"
