"""The request router: what a request is, how sensitive, how complex, and which provider serves
it, decided in well under a millisecond on the common path and explained in plain words.

1. **Parts.** The request is cut into clauses (`agents.request_split`); each is classified
   (`agents.routing_rules`); adjacent clauses of the same kind are joined back, a greeting
   beside a real request is dropped, and a clause with no signal of its own joins the one
   before it. A compound question ("what is my BTC position, and what does the fee schedule
   say about withdrawals?") keeps one part per kind, in order; its `query_type` is the first
   part's.
2. **Query type.** The rules decide when they are confident. Otherwise, with an embedder, the
   embedding classifier (`agents.routing_classifier`) adds its vote; without one the rules'
   best guess stands.
3. **Sensitivity** (`agents.sensitivity`, whose docstring holds the rule table): the most
   sensitive of personal data found in the text, the tables and documents each part touches
   (`agents.routing_sources`), and, for a customer, speaking of their own circumstances.
4. **Complexity:** the most complex part; two parts are at least moderate, three complex.
5. **Provider:** the routing policy (`agents.routing_policy`), which cannot send a
   confidential request to the cloud; the router checks that once more before it answers.

>>> from services.identity import Caller
>>> router = Router(load_routing_policy())
>>> decision = router.route("What is my BTC position, and what does the fee schedule say about "
...                         "withdrawals?", Caller(user_id=7))
>>> [(p.query_type.value, p.sensitivity.value) for p in decision.parts]
[('sql', 'confidential'), ('document', 'public')]
>>> decision.query_type, decision.sensitivity, decision.complexity, decision.provider
(<QueryType.SQL: 'sql'>, <Sensitivity.CONFIDENTIAL: 'confidential'>, <Complexity.MODERATE: 'moderate'>, 'local')
"""  # noqa: E501

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from agents.request_split import split_clauses
from agents.routing_classifier import EmbeddingClassifier, TextEmbedder
from agents.routing_labels import Complexity, QueryType, most_complex
from agents.routing_policy import Provider, RoutingPolicy, load_routing_policy
from agents.routing_rules import RuleVerdict, classify, complexity, is_small_talk, normalise
from agents.routing_sources import discloses_self, names_firm_figures, sources_for
from agents.sensitivity import (
    DOCUMENT_SENSITIVITY,
    TABLE_SENSITIVITY,
    find_personal_data,
    highest,
    sources_sensitivity,
)
from services.identity import Caller, Role
from services.llm.privacy import Sensitivity

__all__ = [
    "Complexity",
    "QueryType",
    "RequestPart",
    "RouteDecision",
    "Router",
    "load_routing_policy",
]

log = logging.getLogger(__name__)

_POSSESSIVE = re.compile(r"\b(?:my|mine|myself)\b")
EMBEDDING_WEIGHT = 3.0
"""How many rule points a unanimous embedding vote is worth when the rules are unsure."""


class RequestPart(BaseModel):
    text: str
    query_type: QueryType
    sensitivity: Sensitivity = Sensitivity.PUBLIC
    complexity: Complexity = Complexity.SIMPLE
    tables: list[str] = Field(default_factory=list, description="Tables it reads or writes.")
    documents: list[str] = Field(default_factory=list, description="Documents it reads.")


class RouteDecision(BaseModel):
    query_type: QueryType = Field(description="The first part's type.")
    sensitivity: Sensitivity = Field(description="The most sensitive part's.")
    complexity: Complexity
    provider: Provider
    reasons: list[str] = Field(description="Why, in short sentences, in the order decided.")
    parts: list[RequestPart] = Field(min_length=1)
    fallback: Provider | None = Field(
        None, description="Provider to use if `provider` is unavailable; None: fail clearly."
    )
    used_embeddings: bool = Field(False, description="The embedding classifier was consulted.")


@dataclass
class _Clause:
    text: str
    verdict: RuleVerdict
    reasons: list[str] = field(default_factory=list)
    joined: int = 1  # clauses of the same kind joined into this one


