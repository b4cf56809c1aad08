"""The request router: what a request is, how sensitive, how complex, and which provider serves
it, decided in well under a millisecond on the common path and explained in plain words.

1. **Parts.** The request is cut into clauses (`agents.routing.request_split`); each is classified;
   adjacent clauses of the same kind are joined back, a greeting beside a real request is
   dropped, and a clause with no signal of its own joins the one before it. A compound
   question ("what is my BTC position, and what does the fee schedule say about
   withdrawals?") keeps one part per kind, in order; its `query_type` is the first part's.
2. **Evidence.** With an evidence source (`agents.routing.evidence`), every clause that is not
   a request to act or small talk is measured against what the platform holds: a search of
   the documents the caller may read, and a match against the schema and the semantic model.
   Documents that speak of it count for the document kind in the rules; a clause the rules
   take for a data question is only sent to SQL when the database holds its subject
   (otherwise to the documents when they speak of it, else a general answer), and to the
   read tool that computes it when what it names best is one of the semantic model's tool
   figures (realised P&L by FIFO lots is no single query). The thresholds are the routing
   policy's `evidence` section. Without an evidence source (no embedding
   model) the rules' reading stands.
3. **Query type.** The rules (`agents.routing.rules`) decide when they are confident.
   Otherwise, with an embedder, the embedding classifier (`agents.routing.classifier`) adds
   its vote when some seed is alike; without one, or with none alike, the rules' best guess
   stands.
4. **Sensitivity** (`agents.routing.sensitivity`, whose docstring holds the rule table): the most
   sensitive of personal data found in the text, the tables each part touches (their words
   are the routing vocabulary, `agents/routing/vocabulary.yaml`, in several languages, with
   the instruments the platform lists: `agents.routing.sources`; else the schema evidence's),
   the visibility of the documents the evidence points at, and, for a customer, speaking of
   their own records or circumstances ("my", "meine", "mes", "mis"; "I bought at 60k").
5. **Complexity:** the most complex part; two parts are at least moderate, three complex.
6. **Provider:** the routing policy (`agents.routing.policy`), which cannot send a
   confidential request to the cloud; the router checks that once more before it answers.

>>> from services.identity import Caller
>>> router = Router(load_routing_policy())
>>> decision = router.route("What is my BTC position, and what does the fee schedule say about "
...                         "withdrawals?", Caller(user_id=7))
>>> [(p.query_type.value, p.sensitivity.value) for p in decision.parts]
[('sql', 'confidential'), ('document', 'public')]

Without evidence the rules' reading stands; with it, a data-looking question whose subject the
database does not hold is answered from the documents that speak of it:

>>> from agents.routing.evidence import Evidence, EvidenceDocument
>>> from retrieval.schema_evidence import SchemaMatch
>>> class Custody:
...     def gather(self, text, caller):
...         policy = EvidenceDocument(document_id=9, title="Custody policy",
...                                   visibility="public", similarity=0.71)
...         return Evidence(documents=[policy], schema_match=SchemaMatch(score=0.3))
>>> question = "How many client assets are in cold storage?"
>>> router.route(question, Caller(role="support")).query_type
<QueryType.SQL: 'sql'>
>>> Router(load_routing_policy(), evidence=Custody()).route(question, Caller(role="support")).parts[0].documents
['Custody policy']
>>> decision.query_type, decision.sensitivity, decision.complexity, decision.provider
(<QueryType.SQL: 'sql'>, <Sensitivity.CONFIDENTIAL: 'confidential'>, <Complexity.MODERATE: 'moderate'>, 'local')
"""  # noqa: E501

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel, Field

from agents.routing.classifier import EmbeddingClassifier, TextEmbedder
from agents.routing.cues import QueryCues
from agents.routing.evidence import Evidence, EvidenceDocument
from agents.routing.labels import Complexity, QueryType, most_complex
from agents.routing.policy import Provider, RoutingPolicy, load_routing_policy
from agents.routing.request_split import split_clauses
from agents.routing.rules import RuleVerdict, classify, complexity, normalise
from agents.routing.sensitivity import (
    TABLE_SENSITIVITY,
    find_personal_data,
    highest,
    sources_sensitivity,
)
from agents.routing.sources import Sources
from agents.routing.vocabulary import RoutingVocabulary, load_routing_vocabulary
from retrieval.chunks import Visibility
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

EMBEDDING_WEIGHT = 3.0
"""How many rule points a unanimous embedding vote is worth when the rules are unsure."""


