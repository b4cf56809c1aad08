"""The router's rules: what kind of request a piece of text is, and how complex.

What kind: each query type has weighted cues, declared per language in the routing vocabulary
(`agents/routing/vocabulary.yaml`, compiled by `agents.routing.cues`). A text's score for a type
is the sum of the weights of its cues that match, plus the data it names (tables, the caller's
own records, instruments: `agents.routing.sources.Sources`) and the documents the router's
search of the index found on it (`agents.routing.evidence`); the highest score wins. The rules
are *confident* when the winner scores at least `CONFIDENT_SCORE` and leads the runner-up by
`CONFIDENT_MARGIN`; otherwise the router may ask the embedding classifier.

>>> from agents.routing.cues import QueryCues
>>> from agents.routing.vocabulary import load_routing_vocabulary
>>> vocabulary = load_routing_vocabulary()
>>> sources = Sources(vocabulary, symbols=["AAPL"])
>>> cues = QueryCues(vocabulary, sources.instruments)
>>> verdict = classify("Cancel my order 42", sources, cues)
>>> verdict.query_type, verdict.confident, verdict.why
(<QueryType.ACTION: 'action'>, True, ['starts with an instruction (cancel)'])
>>> classify("what does the fee schedule say about withdrawals?", sources, cues).query_type
<QueryType.DOCUMENT: 'document'>
>>> classify("what did aapl close at?", sources, cues).why
['asks for market prices', 'mentions market_prices']
>>> question = "how many orders did i place each month this year, by symbol?"
>>> complexity(question, QueryType.SQL, sources)[0]
<Complexity.MODERATE: 'moderate'>
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from agents.routing.cues import QueryCues
from agents.routing.labels import Complexity, QueryType
from agents.routing.request_split import split_clauses
from agents.routing.sensitivity import find_personal_data
from agents.routing.sources import Sources

CONFIDENT_SCORE = 2.0
CONFIDENT_MARGIN = 1.0
TIE_ORDER = (
    QueryType.ACTION,
    QueryType.REASONING,
    QueryType.DOCUMENT,
    QueryType.SQL,
    QueryType.GENERAL,
)
"""Which type wins a tie: the costlier mistake first (an action taken for a question is
confirmed by the user anyway, a question taken for small talk goes unanswered)."""


def normalise(text: str) -> str:
    """Lowercase, straight quotes, single spaces: what every cue is matched against.

    >>> normalise("  What’s   MY balance? ")
    "what's my balance?"
    """
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
    return re.sub(r"\s+", " ", text.replace("\u201d", '"')).strip().lower()


@dataclass
class RuleVerdict:
    """The rules' reading of one piece of text."""

    query_type: QueryType
    confident: bool
    scores: dict[QueryType, float]
    why: list[str] = field(default_factory=list)  # the winner's cues, for the reasons

    @property
    def has_signal(self) -> bool:
        return any(score > 0 for score in self.scores.values())


def classify(
    text: str, sources: Sources, cues: QueryCues, documents: Sequence[str] = ()
) -> RuleVerdict:
    """Score `text` against every cue, plus the data it names (`sources`: the vocabulary and
    the instruments) and `documents`: the titles of the documents the index holds passages on
    it from (the router's evidence).

    >>> from agents.routing.vocabulary import load_routing_vocabulary
    >>> vocabulary = load_routing_vocabulary()
    >>> sources = Sources(vocabulary)
    >>> cues = QueryCues(vocabulary, sources.instruments)
    >>> classify("card deposits: free?", sources, cues).query_type
    <QueryType.SQL: 'sql'>
    >>> classify("card deposits: free?", sources, cues, ["Fee Schedule"]).why
    ['the documents hold passages on it (Fee Schedule)']
    """
    lowered = normalise(text)
    scores = dict.fromkeys(QueryType, 0.0)
    why: dict[QueryType, list[str]] = {t: [] for t in QueryType}
    for cue, reason in cues.matches(lowered):
        scores[cue.type] += cue.weight
        why[cue.type].append(reason)
    tables = [t for t in sources.tables_named(lowered) if t != "documents"]
    if tables:
        scores[QueryType.SQL] += 1.0
        why[QueryType.SQL].append(f"mentions {', '.join(tables)}")
    own = sources.own_records(lowered)
    if own:
        scores[QueryType.SQL] += 1.0
        why[QueryType.SQL].append(f"asks about the caller's own {', '.join(own)}")
    if documents:
        scores[QueryType.DOCUMENT] += 1.5
        why[QueryType.DOCUMENT].append(
            f"the documents hold passages on it ({', '.join(documents)})"
        )
    if cues.asks_definition(lowered):  # the firm's terms are in its documents; others are not
        kind = QueryType.DOCUMENT if documents else QueryType.GENERAL
        scores[kind] += 1.0
        why[kind].append("asks what a term of the firm means" if documents else "asks what X is")
    ranked = sorted(QueryType, key=lambda t: (-scores[t], TIE_ORDER.index(t)))
    best, runner_up = ranked[0], ranked[1]
    confident = (
        scores[best] >= CONFIDENT_SCORE and scores[best] - scores[runner_up] >= CONFIDENT_MARGIN
    )
    if not any(scores.values()):
        best = QueryType.GENERAL  # nothing about data, documents or actions: treat as chat
    return RuleVerdict(best, confident, scores, why[best])


