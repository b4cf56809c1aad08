"""The router's rules: what kind of request a piece of text is, and how complex.

What kind: each query type has weighted cues, declared per language in the routing vocabulary
(`agents/routing/vocabulary.yaml`, compiled by `agents.routing.cues`). A text's score for a type
is the sum of the weights of its cues that match, plus the data it names (tables, the caller's
own records, instruments: `agents.routing.sources.Sources`) and the documents the router's
search of the index found on it (`agents.routing.evidence`); the highest score wins. The rules
are *confident* when the winner scores at least `CONFIDENT_SCORE` and leads the runner-up by
`CONFIDENT_MARGIN`; otherwise the router may ask the embedding classifier.

How complex: signals of the same file (aggregates, comparisons, conditions, factors weighed),
read per query type by `complexity`.

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
>>> complexity(question, QueryType.SQL, sources, cues)[0]
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
def _count(pattern: re.Pattern[str], text: str) -> int:
    return len({m.group(0) for m in pattern.finditer(text)})


def complexity(
    text: str, query_type: QueryType, sources: Sources, cues: QueryCues, clauses: int = 1
) -> tuple[Complexity, str]:
    """How much work one part of a request is, and why (see `agents/routing/ROUTING.md`), from
    the vocabulary's complexity signals (`cues`). `sources` tells whether advice weighs the
    caller's own data; `clauses` is how many clauses of the same kind were joined into the part
    (two actions: combined).

    >>> from agents.routing.vocabulary import load_routing_vocabulary
    >>> vocabulary = load_routing_vocabulary()
    >>> sources = Sources(vocabulary)
    >>> cues = QueryCues(vocabulary, sources.instruments)
    >>> complexity("show my open orders", QueryType.SQL, sources, cues)
    (<Complexity.SIMPLE: 'simple'>, 'a single lookup')
    >>> complexity("should i buy eth now?", QueryType.REASONING, sources, cues)[0]
    <Complexity.MODERATE: 'moderate'>
    >>> question = "should i rebalance given btc is 70% of my portfolio?"
    >>> complexity(question, QueryType.REASONING, sources, cues)[0]
    <Complexity.COMPLEX: 'complex'>
    """
    signal = cues.signals
    lowered = normalise(text)
    if query_type is QueryType.GENERAL:
        return Complexity.SIMPLE, "small talk or general knowledge"
    if query_type is QueryType.SQL:
        aggregates = _count(signal["aggregates"], lowered)
        if signal["multi_step"].search(lowered) or aggregates >= 3:
            return Complexity.COMPLEX, "a multi-step analysis of the data"
        if aggregates:
            return Complexity.MODERATE, "aggregates, ranks or compares records"
        return Complexity.SIMPLE, "a single lookup"
    if query_type is QueryType.ACTION:
        conditional = signal["action_condition"].search(lowered) is not None
        several = clauses >= 2 or len(split_clauses(lowered)) >= 2
        if conditional or several:
            return Complexity.MODERATE, "a conditional or combined action"
        return Complexity.SIMPLE, "a single action"
    if query_type is QueryType.DOCUMENT:
        signals = (signal["comparison"].search(lowered) is not None) + (
            signal["condition"].search(lowered) is not None
        )
        if signals >= 2:
            return Complexity.COMPLEX, "compares several rules under conditions"
        if signals:
            return Complexity.MODERATE, "compares rules, or applies one to a condition"
        return Complexity.SIMPLE, "a single passage"
    factors = signal["factors"].search(lowered) is not None
    topics = _count(signal["reasoning_topics"], lowered)
    personal = (
        sources.own_records(lowered)
        or sources.discloses_self(lowered)
        or find_personal_data(lowered)
    )
    if factors or topics >= 2 or personal or len(lowered.split()) > 25:
        return Complexity.COMPLEX, "weighs several factors or the caller's own data"
    return Complexity.MODERATE, "an opinion on a single point"
