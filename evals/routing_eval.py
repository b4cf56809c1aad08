"""How well the router labels requests, measured on a golden set of labelled requests.

A golden line is `{"id", "question", "role", "query_type", "sensitivity", "complexity"}`, with
`"parts": [types...]` for a compound question (its `query_type` is the first part's). The report
gives accuracy and a confusion matrix per label (and for the provider the policy picks, against
the provider the policy would pick for the gold labels), how often the parts of compound
questions came out right, and the figure that must stay at zero: gold-confidential requests the
router would send to a cloud provider.

    trading-assist eval routing --golden evals/golden/routing.jsonl [--out report.json]

With the embedding model (the default) the router weighs evidence (`agents.routing.evidence`)
measured on what the golden sets were written against: the demo documents, indexed in memory,
and the demo schema with the semantic model (`demo_evidence`).

>>> import json, tempfile
>>> from agents.routing.policy import load_routing_policy
>>> line = {"id": "r1", "question": "hello", "role": "customer", "query_type": "general",
...         "sensitivity": "public", "complexity": "simple"}
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = Path(tmp) / "routing.jsonl"
...     _ = path.write_text(json.dumps(line) + "\\n", encoding="utf-8")
...     report = run(load_routing_golden(path), Router(load_routing_policy()))
>>> report.labels["query_type"].accuracy, report.confidential_to_cloud
(1.0, 0)
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.routing.evidence import RoutingEvidence
from agents.routing.policy import Provider
from agents.routing.router import Complexity, QueryType, RouteDecision, Router
from evals.doc_chunks import DEMO_SOURCES, read_documents
from evals.golden import read_golden_lines
from evals.rag_index import eval_index
from graphs.build import INTERNAL_TABLES
from retrieval.embeddings import MultilingualEmbedder
from retrieval.schema_evidence import SchemaEvidence
from retrieval.vector_cache import TextEmbedder
from services.catalog import catalog_from_metadata
from services.db.models import Base
from services.identity import Caller, Role
from services.llm.privacy import Sensitivity
from services.semantic.loader import load_semantic_model
from services.settings import Settings

ROUTING_GOLDEN = Path(__file__).resolve().parent / "golden" / "routing.jsonl"
LABELS = ("query_type", "sensitivity", "complexity", "provider")
_ORDERS: dict[str, list[str]] = {
    "query_type": [t.value for t in QueryType],
    "sensitivity": [s.value for s in Sensitivity],
    "complexity": [c.value for c in Complexity],
    "provider": ["local", "cloud"],
}
_SEVERITY = {s: i for i, s in enumerate(_ORDERS["sensitivity"])}


class RoutingCase(BaseModel):
    """One labelled request. Unknown fields (a note for people) are ignored."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    role: Role
    query_type: QueryType
    sensitivity: Sensitivity
    complexity: Complexity
    parts: list[QueryType] | None = Field(
        None, description="A compound question's part types in order; the first is query_type."
    )

    @model_validator(mode="after")
    def _parts_agree(self) -> RoutingCase:
        if self.parts is not None:
            if len(self.parts) < 2:
                raise ValueError("parts lists the types of a compound question: two or more")
            if self.parts[0] is not self.query_type:
                raise ValueError("parts[0] must be the query_type (the first part's type)")
        return self

    @property
    def part_types(self) -> list[QueryType]:
        return self.parts or [self.query_type]

    def caller(self) -> Caller:
        return Caller(user_id=1 if self.role is Role.CUSTOMER else None, role=self.role)


@contextmanager
def demo_evidence(embedder: TextEmbedder, settings: Settings) -> Iterator[RoutingEvidence]:
    """Evidence from the demo documents (in memory, searched as each case's caller) and the
    platform's schema (its models, less the bookkeeping the SQL agent never sees) with the
    semantic model `settings` names."""
    catalog = catalog_from_metadata(Base.metadata).without(INTERNAL_TABLES)
    semantic = load_semantic_model(settings.semantic_model_file)
    with eval_index(read_documents(DEMO_SOURCES), settings, embedder) as index:
        schema = SchemaEvidence(embedder, catalog, semantic, multilingual=MultilingualEmbedder())
        yield RoutingEvidence(index, schema)


class RoutingGoldenError(ValueError):
    """A golden line that is not valid JSON or not a valid `RoutingCase`, or a repeated id."""


def load_routing_golden(path: Path) -> list[RoutingCase]:
    """Read and validate a routing golden file; blank lines are skipped."""
    return read_golden_lines(Path(path), RoutingCase, RoutingGoldenError)