# -- complexity ------------------------------------------------------------------------------
_AGGREGATES = (
    r"\b(?:per|each|by (?:month|week|day|year|quarter|country|tier|symbol|plan|status|"
    r"type|channel|method|currency|customer|account|role)|group(?:ed)?|top \d+|"
    r"most(?! recent)|least|highest|lowest|largest|biggest|smallest|best|worst|average|avg|"
    r"mean|median|totals?|sums?|averages?|compare[ds]?|versus|vs\.?|trend|over time|growth|grew|"
    r"change (?:in|since)|breakdown|break down|distribution|percentage|percent|share of|ratio|"
    r"rank\w*)\b"
    # money that flowed over a period is a sum: "what did I pay in fees last quarter"
    r"|\b(?:how much|what) (?:did|have) (?:i|we|you|they|customers?|users?) (?:\w+ )?(?:pay|paid|"
    r"spend|spent|earn|earned|make|made|receive|received|deposit|deposited|withdraw|withdrawn|"
    r"lose|lost)\b"
)
_MULTI_STEP = re.compile(
    r"\b(?:month[- ]over[- ]month|year[- ]over[- ]year|week[- ]over[- ]week|rolling|"
    r"cumulative|running total|cohort|correlat\w+|percentile|relative to|net of|after fees|"
    r"weighted|annuali[sz]ed|realised|realized|unrealised|unrealized|drawdown)\b"
    r"|\bcompared? (?:with|to) (?:last|the previous|previous|the prior|prior|january|february|"
    r"march|april|may|june|july|august|september|october|november|december|20\d\d)\b"
)
_COMPARISON = re.compile(
    r"\b(?:difference between|differ|compare[ds]?|comparison|versus|vs\.?|cheaper|faster|"
    r"better|instead of|or (?:a|an|the|by|via)\b)"
)
_CONDITION = re.compile(r"\b(?:if|unless|in case|once|as soon as)\b|(?<!^)\bwhen(?:ever)?\b")
_ACTION_CONDITION = re.compile(
    r"\b(?:if|unless|in case|once|when(?:ever)?|as soon as|below|above|under|over|recurring|"
    r"(?:every|each) (?:day|week|month|year|quarter|monday|tuesday|wednesday|thursday|friday|"
    r"morning|evening)|daily|weekly|monthly|schedule\w*)\b"
)
_FACTORS = re.compile(
    r"\b(?:given|considering|taking into account|in light of|based on|assuming|while|"
    r"because|but)\b"
)
_REASONING_TOPICS = re.compile(
    r"\b(?:rebalanc\w*|hedg\w*|diversif\w*|allocat\w*|strateg\w*|risk\w*|outlook|forecast\w*|"
    r"predict\w*|tax\w*|fees?|interest|rates?|volatil\w*|inflation|margin|leverage|"
    r"drawdown|horizon|goals?|retire\w*|income|liquidity)\b"
)


def _count(pattern: str | re.Pattern[str], text: str) -> int:
    return len({m.group(0) for m in re.finditer(pattern, text)})


def complexity(
    text: str, query_type: QueryType, sources: Sources, clauses: int = 1
) -> tuple[Complexity, str]:
    """How much work one part of a request is, and why (see `agents/routing/ROUTING.md`).
    `sources` tells whether advice weighs the caller's own data; `clauses` is how many clauses
    of the same kind were joined into the part (two actions: combined).

    >>> from agents.routing.vocabulary import load_routing_vocabulary
    >>> sources = Sources(load_routing_vocabulary())
    >>> complexity("show my open orders", QueryType.SQL, sources)
    (<Complexity.SIMPLE: 'simple'>, 'a single lookup')
    >>> complexity("should i buy eth now?", QueryType.REASONING, sources)[0]
    <Complexity.MODERATE: 'moderate'>
    >>> question = "should i rebalance given btc is 70% of my portfolio?"
    >>> complexity(question, QueryType.REASONING, sources)[0]
    <Complexity.COMPLEX: 'complex'>
    """
    lowered = normalise(text)
    if query_type is QueryType.GENERAL:
        return Complexity.SIMPLE, "small talk or general knowledge"
    if query_type is QueryType.SQL:
        aggregates = _count(_AGGREGATES, lowered)
        if _MULTI_STEP.search(lowered) or aggregates >= 3:
            return Complexity.COMPLEX, "a multi-step analysis of the data"
        if aggregates:
            return Complexity.MODERATE, "aggregates, ranks or compares records"
        return Complexity.SIMPLE, "a single lookup"
    if query_type is QueryType.ACTION:
        conditional = _ACTION_CONDITION.search(lowered) is not None
        several = clauses >= 2 or len(split_clauses(lowered)) >= 2
        if conditional or several:
            return Complexity.MODERATE, "a conditional or combined action"
        return Complexity.SIMPLE, "a single action"
    if query_type is QueryType.DOCUMENT:
        signals = (_COMPARISON.search(lowered) is not None) + (
            _CONDITION.search(lowered) is not None
        )
        if signals >= 2:
            return Complexity.COMPLEX, "compares several rules under conditions"
        if signals:
            return Complexity.MODERATE, "compares rules, or applies one to a condition"
        return Complexity.SIMPLE, "a single passage"
    factors = _FACTORS.search(lowered) is not None
    topics = _count(_REASONING_TOPICS, lowered)
    personal = (
        sources.own_records(lowered)
        or sources.discloses_self(lowered)
        or find_personal_data(lowered)
    )
    if factors or topics >= 2 or personal or len(lowered.split()) > 25:
        return Complexity.COMPLEX, "weighs several factors or the caller's own data"
    return Complexity.MODERATE, "an opinion on a single point"
