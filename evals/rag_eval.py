"""Retrieval and answer quality of the document search and the RAG agent on a golden set.

Retrieval, always: hit rate@k (the share of answerable questions with a passage from the gold
document and section in the top k), MRR (mean of 1/rank of the first such passage, 0 when none),
ragas's non-LLM context recall and precision (retrieved passages against the gold section's
passages, by string similarity), how many must-decline questions the relevance threshold turns
away before any model call (and how many answerable ones it wrongly turns away), and leaks: any
passage returned that the asker may not read (must be 0).

Answers, when an agent is given: declines right and wrong, whether the citations point into the
gold section, ragas's non-LLM string similarity to the reference answer, and latency; where the
golden line lists the facts a right answer states, whether it states them (right, and right and
cited); and invented figures: answers writing a number that no passage they cite holds
(`evals.answer_facts`). With a judge model, ragas's LLM-judged faithfulness (is every statement
supported by the passages?) and answer relevancy (does the answer address the question?).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from agents.rag.agent import PassageSearch, RagAgent, Scored
from evals.answer_facts import invented_figures, states_facts
from evals.rag_golden import RagGoldenQuestion
from retrieval.chunks import Chunk

os.environ.setdefault("RAGAS_DO_NOT_TRACK", "true")
log = logging.getLogger(__name__)


def normalise(name: str) -> str:
    """
    >>> normalise("Fee Schedule") == normalise("fee_schedule")
    True
    """
    return re.sub(r"[^a-z0-9]", "", name.lower())


def is_relevant(chunk: Chunk, question: RagGoldenQuestion) -> bool:
    """The chunk comes from the gold document (its title, case and punctuation aside) and, when the
    question names one, the gold section (the whole heading path or its last heading)."""
    if question.source is None or normalise(chunk.title) != normalise(question.source):
        return False
    if question.section is None:
        return True
    wanted = question.section.strip().lower()
    path = (chunk.section or "").strip().lower()
    return path == wanted or path.split(" > ")[-1].strip() == wanted


class RetrievalResult(BaseModel):
    id: str
    question: str
    expect_decline: bool
    rank: int | None = Field(None, description="Rank of the first relevant passage, from 1.")
    retrieved: list[str] = Field(description="Chunk ids, best first.")
    best_similarity: float = 0.0
    best_rerank: float | None = None
    gated: bool = Field(description="The relevance threshold declines it before the model.")
    leaks: int = Field(0, description="Passages returned that the asker may not read.")
    context_recall: float | None = None
    context_precision: float | None = None
    search_ms: float = 0.0


class AnswerResult(BaseModel):
    id: str
    expect_decline: bool
    answer: str
    declined: bool
    reason: str | None = None
    citations: list[str] = Field(default_factory=list, description="Cited chunk ids.")
    cites_gold: bool | None = Field(None, description="A citation points into the gold section.")
    right: bool | None = Field(
        None, description="Answered and states every fact of the golden line (none listed: None)."
    )
    invented: list[str] = Field(
        default_factory=list,
        description="Numbers the answer writes that no cited passage holds nor the question.",
    )
    latency_s: float
    string_similarity: float | None = None
    faithfulness: float | None = None
    answer_relevancy: float | None = None


class RagSummary(BaseModel):
    k: int
    questions: int
    answerable: int
    hit_rate: float = Field(description="Hit rate@k over answerable questions.")
    mrr: float
    context_recall: float | None = Field(None, description="ragas non-LLM context recall.")
    context_precision: float | None = Field(None, description="ragas non-LLM context precision.")
    must_decline: int
    gated_must_decline: float = Field(
        description="Share of must-decline questions declined before any model call."
    )
    gated_answerable: float = Field(
        description="Share of answerable questions the threshold wrongly declines."
    )
    leaks: int = Field(description="Passages returned to an asker who may not read them.")
    search_p50_ms: float
    answered: int | None = None
    correct_declines: float | None = Field(None, description="Must-decline questions declined.")
    false_declines: float | None = Field(None, description="Answerable questions declined.")
    cites_gold: float | None = Field(None, description="Answers citing the gold section.")
    right: float | None = Field(
        None, description="Answerable questions (with facts listed) answered with every fact."
    )
    right_and_cited: float | None = Field(
        None,
        description="Answerable questions (with facts listed) right and citing the gold section.",
    )
    invented_answers: int | None = Field(
        None, description="Answers (not declined) writing a figure no cited passage holds."
    )
    invented_ids: list[str] = Field(default_factory=list)
    by_category: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="Per golden category: questions, right and cited (answerable) or declined "
        "(must decline).",
    )
    string_similarity: float | None = None
    faithfulness: float | None = None
    answer_relevancy: float | None = None
    answer_p50_s: float | None = None


class RagEvalReport(BaseModel):
    golden: str
    documents: int
    chunks: int
    store: str
    rerank: bool
    model: str | None = None
    judge: str | None = None
    summary: RagSummary
    retrieval: list[RetrievalResult]
    answers: list[AnswerResult] = Field(default_factory=list)


# -- retrieval --------------------------------------------------------------------------------
def evaluate_retrieval(
    questions: Sequence[RagGoldenQuestion],
    index: PassageSearch,
    k: int,
    gate: Callable[[Sequence[Scored]], bool],
    progress: Callable[[RetrievalResult], None] | None = None,
) -> list[RetrievalResult]:
    """Search each question as its asker; `gate` is the agent's relevance threshold."""
    results = []
    for question in questions:
        caller = question.caller
        started = time.perf_counter()
        hits = index.search(question.question, caller, k)
        elapsed = (time.perf_counter() - started) * 1000
        rank = next(
            (i for i, hit in enumerate(hits, start=1) if is_relevant(hit.chunk, question)), None
        )
        reranked = [h.rerank_score for h in hits if h.rerank_score is not None]
        result = RetrievalResult(
            id=question.id,
            question=question.question,
            expect_decline=question.expect_decline,
            rank=rank,
            retrieved=[h.chunk.id for h in hits],
            best_similarity=max((h.similarity for h in hits), default=0.0),
            best_rerank=max(reranked) if reranked else None,
            gated=not gate(hits),
            leaks=sum(not h.chunk.access.allows(caller) for h in hits),
            search_ms=round(elapsed, 2),
        )
        results.append(result)
        if progress:
            progress(result)
    return results


