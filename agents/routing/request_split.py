"""Cutting a request into the clauses that might each need a different agent.

The cut is generous: at sentence ends, and at "and", "also", "then" or a comma when a new
clause starts there ("..., and what does the fee schedule say"). The router classifies the
pieces and glues adjacent pieces of the same kind back together, so a cut too many costs
nothing while a missed cut would send half a question to the wrong agent.

>>> split_clauses("What is my BTC position, and what does the fee schedule say about withdrawals?")
['What is my BTC position', 'what does the fee schedule say about withdrawals?']
>>> split_clauses("Buy 0.1 BTC. Then notify me when it fills")
['Buy 0.1 BTC.', 'notify me when it fills']
>>> split_clauses("What is the difference between a limit and a stop order?")
['What is the difference between a limit and a stop order?']
"""

from __future__ import annotations

import re

VERBS = (
    r"tell|show|list|give|send|buy|sell|cancel|close|notify|remind|alert|set|place|withdraw|"
    r"deposit|transfer|explain|check|update|change|start|let|summari[sz]e|compare|email|text|"
    r"message|ping|pay|top up|move|switch|reset|resend|approve|reject|refund|upload|publish|"
    r"lock|unlock|open|describe|find|pull up|confirm"
)
"""Imperatives that start a clause of their own after "and", "then" or a comma."""
CLAUSE_STARTS = (
    r"what|what's|whats|how|when|where|why|who|which|is|are|was|were|do|does|did|can|could|"
    rf"should|would|will|please|i|i'd|i'm|i'll|any|{VERBS}"
)
_BOUNDARY = re.compile(
    r"(?<=[?!;])\s+"  # after a question mark, an exclamation mark or a semicolon
    r"|(?<=[a-z)\]\"']\.)\s+(?=[a-z])"  # after a full stop that ends a word (not "0.1")
    rf"|,?\s+(?:and|but|plus|also|then|and then|and also|as well as)\s+(?=(?:{CLAUSE_STARTS})\b)"
    rf"|,\s+(?=(?:what|what's|how|when|where|why|which|who|please|can|could|should|would|"
    rf"{VERBS})\b)",
    re.I,
)
_LEADING = re.compile(r"^(?:(?:and|also|plus|then|but|so)\b[,:]?\s*)+", re.I)


def split_clauses(text: str) -> list[str]:
    """The request's clauses, in order, without leading conjunctions; never empty for a
    non-blank text.

    >>> split_clauses("Hi! Can you cancel order 42? Also, what fees apply?")
    ['Hi!', 'Can you cancel order 42?', 'what fees apply?']
    """
    pieces = [_LEADING.sub("", piece).strip(" ,") for piece in _BOUNDARY.split(text.strip())]
    pieces = [piece for piece in pieces if re.search(r"\w", piece)]
    return pieces or [text.strip()]