def _quote(text: str, limit: int = 48) -> str:
    text = " ".join(text.split())
    return f"'{text if len(text) <= limit else text[: limit - 1] + '…'}'"


class Router:
    """Labels requests and picks their provider; see the module docstring."""

    def __init__(self, policy: RoutingPolicy, embedder: TextEmbedder | None = None):
        self.policy = policy
        self.classifier = EmbeddingClassifier(embedder) if embedder is not None else None

    # -- query type ---------------------------------------------------------------------
    def _classify(self, text: str) -> tuple[RuleVerdict, list[str], bool]:
        """The clause's type and the reasons for it; whether the embeddings were asked."""
        verdict = classify(text)
        why = "; ".join(verdict.why) or "no cue of any other kind"
        if verdict.confident or self.classifier is None:
            hedge = "" if verdict.confident else " (rules unsure, best guess)"
            return verdict, [f"{verdict.query_type}{hedge}: {why}"], False
        vote = self.classifier.vote(text)
        scores = {
            t: verdict.scores[t] + EMBEDDING_WEIGHT * vote.shares.get(t, 0.0) for t in QueryType
        }
        best = max(QueryType, key=lambda t: scores[t])
        reason = (
            f"{best}: rules unsure ({verdict.query_type} {verdict.scores[verdict.query_type]:g}); "
            f"nearest examples say {vote.query_type} ({vote.shares[vote.query_type]:.0%} of the "
            f"vote, closest {_quote(vote.nearest)})"
        )
        decided = RuleVerdict(
            best, False, scores, verdict.why if best == verdict.query_type else []
        )
        return decided, [reason], True

    def _parts(self, question: str) -> tuple[list[_Clause], list[str], bool]:
        clauses: list[_Clause] = []
        used = False
        for text in split_clauses(question):
            verdict, reasons, asked = self._classify(text)
            used |= asked
            clauses.append(_Clause(text, verdict, reasons))
        if len(clauses) > 1 and not any(c.verdict.has_signal for c in clauses):
            verdict, reasons, asked = self._classify(question)
            return [_Clause(question.strip(), verdict, reasons)], [], used or asked
        notes: list[str] = []
        small_talk = [c for c in clauses if is_small_talk(c.text)]
        if small_talk and any(c.verdict.has_signal and c not in small_talk for c in clauses):
            clauses = [c for c in clauses if c not in small_talk]
            notes.append(f"set aside small talk: {', '.join(_quote(c.text) for c in small_talk)}")
        merged: list[_Clause] = []
        pending = ""  # clauses without a signal of their own, waiting for a part to join
        for clause in clauses:
            if not clause.verdict.has_signal and len(clauses) > 1:
                if merged:
                    merged[-1].text = f"{merged[-1].text} {clause.text}"
                else:
                    pending = f"{pending} {clause.text}".strip()
                continue
            if pending:
                clause.text, pending = f"{pending} {clause.text}", ""
            if merged and clause.verdict.query_type is merged[-1].verdict.query_type:
                merged[-1].text = f"{merged[-1].text} {clause.text}"
                merged[-1].joined += 1
                continue
            merged.append(clause)
        return merged, notes, used

    # -- sensitivity --------------------------------------------------------------------
    @staticmethod
    def _sensitivity(
        text: str, query_type: QueryType, caller: Caller
    ) -> tuple[Sensitivity, list[str], list[str], list[str]]:
        """A part's sensitivity, the reasons (each led by the level it gives), its sources."""
        lowered = normalise(text)
        tables, documents = sources_for(lowered, query_type)
        levels = [sources_sensitivity(tables, documents)]
        reasons = []
        owned = [
            t
            for t in tables
            if TABLE_SENSITIVITY.get(t, Sensitivity.CONFIDENTIAL) == "confidential"
        ]
        if owned:
            reasons.append(f"confidential: touches {', '.join(owned)} (customers' data)")
        staff_tables = [t for t in tables if TABLE_SENSITIVITY.get(t) == "internal"]
        if staff_tables:
            reasons.append(f"internal: touches {', '.join(staff_tables)} (the firm's documents)")
        if query_type is QueryType.SQL and not tables:
            levels.append(Sensitivity.CONFIDENTIAL)
            reasons.append("confidential: a data question naming no known table (fail closed)")
        internal = [d for d in documents if DOCUMENT_SENSITIVITY.get(d) != Sensitivity.PUBLIC]
        if internal:
            reasons.append(f"internal: reads the {', '.join(internal)} (staff only)")
            if caller.role is Role.CUSTOMER:
                reasons.append("customers may not read internal documents; the answer says so")
        customer = caller.role is Role.CUSTOMER and query_type is not QueryType.GENERAL
        if customer and not owned and (_POSSESSIVE.search(lowered) or discloses_self(lowered)):
            levels.append(Sensitivity.CONFIDENTIAL)
            reasons.append("confidential: a customer speaking of their own affairs")
        if caller.role is not Role.CUSTOMER and names_firm_figures(lowered):
            levels.append(Sensitivity.INTERNAL)
            reasons.append("internal: the firm's own business figures")
        kinds = sorted({f.kind for f in find_personal_data(text)})
        if kinds:
            levels.append(Sensitivity.CONFIDENTIAL)
            reasons.append(f"confidential: personal data in the text ({', '.join(kinds)})")
        return highest(levels), reasons, tables, documents

    # -- the decision ---------------------------------------------------------------------
    def route(self, question: str, caller: Caller) -> RouteDecision:
        clauses, notes, used = self._parts(question)
        reasons: list[str] = []
        parts: list[RequestPart] = []
        compound = len(clauses) > 1
        for index, clause in enumerate(clauses, start=1):
            sensitivity, why_sensitive, tables, documents = self._sensitivity(
                clause.text, clause.verdict.query_type, caller
            )
            level, why_complex = complexity(clause.text, clause.verdict.query_type, clause.joined)
            prefix = f"part {index} {_quote(clause.text)} is " if compound else "type "
            reasons += [prefix + r for r in clause.reasons]
            reasons += why_sensitive
            parts.append(
                RequestPart(
                    text=clause.text,
                    query_type=clause.verdict.query_type,
                    sensitivity=sensitivity,
                    complexity=level,
                    tables=tables,
                    documents=documents,
                )
            )
            reasons.append(f"{level}: {why_complex}")
        reasons += notes
        sensitivity = highest(p.sensitivity for p in parts)
        if sensitivity is not Sensitivity.CONFIDENTIAL and find_personal_data(question):
            sensitivity = Sensitivity.CONFIDENTIAL  # data the cut into parts split in two
            reasons.append("confidential: personal data in the text")
        if sensitivity is Sensitivity.PUBLIC:
            reasons.append("public: no customers' data, personal data or internal documents")
        level = most_complex(*(p.complexity for p in parts))
        if len(parts) >= 3:
            level = Complexity.COMPLEX
            reasons.append(f"complex: {len(parts)} parts of different kinds")
        elif len(parts) == 2 and level is Complexity.SIMPLE:
            level = Complexity.MODERATE
            reasons.append("moderate: two parts of different kinds")
        types = [p.query_type for p in parts]
        choice = self.policy.choose(types, sensitivity, level, caller.role)
        provider = choice.provider
        if sensitivity is Sensitivity.CONFIDENTIAL and provider == "cloud":  # cannot pass load
            log.error("routing policy chose the cloud for a confidential request; using local")
            provider = "local"
        reasons.append(f"provider {provider}: {choice.rule}")
        return RouteDecision(
            query_type=types[0],
            sensitivity=sensitivity,
            complexity=level,
            provider=provider,
            reasons=reasons,
            parts=parts,
            fallback=self.policy.fallback_for(provider, sensitivity),
            used_embeddings=used,
        )