def _ragas_metrics() -> dict[str, Any]:
    """ragas 0.4's non-LLM metrics (the legacy classes: the new `collections` API has no
    non-LLM context recall or precision yet); they need `rapidfuzz`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from ragas.metrics import (
            NonLLMContextPrecisionWithReference,
            NonLLMContextRecall,
            NonLLMStringSimilarity,
        )
    return {
        "recall": NonLLMContextRecall(),
        "precision": NonLLMContextPrecisionWithReference(),
        "similarity": NonLLMStringSimilarity(),
    }


async def _context_scores(
    results: list[RetrievalResult],
    questions: Sequence[RagGoldenQuestion],
    chunks: dict[str, Chunk],
) -> None:
    from ragas import SingleTurnSample

    metrics = _ragas_metrics()
    for result, question in zip(results, questions, strict=True):
        reference = [c.text for c in chunks.values() if is_relevant(c, question)]
        if question.expect_decline or not reference:
            continue
        retrieved = [chunks[i].text for i in result.retrieved if i in chunks]
        sample = SingleTurnSample(
            user_input=question.question,
            retrieved_contexts=retrieved or [""],
            reference_contexts=reference,
        )
        result.context_recall = round(await metrics["recall"].single_turn_ascore(sample), 4)
        result.context_precision = round(await metrics["precision"].single_turn_ascore(sample), 4)


def score_contexts(
    results: list[RetrievalResult],
    questions: Sequence[RagGoldenQuestion],
    chunks: Sequence[Chunk],
) -> None:
    """Fill in ragas's non-LLM context recall and precision of each answerable question."""
    asyncio.run(_context_scores(results, questions, {c.id: c for c in chunks}))


# -- answers ----------------------------------------------------------------------------------
async def evaluate_answers(
    questions: Sequence[RagGoldenQuestion],
    agent: RagAgent,
    chunks: Sequence[Chunk],
    progress: Callable[[AnswerResult], None] | None = None,
) -> list[AnswerResult]:
    from ragas import SingleTurnSample

    similarity = _ragas_metrics()["similarity"]
    by_id = {c.id: c for c in chunks}
    results = []
    for question in questions:
        started = time.perf_counter()
        outcome = await agent.answer(question.question, question.caller)
        elapsed = time.perf_counter() - started
        cited = [c.chunk_id for c in outcome.citations]
        result = AnswerResult(
            id=question.id,
            expect_decline=question.expect_decline,
            answer=outcome.answer,
            declined=outcome.declined,
            reason=outcome.reason,
            citations=cited,
            latency_s=round(elapsed, 2),
        )
        if not outcome.declined:
            passages = [by_id[c].text for c in cited if c in by_id]
            result.invented = invented_figures(outcome.answer, passages, question.question)
        if not question.expect_decline:
            result.cites_gold = any(is_relevant(by_id[c], question) for c in cited if c in by_id)
            if question.facts:
                result.right = not outcome.declined and states_facts(outcome.answer, question.facts)
            if question.answer:
                sample = SingleTurnSample(response=outcome.answer, reference=question.answer)
                result.string_similarity = round(await similarity.single_turn_ascore(sample), 4)
        results.append(result)
        if progress:
            progress(result)
    return results