class CaseResult(BaseModel):
    id: str
    question: str
    role: Role
    gold: dict[str, str] = Field(description="Gold labels, with the provider they imply.")
    predicted: dict[str, str]
    gold_parts: list[QueryType]
    predicted_parts: list[QueryType]
    reasons: list[str]
    used_embeddings: bool
    latency_ms: float

    @property
    def correct(self) -> bool:
        return all(self.gold[k] == self.predicted[k] for k in LABELS[:3])


class LabelScore(BaseModel):
    correct: int
    total: int
    accuracy: float
    confusion: dict[str, dict[str, int]] = Field(description="gold label -> predicted -> count")


class RoutingEvalReport(BaseModel):
    golden: str
    questions: int
    policy: str
    embeddings: bool = Field(description="The embedding classifier was available.")
    evidence: bool = Field(False, description="The router weighed documents and schema.")
    labels: dict[str, LabelScore]
    all_three_correct: float = Field(description="Share with type, sensitivity, complexity right.")
    parts_correct: float = Field(description="Share whose part types came out exactly right.")
    compound_found: str = Field(description="Compound gold questions split into the right types.")
    confidential_to_cloud: int = Field(description="Gold-confidential requests sent to the cloud.")
    confidential_to_cloud_ids: list[str]
    sensitivity_too_low: list[str] = Field(description="Ids labelled less sensitive than gold.")
    embedding_share: float = Field(description="Share of decisions that asked the embeddings.")
    results: list[CaseResult]


def _score(label: str, results: list[CaseResult]) -> LabelScore:
    order = _ORDERS[label]
    confusion = {gold: dict.fromkeys(order, 0) for gold in order}
    for result in results:
        confusion[result.gold[label]][result.predicted[label]] += 1
    correct = sum(r.gold[label] == r.predicted[label] for r in results)
    return LabelScore(
        correct=correct,
        total=len(results),
        accuracy=round(correct / len(results), 4) if results else 0.0,
        confusion=confusion,
    )


def evaluate(case: RoutingCase, router: Router) -> CaseResult:
    started = time.perf_counter()
    decision: RouteDecision = router.route(case.question, case.caller())
    latency_ms = (time.perf_counter() - started) * 1000
    gold_provider: Provider = router.policy.choose(
        case.part_types, case.sensitivity, case.complexity, case.role
    ).provider
    return CaseResult(
        id=case.id,
        question=case.question,
        role=case.role,
        gold={
            "query_type": case.query_type,
            "sensitivity": case.sensitivity,
            "complexity": case.complexity,
            "provider": gold_provider,
        },
        predicted={
            "query_type": decision.query_type,
            "sensitivity": decision.sensitivity,
            "complexity": decision.complexity,
            "provider": decision.provider,
        },
        gold_parts=case.part_types,
        predicted_parts=[p.query_type for p in decision.parts],
        reasons=decision.reasons,
        used_embeddings=decision.used_embeddings,
        latency_ms=round(latency_ms, 3),
    )


def run(
    cases: list[RoutingCase],
    router: Router,
    *,
    golden: str = "",
    policy: str = "packaged",
    progress: Callable[[CaseResult], None] | None = None,
) -> RoutingEvalReport:
    """Route every case once and score the labels."""
    results = []
    for case in cases:
        result = evaluate(case, router)
        results.append(result)
        if progress:
            progress(result)
    n = len(results) or 1
    compound = [r for r in results if len(r.gold_parts) > 1]
    leaks = [
        r.id
        for r in results
        if r.gold["sensitivity"] == Sensitivity.CONFIDENTIAL and r.predicted["provider"] == "cloud"
    ]
    return RoutingEvalReport(
        golden=golden,
        questions=len(results),
        policy=policy,
        embeddings=router.classifier is not None,
        evidence=router.evidence is not None,
        labels={label: _score(label, results) for label in LABELS},
        all_three_correct=round(sum(r.correct for r in results) / n, 4),
        parts_correct=round(sum(r.gold_parts == r.predicted_parts for r in results) / n, 4),
        compound_found=(
            f"{sum(r.gold_parts == r.predicted_parts for r in compound)}/{len(compound)}"
        ),
        confidential_to_cloud=len(leaks),
        confidential_to_cloud_ids=leaks,
        sensitivity_too_low=[
            r.id
            for r in results
            if _SEVERITY[r.predicted["sensitivity"]] < _SEVERITY[r.gold["sensitivity"]]
        ],
        embedding_share=round(sum(r.used_embeddings for r in results) / n, 4),
        results=results,
    )