class RequestPart(BaseModel):
    text: str
    query_type: QueryType
    sensitivity: Sensitivity = Sensitivity.PUBLIC
    complexity: Complexity = Complexity.SIMPLE
    tables: list[str] = Field(default_factory=list, description="Tables it reads or writes.")
    documents: list[str] = Field(default_factory=list, description="Documents it reads.")
    held_nowhere: bool = Field(
        False,
        description="Worded as a data question, but neither the database nor the documents "
        "hold its subject: the answer says so instead of guessing.",
    )
    tool: str | None = Field(
        None,
        description="The read tool that computes what it asks (a tool figure of the semantic "
        "model); the action agent calls it rather than choose among every tool.",
    )
    follows_sql: str | None = Field(
        None,
        description="A follow-up's earlier SQL, which the follow-up changes: an answer that "
        "comes out as that query's result again has not changed it.",
    )


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
    confident: bool = Field(
        True,
        description="The rules read every part with confidence on its words alone; a request "
        "they could not (a fragment such as 'and last month?') may continue the turn before.",
    )


class EvidenceSource(Protocol):
    """What the router asks about a clause (`agents.routing.evidence.RoutingEvidence`)."""

    def gather(self, text: str, caller: Caller) -> Evidence: ...


@dataclass
class _Clause:
    text: str
    verdict: RuleVerdict
    reasons: list[str] = field(default_factory=list)
    joined: int = 1  # clauses of the same kind joined into this one
    evidence: list[Evidence] = field(default_factory=list)  # of each clause joined
    used_embeddings: bool = False
    confident: bool = True  # the rules read it with confidence, before embeddings or evidence
    held_nowhere: bool = False  # see RequestPart
    tool: str | None = None  # see RequestPart


def _quote(text: str, limit: int = 48) -> str:
    text = " ".join(text.split())
    return f"'{text if len(text) <= limit else text[: limit - 1] + '…'}'"


