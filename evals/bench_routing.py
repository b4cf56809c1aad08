"""How fast the router decides, next to the embedding classifier alone on the same questions.

Every round routes each golden question twice with the router's embedding cache emptied first:
the first call is *cold* (what a new question costs: rules, and the embedding classifier when
the rules are unsure), the second *warm* (a repeated question, answered from the cache). The
*baseline* is the embedding classifier alone on the same question with no rules and no cache.
The three are interleaved per question and each keeps its fastest round, so a busy machine
slows them alike (this one has two cores shared with other work; one-off stalls of hundreds of
milliseconds in the model runtime are common). The embedding model, and its runtime's first pass
over each input length, are warmed on the seed utterances before anything is timed, so no
golden question is ever cached by the embedder. Budget: a routing decision without a model call
takes at most 5 ms at the median of the cold calls.

The router names instruments by the demo's symbols, which the golden sets were written
against, and the vocabulary (`vocabulary`, default the packaged one).

With `settings` the router also weighs evidence (`agents.routing.evidence`): a search of the demo
documents and a match against the schema for every clause, as `eval routing` does. Its embedder
then remembers vectors as the platform's does (a text embedded once per request, however many
parts of the router ask), and forgets them before every cold call.

    trading-assist bench routing [--golden FILE] [--rounds 5] [--budget-ms 5] [--rules-only]
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from contextlib import ExitStack
from functools import partial

import numpy as np
from pydantic import BaseModel, Field

from agents.routing.classifier import EmbeddingClassifier, TextEmbedder, load_examples
from agents.routing.policy import RoutingPolicy
from agents.routing.router import Router
from agents.routing.vocabulary import RoutingVocabulary
from evals.routing_eval import RoutingCase, demo_evidence
from services.demo_data.market import SYMBOLS
from services.settings import Settings

BUDGET_MS = 5.0


class Latency(BaseModel):
    p50_ms: float
    p95_ms: float
    mean_ms: float
    max_ms: float


class RoutingBenchReport(BaseModel):
    questions: int
    rounds: int
    embeddings: bool = Field(description="The router had the embedding classifier.")
    evidence: bool = Field(False, description="The router weighed documents and schema.")
    cold: Latency = Field(description="Routing with the embedding cache empty, best round.")
    warm: Latency = Field(description="Routing again right after, from the cache, best round.")
    embedding_share: float = Field(description="Share of questions the rules were unsure of.")
    baseline: Latency = Field(description="The embedding classifier alone, uncached, best round.")
    ratio: float = Field(description="Cold router p50 over baseline p50.")
    budget_ms: float
    within_budget: bool = Field(description="Cold p50 is within the budget.")


def latency(samples_ms: Sequence[float]) -> Latency:
    """
    >>> latency([1.0, 2.0, 3.0, 4.0]).p50_ms
    2.5
    """
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return Latency(
        p50_ms=round(statistics.median(ordered), 3),
        p95_ms=round(p95, 3),
        mean_ms=round(statistics.fmean(ordered), 3),
        max_ms=round(ordered[-1], 3),
    )


class _Uncached:
    """An embedder that computes every vector afresh: the baseline pays for each one. With
    `remember`, a text's vector is kept until `clear()`, as within one request."""

    def __init__(self, model, *, remember: bool = False):  # noqa: ANN001 - a SentenceTransformer
        self.model = model
        self.remember = remember
        self.memo: dict[str, np.ndarray] = {}

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def clear(self) -> None:
        self.memo.clear()

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(
            texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        ).astype(np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not self.remember:
            return self._encode(list(texts))
        missing = [t for t in dict.fromkeys(texts) if t not in self.memo]
        if missing:
            self.memo.update(zip(missing, self._encode(missing), strict=True))
        return np.stack([self.memo[t] for t in texts])


def _timed(call, argument) -> float:  # noqa: ANN001
    started = time.perf_counter()
    call(argument)
    return (time.perf_counter() - started) * 1000


def run(
    cases: list[RoutingCase],
    policy: RoutingPolicy,
    embedder: TextEmbedder,
    *,
    model=None,  # noqa: ANN001 - the SentenceTransformer behind `embedder`
    use_embeddings: bool = True,
    rounds: int = 5,
    budget_ms: float = BUDGET_MS,
    settings: Settings | None = None,
    vocabulary: RoutingVocabulary | None = None,
) -> RoutingBenchReport:
    """Time the router (cold and warm) and the embedding classifier alone; see the module
    docstring. With `model`, both embed through it directly, so the embedder's own cache of
    vectors plays no part. With `settings` (and embeddings) the router weighs evidence."""
    if not cases:
        raise ValueError("no questions to route")
    routing_embedder = embedder
    if model is not None:
        embedder = _Uncached(model)
        routing_embedder = _Uncached(model, remember=True)
        for example in load_examples():  # the runtime's first pass over each input length
            embedder.embed([example.text])
    with ExitStack() as stack:
        evidence = None
        if settings is not None and use_embeddings:
            evidence = stack.enter_context(demo_evidence(routing_embedder, settings))
        router = Router(
            policy,
            routing_embedder if use_embeddings else None,
            evidence,
            vocabulary=vocabulary,
            symbols=SYMBOLS,
        )
        return _timings(cases, router, embedder, routing_embedder, rounds, budget_ms)


def _timings(
    cases: list[RoutingCase],
    router: Router,
    embedder: TextEmbedder,
    routing_embedder: TextEmbedder,
    rounds: int,
    budget_ms: float,
) -> RoutingBenchReport:
    baseline = EmbeddingClassifier(embedder, cache_size=0)
    baseline.warm_up()
    if router.classifier is not None:
        router.classifier.warm_up()
    callers = [case.caller() for case in cases]
    used = sum(
        router.route(c.question, caller).used_embeddings
        for c, caller in zip(cases, callers, strict=True)
    )
    cold, warm, base = ([float("inf")] * len(cases) for _ in range(3))
    for _ in range(rounds):
        if router.classifier is not None:
            router.classifier.clear()
        for index, (case, caller) in enumerate(zip(cases, callers, strict=True)):
            route = partial(router.route, caller=caller)
            if isinstance(routing_embedder, _Uncached):
                routing_embedder.clear()
            cold[index] = min(cold[index], _timed(route, case.question))
            warm[index] = min(warm[index], _timed(route, case.question))
            base[index] = min(base[index], _timed(baseline.vote, case.question))
    cold_latency, base_latency = latency(cold), latency(base)
    return RoutingBenchReport(
        questions=len(cases),
        rounds=rounds,
        embeddings=router.classifier is not None,
        evidence=router.evidence is not None,
        cold=cold_latency,
        warm=latency(warm),
        embedding_share=round(used / len(cases), 4),
        baseline=base_latency,
        ratio=round(cold_latency.p50_ms / max(base_latency.p50_ms, 1e-9), 4),
        budget_ms=budget_ms,
        within_budget=cold_latency.p50_ms <= budget_ms,
    )
