"""The router's rules: what kind of request a piece of text is, and how complex.

Each query type has weighted cues (regular expressions over the lowercased text, written from
the product's domain: the schema, the ways people ask about rules and procedures, the tools'
verbs). A text's score for a type is the sum of the weights of its cues that match; the highest
score wins. Which documents a text is about is not a cue: the router passes in the documents
its search of the index found (`agents.routing.evidence`). The rules are *confident* when the
winner scores at least `CONFIDENT_SCORE` and leads the runner-up by `CONFIDENT_MARGIN`;
otherwise the router may ask the embedding classifier.

The data a text names (tables, the caller's own records, instruments) comes from the routing
vocabulary and the instruments the platform lists (`agents.routing.sources.Sources`), which the
router passes in.

>>> from agents.routing.vocabulary import load_routing_vocabulary
>>> sources = Sources(load_routing_vocabulary(), symbols=["AAPL"])
>>> verdict = classify("Cancel my order 42", sources)
>>> verdict.query_type, verdict.confident, verdict.why
(<QueryType.ACTION: 'action'>, True, ['starts with an instruction (cancel)'])
>>> classify("what does the fee schedule say about withdrawals?", sources).query_type
<QueryType.DOCUMENT: 'document'>
>>> classify("what did aapl close at?", sources).why
['asks for market prices', 'mentions market_prices']
>>> question = "how many orders did i place each month this year, by symbol?"
>>> complexity(question, QueryType.SQL, sources)[0]
<Complexity.MODERATE: 'moderate'>
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Cue:
    query_type: QueryType
    pattern: str  # where it reads `_TICKER`, the instruments the router knows are put
    weight: float
    why: str  # shown in the decision's reasons; "{0}" is replaced by the matched verb


def _cue(query_type: QueryType, pattern: str, weight: float, why: str) -> Cue:
    return Cue(query_type, pattern, weight, why)


_A, _S, _D, _G, _R = (
    QueryType.ACTION,
    QueryType.SQL,
    QueryType.DOCUMENT,
    QueryType.GENERAL,
    QueryType.REASONING,
)
ACTION_VERBS = (
    r"buy|sell|short|place|cancel|close|withdraw|deposit|transfer|send|notify|remind|alert|"
    r"set up|setup|set|create|update|change|upgrade|downgrade|start|submit|resubmit|resend|"
    r"reset|freeze|unfreeze|lock|unlock|refund|approve|reject|open|move|pay|top up|subscribe|"
    r"unsubscribe|enable|disable|turn on|turn off|mark|escalate|flag|upload|publish|reindex|"
    r"re-index|suspend|reactivate|email|text|message|schedule|add|remove|delete|amend|modify|"
    r"convert|swap|liquidate|stake|unstake|raise|lower|increase|decrease|verify|renew|"
    r"re-?verify|invest|book|file|unblock|block|restore|rename|link|unlink|put|switch|"
    r"activate|deactivate|waive|grant|revoke|assign|archive"
)
# the verb used as a noun or an adjective: "open orders", "transfer history", "close price"
_NOT_AN_ACTION = (
    r"(?!\s+(?:orders?\b(?!\s+#?\d)|positions?|trades?|interest|price|prices|history|"
    r"histories|amounts?|totals?|volume|status(?:es)?|limits?|fees?|count)\b)"
)
_LEAD = r"^(?:(?:ok(?:ay)?|hey|hi|now|so|also|then|and|please|pls|kindly|right)[,!]?\s+)*"
_PRICE_WORDS = r"price|priced|trading at|close|closing|open(?:ing)?|high|low|volume|quote|worth"
_TICKER = "<instrument>"  # replaced by `Sources.instruments` (`_compiled`)

CUES: tuple[Cue, ...] = (
    # -- actions: the platform is asked to do something ----------------------------------
    _cue(
        _A, rf"{_LEAD}({ACTION_VERBS})\b{_NOT_AN_ACTION}", 6.0, "starts with an instruction ({0})"
    ),
    _cue(
        _A,
        rf"\b(?:can|could|would|will) you\s+(?:(?:please|also|just|now|quickly|kindly|go ahead "
        rf"and)\s+)*({ACTION_VERBS})\b"
        rf"{_NOT_AN_ACTION}",
        4.0,
        "asks the assistant to {0}",
    ),
    _cue(
        _A,
        rf"\b(?:i(?:'d| would) like(?: you)? to|i want(?: you)? to|i wanna|i need(?: you)? to|"
        rf"help me|go ahead and|i wish to|i'd like to|let's|lets)\s+({ACTION_VERBS})\b"
        rf"{_NOT_AN_ACTION}",
        3.5,
        "says they want to {0}",
    ),
    _cue(_A, r"\b(?:buy|sell|short)\s+(?:\d|some|all|half|a |an )", 1.5, "names a trade"),
    _cue(
        _A,
        r"\b(?:notify|remind|alert|ping|text|email|message) me\b|\blet me know (?:when|if)\b|"
        r"\bsend me (?:a |an |my )?(?:notification|alert|reminder|message|e-?mail|sms|text|"
        r"copy|statement|receipt)",
        3.0,
        "asks to be notified or sent something",
    ),
    # -- data questions: answered from the database ---------------------------------------
    _cue(
        _S,
        rf"{_LEAD}(show|list|display|give|get|fetch|pull|find|count|export|print|return|tell)"
        r"\b(?: me)?(?! (?:a joke|about (?:the|your) (?:fee|terms|aml|handbook|faq)))",
        1.5,
        "asks to see records ({0})",
    ),
    _cue(_S, r"\bhow (?:many|much)\b", 1.5, "asks how many or how much"),
    _cue(
        _S,
        r"\b(?:did|have|has) (?:i|we|you|they|he|she|it|that|this|customers?|users?|clients?|"
        r"anyone)\b"
        r"|\b(?:was|were) (?:i|my)\b|\bdo i have\b|\b(?:is|are) my\b|\bam i (?:still |now |"
        r"already )?(?:on|in|subscribed|verified|approved|enrolled|signed up|registered|locked|"
        r"blocked|suspended)\b",
        1.5,
        "asks about past activity or the state of records",
    ),
    _cue(
        _S,
        r"\b(?:yesterday|today|last (?:week|month|year|quarter|\d+ \w+)|this (?:week|month|year|"
        r"quarter)|in (?:january|february|march|april|may|june|july|august|september|october|"
        r"november|december|20\d\d)|between|per (?:day|week|month)|top \d+|number of|"
        r"year to date|ytd|so far)\b",
        1.0,
        "asks for figures over a period",
    ),
    _cue(
        _S,
        rf"^(?=.*\b(?:{_TICKER})\b).*\b(?:{_PRICE_WORDS})\b|\bprice (?:of|for) \w+",
        2.0,
        "asks for market prices",
    ),
    _cue(
        _S,
        r"\b(?:user|customer|client|account|order|payment|subscription|notification)s?\s*"
        r"(?:id\s*)?(?:#|no\.?|number)?\s*\d+\b",
        1.5,
        "names a particular record",
    ),
    _cue(
        _S,
        rf"\b(?:what(?:'s| is)|where(?:'s| is)|how(?:'s| is)) (?:{_TICKER}) (?:at|trading|doing|"
        r"now|today)\b",
        4.0,
        "asks where an instrument trades",
    ),
    _cue(
        _S,
        r"\b(?:how many|which|what|list|show|count) (?:of (?:our|the) )?(?:customers|users|"
        r"clients|accounts|payments|orders|subscriptions|verifications)\b",
        1.0,
        "asks about records in aggregate",
    ),
    # -- documents: the firm's own rules, fees and procedures ----------------------------
    _cue(
        _D,
        r"\b(?:fee schedule|terms of service|terms and conditions|t&cs?|aml policy|"
        r"anti[- ]money[- ]laundering policy|trading handbook|handbook|faq|polic(?:y|ies)|"
        r"(?:the|your|our) terms|"
        r"rulebook|guidelines?)\b",
        3.5,
        "names a document",
    ),
    _cue(
        _D,
        r"\b(?:what|how) (?:does|do) (?:the|your|our) \w+(?: \w+)? (?:say|state|cover|allow|"
        r"require|mention|define)\b|\baccording to\b|\bwhat are the rules\b|\bis there a rule\b",
        2.5,
        "asks what the firm's rules say",
    ),
    _cue(
        _D,
        r"\bhow (?:do|can|would) (?:i|we|you|a customer|customers|one|staff|support)\b|"
        r"\bhow to\b|\bwhat(?:'s| is) the (?:process|procedure)\b",
        3.5,
        "asks how to do something",
    ),
    _cue(
        _D,
        r"\bwhat happens (?:if|when|after|to|once)\b|"
        r"\bhow long (?:does|do|will|is|are|until|before)\b|\bwhen (?:will|does|do) (?:my |a |"
        r"the |an )?\w+ (?:arrive|settle|clear|expire|renew|post|reset)",
        2.5,
        "asks about timings the firm sets",
    ),
    _cue(
        _D,
        r"\b(?:what|how much) (?:is|are|does|do|will|would) (?:the |a |an |it |i |you |your )?"
        r"(?:\w+ ){0,3}(?:fees?|commissions?|charges?|costs?|spreads?|interest|minimum|limits?)"
        r"\b|\b(?:do|does) (?:you|meridian|it) charge\b|\b(?:is|are) there (?:a |any )?(?:fees?|"
        r"charges?|minimum|limits?)\b|\bhow much (?:does|do|is|are) (?:it|a|an|the)\b",
        2.5,
        "asks about fees or limits the firm sets",
    ),
    _cue(
        _D,
        r"^(?:can|may) (?:i|we|customers?|a customer|staff|support)\b(?! (?:see|view|get|"
        r"check|look|have a look|show)\b)|\b(?:am i|are we|is it|are customers|is a customer) "
        r"(?:allowed|permitted|eligible|able)\b|\b(?:allowed|required) to\b|\bmust (?:i|we|"
        r"staff|customers)\b|\bdo (?:i|we|customers) (?:need|have) to\b|\bwhat should (?:i|we) "
        r"(?:do|tell)\b",
        2.0,
        "asks what is allowed or required",
    ),
    # -- small talk and general knowledge --------------------------------------------------
    _cue(
        _G,
        r"^(?:hi|hello|hey|hiya|yo|good (?:morning|afternoon|evening|night)|greetings|thanks|"
        r"thank you|thx|ty|cheers|bye|goodbye|see you|ok|okay|cool|great|nice|awesome|perfect|"
        r"got it|sounds good|no worries|you're welcome)\b[\s!.,?]*(?:there|again|so much|a lot|"
        r"very much|for (?:the|your) help|[a-z]+)?[\s!.,?:)]*$|\bthat(?:'s| is) (?:all|it|"
        r"everything)\b|\bnothing else\b",
        5.0,
        "small talk",
    ),
    _cue(
        _G,
        r"\b(?:who|what) are you\b|\bwhat can you do\b|\bare you (?:a |an )?(?:bot|human|robot|ai|"
        r"real person|person)\b|\bwho (?:made|built|created) you\b|\bhow are you\b|"
        r"\bwhat(?:'s| is) your name\b|\ba joke\b|\bwhat (?:model|llm|ai)\b|\bhow does this "
        r"(?:assistant|chat|bot) work\b|\bcan you help\b|\bwhat do you know\b",
        4.0,
        "asks about the assistant",
    ),
    _cue(
        _G,
        r"^(?:what(?:'s| is| are| was)|who (?:is|was|invented|created|runs)|explain|define|why "
        r"(?:is|are|do|does)|how does|how do) (?:a |an |the )?(?:\w+ ){0,3}?(?:blockchains?|"
        r"bitcoin|ethereum|crypto(?:currency|currencies)?|bonds?|etfs?|inflation|the fed|"
        r"central banks?|recessions?|halving|mining|defi|nfts?|stablecoins?|market cap\w*|"
        r"ipos?|s&p 500|nasdaq|dow jones|stock market|proof of (?:work|stake)|satoshi|"
        r"wallets? work|gas fees?)\b|\bwhat does \w+ stand for\b",
        2.5,
        "asks general knowledge",
    ),
    _cue(
        _G,
        r"\b(?:weather|recipe|football|soccer|movie|film|song|poem|capital of|news today|"
        r"time is it|birthday song|jokes?|funny|laugh|fun fact|riddle|bored)\b",
        2.5,
        "off-topic small talk",
    ),
    # -- reasoning: advice, what-ifs, trade-offs --------------------------------------------
    _cue(_R, r"\bshould (?:i|we|my|the customer|one)\b", 3.0, "asks for advice (should I)"),
    _cue(
        _R,
        r"\b(?:is it|would it be|is now|is this|was it|would that be) (?:a |the )?(?:good|bad|"
        r"wise|wiser|smart|smarter|better|fairer|safer|riskier|worth|right|sensible|safe|risky)\b"
        r"|\b(?:would it|does it|would that) make sense\b|\bgood (?:time|idea|moment|"
        r"entry|point) to\b|\bworth (?:it|buying|selling|holding|keeping)\b",
        3.0,
        "asks whether something is a good idea",
    ),
    _cue(
        _R,
        r"\b(?:recommend\w*|advice|advise|suggest\w*|your (?:view|opinion|take)|(?:what )?do you "
        r"think|in your opinion|what would you do|would you|(?:best|smartest|safest|wisest|right) "
        r"way to)\b",
        2.5,
        "asks for a recommendation",
    ),
    _cue(
        _R,
        r"\bwhat (?:would|will|could|might) happen\b|\bwhat if\b|\bscenario\b|\bsimulat\w+|"
        r"\bhypothetical\w*|\bsuppose\b|\bimagine\b|\bwould (?:i|we) (?:lose|make|gain|be|owe|"
        r"pay|end up|still)\b|\bwhat (?:would|will|could|might) (?:a |an |the )?(?:\w+ ){0,4}"
        r"(?:do to|mean for)\b|\b\d+ ?% (?:crash|drop|fall|rise|rally|move|jump|decline)\b|"
        r"\bif (?:i|we) (?:[\w']+,? ){1,8}would (?:i|we|it|that)\b",
        2.5,
        "asks a what-if",
    ),
    _cue(
        _R,
        r"\b(?:rebalanc\w*|hedg\w*|diversif\w*|allocat\w*|strateg\w*|risks?|risky|riskier|"
        r"outlook|forecast\w*|predict\w*|bullish|bearish|overvalued|undervalued|optimi[sz]\w*|"
        r"trade-?offs?|pros and cons|better off|long[- ]term|tax[- ]efficient|dca|"
        r"dollar[- ]cost|lump sum|take profits?|cut (?:my )?loss\w*|exit plan|outperform\w*|"
        r"underperform\w*|beat the market)\b",
        1.5,
        "weighs risk, strategy or outlook",
    ),
    _cue(
        _R,
        r"\b(?:given|considering|taking into account|in light of|based on|assuming)\b",
        1.0,
        "weighs stated circumstances",
    ),
    _cue(
        _R,
        r"\b(?:why (?:did|has|have|is) (?:my|the market|btc|bitcoin|eth|the price)|explain why|"
        r"analy[sz]e|evaluate|assess|which (?:would be|is) (?:better|best|smarter|safer))\b|"
        r"\bor should\b|\bbetter (?:option|choice|to)\b",
        2.0,
        "asks for analysis or a choice",
    ),
)


_DEFINITION = re.compile(
    r"^(?:what(?:'s| is| are| does)|explain|define|describe|what do you mean by) "
    r"(?!(?:my|our|your|the (?:status|price|balance|total|number))\b)"
)
SMALL_TALK = re.compile(next(c.pattern for c in CUES if c.why == "small talk"))


@functools.cache
def _compiled(instruments: str) -> tuple[tuple[Cue, re.Pattern[str]], ...]:
    """Every cue compiled, with `instruments` (a pattern) where a cue names an instrument."""
    return tuple((cue, re.compile(cue.pattern.replace(_TICKER, instruments))) for cue in CUES)


def is_small_talk(text: str) -> bool:
    """A greeting, thanks or goodbye: set aside when it comes with a real request.

    >>> is_small_talk("Hi!"), is_small_talk("What does ETF stand for?")
    (True, False)
    """
    return SMALL_TALK.search(normalise(text)) is not None


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


def _describe(cue: Cue, match: re.Match[str]) -> str:
    groups = [g for g in match.groups() if g]
    return cue.why.format(groups[0]) if groups and "{0}" in cue.why else cue.why


def classify(text: str, sources: Sources, documents: Sequence[str] = ()) -> RuleVerdict:
    """Score `text` against every cue, plus the data it names (`sources`: the vocabulary and
    the instruments) and `documents`: the titles of the documents the index holds passages on
    it from (the router's evidence).

    >>> from agents.routing.vocabulary import load_routing_vocabulary
    >>> sources = Sources(load_routing_vocabulary())
    >>> classify("card deposits: free?", sources).query_type
    <QueryType.SQL: 'sql'>
    >>> classify("card deposits: free?", sources, ["Fee Schedule"]).why
    ['the documents hold passages on it (Fee Schedule)']
    """
    lowered = normalise(text)
    scores = dict.fromkeys(QueryType, 0.0)
    why: dict[QueryType, list[str]] = {t: [] for t in QueryType}
    for cue, pattern in _compiled(sources.instruments):
        match = pattern.search(lowered)
        if match:
            scores[cue.query_type] += cue.weight
            why[cue.query_type].append(_describe(cue, match))
    tables = [t for t in sources.tables_named(lowered) if t != "documents"]
    if tables:
        scores[_S] += 1.0
        why[_S].append(f"mentions {', '.join(tables)}")
    own = sources.own_records(lowered)
    if own:
        scores[_S] += 1.0
        why[_S].append(f"asks about the caller's own {', '.join(own)}")
    if documents:
        scores[_D] += 1.5
        why[_D].append(f"the documents hold passages on it ({', '.join(documents)})")
    if _DEFINITION.search(lowered):  # the firm's terms are in its documents; others are not
        kind = _D if documents else _G
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