class Router:
    """Labels requests and picks their provider; see the module docstring."""

    def __init__(
        self,
        policy: RoutingPolicy,
        embedder: TextEmbedder | None = None,
        evidence: EvidenceSource | None = None,
        tool_sensitivity: Mapping[str, Sensitivity] | None = None,
        *,
        vocabulary: RoutingVocabulary | None = None,
        symbols: Iterable[str] = (),
    ):
        """`tool_sensitivity` is each read tool's declared sensitivity (the tool registry's);
        a tool it does not name counts as confidential. `vocabulary` is the words that name
        the data a request touches (`agents.routing.vocabulary`; default: the packaged file);
        `symbols` the instruments the platform lists (the `instruments` table's tickers),
        named beside the vocabulary's everyday names for them."""
        self.policy = policy
        self.classifier = EmbeddingClassifier(embedder) if embedder is not None else None
        self.evidence = evidence
        self.tool_sensitivity = dict(tool_sensitivity or {})
        vocabulary = vocabulary or load_routing_vocabulary()
        self.sources = Sources(vocabulary, symbols)
        self.cues = QueryCues(vocabulary, self.sources.instruments)

    # -- evidence ------------------------------------------------------------------------
    def _gather(self, text: str, caller: Caller, seen: dict[str, Evidence]) -> Evidence | None:
        """The evidence for `text`, measured once per request."""
        if self.evidence is None:
            return None
        if text not in seen:
            seen[text] = self.evidence.gather(text, caller)
        return seen[text]

    def _documents(self, evidence: Sequence[Evidence]) -> list[EvidenceDocument]:
        """The documents that speak of it, best first, each once."""
        found: dict[int, EvidenceDocument] = {}
        threshold = self.policy.evidence.documents
        for item in evidence:
            for document in item.documents_above(threshold):
                known = found.get(document.document_id)
                if known is None or document.similarity > known.similarity:
                    found[document.document_id] = document
        return sorted(found.values(), key=lambda d: -d.similarity)

    def _leading(self, evidence: Evidence) -> list[EvidenceDocument]:
        """The documents that speak of it, when they do so clearly better than the database
        (by the policy's `evidence.margin`; any that reach `evidence.documents` when there is
        no schema to compare with)."""
        thresholds = self.policy.evidence
        documents = evidence.documents_above(thresholds.documents)
        if not documents or evidence.schema_match is None:
            return documents
        lead = documents[0].similarity - evidence.schema_score
        return documents if lead >= thresholds.margin else []

    def _by_evidence(
        self, verdict: RuleVerdict, evidence: Evidence
    ) -> tuple[RuleVerdict, str | None]:
        """Never SQL by default: a part worded as a data question goes to the documents when
        they speak of it clearly better than the database does, to the read tool that computes
        it when what it names is a tool figure, and to a general answer when neither the
        database nor the documents hold it."""
        if verdict.query_type is not QueryType.SQL or evidence.schema_match is None:
            return verdict, None
        thresholds = self.policy.evidence
        database, leading = evidence.schema_score, self._leading(evidence)
        nearest = _quote(evidence.schema_match.nearest)
        if leading:
            kind = QueryType.DOCUMENT
            reason = (
                f"document: worded as a data question, but {leading[0].title} speaks of it "
                f"({leading[0].similarity:.2f}) better than the database "
                f"({database:.2f}, nearest {nearest})"
            )
        elif not evidence.schema_match.holds(
            thresholds.database, thresholds.database_any_language
        ) and not evidence.documents_above(thresholds.documents):
            kind = QueryType.GENERAL
            reason = (
                f"general: worded as a data question, but the database holds nothing close "
                f"({database:.2f} < {thresholds.database:g}, nearest {nearest}), nor do the "
                f"documents ({evidence.document_score:.2f})"
            )
        elif evidence.schema_match.tool and database >= thresholds.database:
            kind = QueryType.ACTION
            reason = (
                f"action: what it asks, {nearest} ({database:.2f}), is computed by the tool "
                f"{evidence.schema_match.tool}, not by one query"
            )
        else:
            return verdict, None
        return RuleVerdict(kind, False, verdict.scores, []), reason

    # -- query type ---------------------------------------------------------------------
    def _classify(self, text: str, caller: Caller, seen: dict[str, Evidence]) -> _Clause:
        """The clause's type, the reasons for it, whether the embeddings were asked, and the
        evidence (none for a request to act or small talk: they keep their path)."""
        verdict = classify(text, self.sources, self.cues)
        evidence = None
        if not (verdict.query_type is QueryType.ACTION and verdict.confident) and not (
            self.cues.is_small_talk(normalise(text))
        ):
            evidence = self._gather(text, caller, seen)
        if evidence is not None:
            titles = [d.title for d in evidence.documents_above(self.policy.evidence.documents)]
            verdict = classify(text, self.sources, self.cues, titles)
        why = "; ".join(verdict.why) or "no cue of any other kind"
        gathered = [evidence] if evidence is not None else []
        confident = verdict.confident
        vote = None if verdict.confident or self.classifier is None else self.classifier.vote(text)
        used = vote is not None
        if vote is None or not vote.alike:
            hedge = "" if verdict.confident else " (rules unsure, best guess)"
            unlike = f"; no example alike (closest {vote.similarity:.2f})" if vote else ""
            reasons = [f"{verdict.query_type}{hedge}: {why}{unlike}"]
        else:
            scores = {
                t: verdict.scores[t] + EMBEDDING_WEIGHT * vote.shares.get(t, 0.0) for t in QueryType
            }
            best = max(QueryType, key=lambda t: scores[t])
            reasons = [
                f"{best}: rules unsure ({verdict.query_type} "
                f"{verdict.scores[verdict.query_type]:g}); nearest examples say "
                f"{vote.query_type} ({vote.shares[vote.query_type]:.0%} of the vote, closest "
                f"{_quote(vote.nearest)})"
            ]
            verdict = RuleVerdict(
                best, False, scores, verdict.why if best == verdict.query_type else []
            )
        clause = _Clause(
            text,
            verdict,
            reasons,
            evidence=gathered,
            used_embeddings=used,
            confident=confident,
        )
        if evidence is not None:
            clause.verdict, moved = self._by_evidence(verdict, evidence)
            if moved:
                clause.reasons.append(moved)
                clause.held_nowhere = clause.verdict.query_type is QueryType.GENERAL
                if clause.verdict.query_type is QueryType.ACTION and evidence.schema_match:
                    clause.tool = evidence.schema_match.tool
        return clause

    def _parts(
        self, question: str, caller: Caller, seen: dict[str, Evidence]
    ) -> tuple[list[_Clause], list[str], bool]:
        clauses = [self._classify(text, caller, seen) for text in split_clauses(question)]
        used = any(c.used_embeddings for c in clauses)
        if len(clauses) > 1 and not any(c.verdict.has_signal for c in clauses):
            whole = self._classify(question.strip(), caller, seen)
            return [whole], [], used or whole.used_embeddings
        notes: list[str] = []
        small_talk = [c for c in clauses if self.cues.is_small_talk(normalise(c.text))]
        if small_talk and any(c.verdict.has_signal and c not in small_talk for c in clauses):
            clauses = [c for c in clauses if c not in small_talk]
            notes.append(f"set aside small talk: {', '.join(_quote(c.text) for c in small_talk)}")
        merged: list[_Clause] = []
        pending: list[_Clause] = []  # clauses without a signal of their own, waiting for a part
        for clause in clauses:
            if not clause.verdict.has_signal and len(clauses) > 1:
                if merged:
                    merged[-1].text = f"{merged[-1].text} {clause.text}"
                    merged[-1].evidence += clause.evidence
                else:
                    pending.append(clause)
                continue
            if pending:
                clause.text = " ".join([*(p.text for p in pending), clause.text]).strip()
                clause.evidence = [e for p in pending for e in p.evidence] + clause.evidence
                pending = []
            if merged and clause.verdict.query_type is merged[-1].verdict.query_type:
                merged[-1].text = f"{merged[-1].text} {clause.text}"
                merged[-1].joined += 1
                merged[-1].evidence += clause.evidence
                continue
            merged.append(clause)
        return merged, notes, used

    # -- sensitivity --------------------------------------------------------------------
    def _sensitivity(
        self, clause: _Clause, caller: Caller
    ) -> tuple[Sensitivity, list[str], list[str], list[EvidenceDocument]]:
        """A part's sensitivity, the reasons (each led by the level it gives), its tables and
        the documents it reads."""
        text, query_type, evidence = clause.text, clause.verdict.query_type, clause.evidence
        lowered = normalise(text)
        # worded as a data question, a part held nowhere still speaks of the data it names
        worded_as = QueryType.SQL if clause.held_nowhere else query_type
        tables = self.sources.tables_for(lowered, worded_as)
        if query_type is QueryType.SQL and not tables:
            matched = [t for e in evidence if e.schema_match for t in e.schema_match.tables]
            tables = list(dict.fromkeys(matched))
        reads_documents = query_type in (QueryType.DOCUMENT, QueryType.REASONING)
        documents = self._documents(evidence) if reads_documents else []
        levels = [sources_sensitivity(tables, [d.visibility for d in documents])]
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
        if clause.tool:
            declared = self.tool_sensitivity.get(clause.tool, Sensitivity.CONFIDENTIAL)
            levels.append(declared)
            reasons.append(f"{declared}: the tool {clause.tool} is declared {declared}")
        for visibility, level in (
            (Visibility.INTERNAL, "internal"),
            (Visibility.RESTRICTED, "confidential"),
        ):
            titles = [d.title for d in documents if d.visibility is visibility]
            if titles:
                reasons.append(f"{level}: reads {', '.join(titles)} ({visibility} documents)")
        # a customer's own affairs stay local whatever the part became: a question about "my
        # portfolio" that nothing holds is answered in general, but still speaks of them
        customer = caller.role is Role.CUSTOMER and not self.cues.is_small_talk(lowered)
        sources = self.sources
        if (
            customer
            and not owned
            and (sources.speaks_of_own(lowered) or sources.discloses_self(lowered))
        ):
            levels.append(Sensitivity.CONFIDENTIAL)
            reasons.append("confidential: a customer speaking of their own affairs")
        if caller.role is not Role.CUSTOMER and sources.names_firm_figures(lowered):
            levels.append(Sensitivity.INTERNAL)
            reasons.append("internal: the firm's own business figures")
        kinds = sorted({f.kind for f in find_personal_data(text)})
        if kinds:
            levels.append(Sensitivity.CONFIDENTIAL)
            reasons.append(f"confidential: personal data in the text ({', '.join(kinds)})")
        return highest(levels), reasons, tables, documents

    # -- the decision ---------------------------------------------------------------------
    def route(self, question: str, caller: Caller) -> RouteDecision:
        clauses, notes, used = self._parts(question, caller, {})
        reasons: list[str] = []
        parts: list[RequestPart] = []
        compound = len(clauses) > 1
        for index, clause in enumerate(clauses, start=1):
            sensitivity, why_sensitive, tables, documents = self._sensitivity(clause, caller)
            level, why_complex = complexity(
                clause.text, clause.verdict.query_type, self.sources, self.cues, clause.joined
            )
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
                    documents=[d.title for d in documents],
                    held_nowhere=clause.held_nowhere,
                    tool=clause.tool,
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
            confident=all(c.confident for c in clauses),
        )
