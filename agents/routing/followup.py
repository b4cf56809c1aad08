"""Follow-up questions ("and last month?", "und nur die offenen?") read beside the turn before.

A follow-up only makes sense beside the turn it follows. Which questions are follow-ups is not
read from their words (no list of "and", "those", "what about" in one language): a question
continues the conversation when the router could not read it with confidence on its own, or
what it did read finds nothing the platform holds (`continues`). Rather than spend
a model call on rewriting it, the previous question and the SQL that answered it are put in
front of it (`in_context`): the SQL agent sees what "it" and "that" refer to and adjusts the
earlier query.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from agents.routing.router import RouteDecision
from services.llm.privacy import Sensitivity


class Turn(BaseModel):
    """One answered question of a conversation, as kept by the checkpointer."""

    question: str
    route: str
    answer: str
    sql: str | None = Field(
        None, description="The SQL the model wrote, before the guard scoped it."
    )
    sensitivity: Sensitivity | None = Field(
        None,
        description="How sensitive the turn was judged (None in turns kept before it was "
        "recorded): a follow-up is at least as sensitive, and its own words may be a fragment "
        "that reads as public.",
    )
    decision: RouteDecision | None = Field(
        None,
        description="How the turn was routed (a follow-up: as the turn it continued). A "
        "follow-up continues it as it was, without routing the earlier words again; None in "
        "turns kept before it was recorded and in a history sent from outside.",
    )


def continues(own: RouteDecision, earlier: Turn) -> bool:
    """Whether a question the router read as `own` continues the turn `earlier`: read on its
    own, it is no request of its own. Either the rules could not read it on its words (a
    fragment: "und nur die ausgeführten?", "same for bank transfers"; what the embeddings
    guess of a fragment, an action or a passage, is no reading of it), or what they read finds
    nothing the platform holds ("et combien sont en cours d'examen ?": a count of what, the
    turn before says). A question the rules read and the platform holds stands on its own.

    >>> from agents.routing.router import Complexity, QueryType, RequestPart, Sensitivity
    >>> def read(kind, confident, held_nowhere=False):
    ...     part = RequestPart(text="q", query_type=kind, held_nowhere=held_nowhere)
    ...     return RouteDecision(query_type=kind, sensitivity=Sensitivity.PUBLIC,
    ...         complexity=Complexity.SIMPLE, provider="local", reasons=[], parts=[part],
    ...         confident=confident)
    >>> data = Turn(question="How many orders?", route="sql", answer="12")
    >>> [continues(read(kind, False), data) for kind in (QueryType.GENERAL, QueryType.ACTION)]
    [True, True]
    >>> [continues(read(kind, True), data) for kind in (QueryType.SQL, QueryType.DOCUMENT)]
    [False, False]
    >>> continues(read(QueryType.GENERAL, True, held_nowhere=True), data)
    True
    """
    if not own.confident:
        return True
    return all(part.held_nowhere for part in own.parts)


def in_context(question: str, earlier: Turn) -> str:
    """The question with the turn it follows in front of it.

    >>> earlier = Turn(question="How many orders did I place this month?", route="sql",
    ...                answer="12", sql="SELECT COUNT(*) FROM orders")
    >>> print(in_context("and last month?", earlier))
    Earlier question: How many orders did I place this month?
    Earlier SQL: SELECT COUNT(*) FROM orders
    Follow-up question: and last month?
    """
    lines = [f"Earlier question: {earlier.question}"]
    if earlier.sql:
        lines.append(f"Earlier SQL: {earlier.sql}")
    lines.append(f"Follow-up question: {question}")
    return "\n".join(lines)