async def judge_answers(
    answers: list[AnswerResult],
    questions: Sequence[RagGoldenQuestion],
    retrieved: dict[str, list[str]],
    judge_llm: Any,
    embeddings: Any,
) -> None:
    """ragas's LLM-judged faithfulness and answer relevancy of every answer not declined
    (`judge_llm`: a LangChain chat model; `embeddings`: LangChain embeddings)."""
    from ragas import SingleTurnSample
    from ragas.embeddings import LangchainEmbeddingsWrapper
    from ragas.llms import LangchainLLMWrapper

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from ragas.metrics import Faithfulness, ResponseRelevancy

        llm = LangchainLLMWrapper(judge_llm)
        faithfulness = Faithfulness(llm=llm)
        relevancy = ResponseRelevancy(
            llm=llm, embeddings=LangchainEmbeddingsWrapper(embeddings), strictness=1
        )
    texts = dict(zip([q.id for q in questions], questions, strict=True))
    for answer in answers:
        if answer.declined:
            continue
        sample = SingleTurnSample(
            user_input=texts[answer.id].question,
            response=answer.answer,
            retrieved_contexts=retrieved.get(answer.id) or [""],
        )
        for name, metric in (("faithfulness", faithfulness), ("answer_relevancy", relevancy)):
            try:
                value = await metric.single_turn_ascore(sample)
            except Exception as exc:  # a small judge model may not produce ragas's JSON
                log.warning("%s of %s failed: %s", name, answer.id, exc)
                continue
            if value == value:  # NaN when the judge's reply could not be used
                setattr(answer, name, round(float(value), 4))


# -- summary ----------------------------------------------------------------------------------
def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return round(statistics.fmean(present), 4) if present else None


def _share(flags: Sequence[bool]) -> float:
    return round(sum(flags) / len(flags), 4) if flags else 0.0


def _by_category(
    questions: Sequence[RagGoldenQuestion], answers: list[AnswerResult]
) -> dict[str, dict[str, float]]:
    """Per category: how many, and the share right and cited (answerable questions with facts)
    or declined (must-decline questions)."""
    categories: dict[str, list[tuple[RagGoldenQuestion, AnswerResult]]] = {}
    for question, answer in zip(questions, answers, strict=True):
        categories.setdefault(question.category, []).append((question, answer))
    table = {}
    for name, pairs in sorted(categories.items()):
        row: dict[str, float] = {"questions": len(pairs)}
        checked = [a for q, a in pairs if not q.expect_decline and a.right is not None]
        if checked:
            row["right_and_cited"] = _share([bool(a.right and a.cites_gold) for a in checked])
        declining = [a for q, a in pairs if q.expect_decline]
        if declining:
            row["declined"] = _share([a.declined for a in declining])
        table[name] = row
    return table


def summarise(
    k: int,
    retrieval: list[RetrievalResult],
    answers: list[AnswerResult] | None = None,
    questions: Sequence[RagGoldenQuestion] = (),
) -> RagSummary:
    answerable = [r for r in retrieval if not r.expect_decline]
    declining = [r for r in retrieval if r.expect_decline]
    summary = RagSummary(
        k=k,
        questions=len(retrieval),
        answerable=len(answerable),
        hit_rate=_share([r.rank is not None and r.rank <= k for r in answerable]),
        mrr=round(statistics.fmean([1 / r.rank if r.rank else 0.0 for r in answerable]), 4)
        if answerable
        else 0.0,
        context_recall=_mean([r.context_recall for r in answerable]),
        context_precision=_mean([r.context_precision for r in answerable]),
        must_decline=len(declining),
        gated_must_decline=_share([r.gated for r in declining]),
        gated_answerable=_share([r.gated for r in answerable]),
        leaks=sum(r.leaks for r in retrieval),
        search_p50_ms=round(statistics.median([r.search_ms for r in retrieval]), 2)
        if retrieval
        else 0.0,
    )
    if answers:
        ok = [a for a in answers if not a.expect_decline]
        no = [a for a in answers if a.expect_decline]
        summary.answered = sum(not a.declined for a in answers)
        summary.correct_declines = _share([a.declined for a in no])
        summary.false_declines = _share([a.declined for a in ok])
        summary.cites_gold = _share([bool(a.cites_gold) for a in ok if not a.declined])
        checked = [a for a in ok if a.right is not None]
        if checked:
            summary.right = _share([bool(a.right) for a in checked])
            summary.right_and_cited = _share([bool(a.right and a.cites_gold) for a in checked])
        summary.invented_ids = [a.id for a in answers if a.invented]
        summary.invented_answers = len(summary.invented_ids)
        if questions:
            summary.by_category = _by_category(questions, answers)
        summary.string_similarity = _mean([a.string_similarity for a in ok])
        summary.faithfulness = _mean([a.faithfulness for a in answers])
        summary.answer_relevancy = _mean([a.answer_relevancy for a in answers])
        summary.answer_p50_s = round(statistics.median([a.latency_s for a in answers]), 2)
    return summary


# -- wiring -----------------------------------------------------------------------------------
class EmbedderEmbeddings:
    """LangChain's embeddings interface over the platform's Embedder (for ragas's judge)."""

    def __init__(self, embedder: Any):
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.embedder.embed(texts).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed([text])[0].tolist()

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        return await asyncio.to_thread(self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        return await asyncio.to_thread(self.embed_query, text)
