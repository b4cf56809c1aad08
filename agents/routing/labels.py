"""The router's label vocabularies, shared by the router and its policy file.

They live apart from `agents.routing.router` so the policy (`agents.routing.policy`) can name
them without importing the router, and the router can import the policy.
`agents.routing.router` re-exports both enums; import them from there.
"""

from __future__ import annotations

from enum import StrEnum


class QueryType(StrEnum):
    SQL = "sql"  # answered from the database: accounts, orders, positions, payments, prices...
    DOCUMENT = "document"  # answered from the firm's documents: fees, terms, policies, FAQ
    ACTION = "action"  # asks the platform to do something: trade, pay, notify, verify
    GENERAL = "general"  # small talk, questions about the assistant, general knowledge
    REASONING = "reasoning"  # advice, what-if, trade-offs: needs thinking, not a lookup


class Complexity(StrEnum):
    SIMPLE = "simple"  # one lookup (filters allowed), one passage, one action, a greeting
    MODERATE = "moderate"  # aggregates, rankings, comparisons, conditions, two parts, an opinion
    COMPLEX = "complex"  # weighs several factors, three or more parts, multi-step analysis


COMPLEXITY_ORDER = (Complexity.SIMPLE, Complexity.MODERATE, Complexity.COMPLEX)


def most_complex(*levels: Complexity) -> Complexity:
    """The highest of `levels` (simple when none).

    >>> most_complex(Complexity.SIMPLE, Complexity.COMPLEX, Complexity.MODERATE)
    <Complexity.COMPLEX: 'complex'>
    """
    return max(levels, key=COMPLEXITY_ORDER.index, default=Complexity.SIMPLE)
