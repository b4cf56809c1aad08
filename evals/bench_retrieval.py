"""How fast retrieval is: embedding throughput, hybrid query latency, HNSW recall, ingestion.

    trading-assist bench retrieval [--sizes 10000,100000] [--queries 200] [--json]

1. Embedding: the platform's `Embedder` beside a bare `SentenceTransformer.encode` of the same
   texts on the same model, in interleaved rounds (each round's texts are new to the Embedder's
   cache, so both sides really embed); the best round of each counts. Target: ratio >= 0.9.
2. Hybrid query p50 at each size, *including the query's embedding*: `DocumentIndex.search` as
   a customer (10% of the documents are internal, so the access selector is active) with real
   questions (TAT-QA's and the demo golden set's), each asked once. Targets: 15 ms at 10k chunks,
   30 ms at 100k. The chunks are synthetic: real paragraphs (TAT-QA, the demo documents), each
   combined with a sentence of another, and their vectors are perturbed real embeddings (0.85 of
   the paragraph's vector, 0.35 of the other's, Gaussian noise, normalised). Embedding 100k
   texts would take about 50 minutes on two cores and measure the embedder, not the index; the
   real embeddings (about 1,300) and the synthetic vectors are cached under var/bench/retrieval/,
   so a second run starts in seconds. The largest size is timed a second time as an HNSW
   index, the shape FAISS takes above FAISS_HNSW_THRESHOLD.
3. HNSW recall@10 against exact search, on the largest size's vectors with real query
   embeddings. Target: >= 0.95.
4. Ingestion pages/s for PDF and DOCX: ingestion's converter and chunker on the demo documents
   (see `measure_ingestion`).
"""

from __future__ import annotations

import json
import logging
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from evals.convert_tatqa import DEV_FILE, TATQA
from evals.doc_chunks import read_documents
from evals.rag_golden import DEMO_DOCS, load_rag_golden
from retrieval.chunks import Chunk, DocumentAccess, Visibility
from retrieval.embeddings import Embedder
from retrieval.faiss_store import FaissStore
from retrieval.index import DocumentIndex, passage_text
from retrieval.vector_cache import VectorCache, content_key, embed_cached
from services.identity import Caller

EMBED_RATIO_TARGET = 0.9
LATENCY_TARGETS_MS = {10_000: 15.0, 100_000: 30.0}
RECALL_TARGET = 0.95
CHUNKS_PER_DOCUMENT = 10
SYNTHETIC_NOTE = (
    "chunk texts are real paragraphs recombined; chunk vectors are perturbed real embeddings "
    "(not embedded one by one); query embeddings are real and timed"
)


class EmbeddingTiming(BaseModel):
    texts: int
    rounds: int
    embedder_per_s: float
    raw_per_s: float = Field(description="SentenceTransformer.encode alone.")
    ratio: float
    within: bool


class QueryTiming(BaseModel):
    size: int
    store: str
    build_s: float
    queries: int
    p50_ms: float
    p95_ms: float
    embed_p50_ms: float = Field(description="The query embedding alone, for comparison.")
    target_ms: float | None
    within: bool | None


class RecallResult(BaseModel):
    size: int
    queries: int
    recall_at_10: float
    hnsw_m: int
    ef_search: int
    build_s: float
    within: bool


class IngestionTiming(BaseModel):
    format: str
    files: int
    pages: int
    seconds: float
    pages_per_s: float


class RetrievalBenchReport(BaseModel):
    embedding: EmbeddingTiming
    queries: list[QueryTiming]
    hnsw: RecallResult | None
    ingestion: list[IngestionTiming] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)

    @property
    def within_targets(self) -> bool:
        checks = [self.embedding.within] + [q.within for q in self.queries if q.within is not None]
        if self.hnsw:
            checks.append(self.hnsw.within)
        return all(checks)


# -- corpus -----------------------------------------------------------------------------------
def real_texts(limit: int = 2000) -> list[str]:
    """Paragraphs to build from: TAT-QA's (when the shared data is there) and the demo docs'."""
    texts = [c.text for d in read_documents() for c in d.chunks]
    dataset = TATQA / DEV_FILE
    if dataset.exists():
        for context in json.loads(dataset.read_text(encoding="utf-8")):
            texts += [p["text"].strip() for p in context["paragraphs"] if len(p["text"]) > 80]
    unique = list(dict.fromkeys(texts))
    return unique[:limit]


def real_queries(limit: int) -> list[str]:
    questions = [q.question for q in load_rag_golden(DEMO_DOCS)]
    dataset = TATQA / DEV_FILE
    if dataset.exists():
        for context in json.loads(dataset.read_text(encoding="utf-8")):
            questions += [q["question"] for q in context["questions"]]
    return list(dict.fromkeys(questions))[:limit]


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]


def synthetic_chunks(
    size: int, base: list[str], base_vectors: np.ndarray, seed: int = 0
) -> tuple[list[Chunk], np.ndarray]:
    """`size` chunks and their vectors, deterministic for a given seed and base."""
    count = len(base)
    rng = np.random.default_rng(seed)
    rows = np.arange(size)
    first = rows % count
    second = (first * 7 + rows // count + 1) % count
    vectors = 0.85 * base_vectors[first] + 0.35 * base_vectors[second]
    vectors += rng.normal(scale=0.02, size=vectors.shape).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    public, internal = DocumentAccess(visibility=Visibility.PUBLIC), DocumentAccess()
    chunks = []
    for i in range(size):
        document = i // CHUNKS_PER_DOCUMENT
        chunks.append(
            Chunk(
                id=f"{document}:1:{i % CHUNKS_PER_DOCUMENT}",
                document_id=document,
                version=1,
                ordinal=i % CHUNKS_PER_DOCUMENT,
                title=f"Synthetic report {document}",
                section=f"Part {i % CHUNKS_PER_DOCUMENT + 1}",
                start=0,
                end=0,
                text=f"{base[first[i]]} {_first_sentence(base[second[i]])}",
                access=internal if document % 10 == 0 else public,
            )
        )
    return chunks, vectors.astype(np.float32)


# -- measurements -----------------------------------------------------------------------------
def measure_embedding(embedder: Embedder, texts: list[str], rounds: int) -> EmbeddingTiming:
    model = embedder.model
    model.encode(texts[:8], show_progress_bar=False)  # warm-up: neither side pays for it
    best = {"raw": float("inf"), "embedder": float("inf")}
    for number in range(rounds):
        batch = [f"{t} ({number})" for t in texts]  # new to the Embedder's cache each round
        sides: dict[str, Callable[[], object]] = {
            "raw": lambda b=batch: model.encode(
                b,
                batch_size=embedder.batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            ),
            "embedder": lambda b=batch: embedder.embed(b),
        }
        order = ["raw", "embedder"] if number % 2 == 0 else ["embedder", "raw"]
        for side in order:
            started = time.perf_counter()
            sides[side]()
            best[side] = min(best[side], time.perf_counter() - started)
    ratio = best["raw"] / best["embedder"]
    return EmbeddingTiming(
        texts=len(texts),
        rounds=rounds,
        embedder_per_s=round(len(texts) / best["embedder"], 1),
        raw_per_s=round(len(texts) / best["raw"], 1),
        ratio=round(ratio, 3),
        within=ratio >= EMBED_RATIO_TARGET,
    )


def _cache_vectors(cache: VectorCache, chunks: list[Chunk], vectors: np.ndarray) -> None:
    """Put the synthetic vectors where `DocumentIndex.rebuild` looks for them."""
    keys = [content_key(passage_text(c)) for c in chunks]
    present = cache.get(keys)
    missing = {k: v for k, v in zip(keys, vectors, strict=True) if k not in present}
    for start in range(0, len(missing), 20_000):
        cache.put(dict(list(missing.items())[start : start + 20_000]))


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure_queries(
    size: int,
    chunks: list[Chunk],
    embedder: Embedder,
    cache: VectorCache,
    queries: list[str],
    hnsw_threshold: int,
) -> QueryTiming:
    store = FaissStore(embedder.dimension, hnsw_threshold=hnsw_threshold)
    index = DocumentIndex(store, embedder, vector_cache=cache)
    started = time.perf_counter()
    index.rebuild(chunks)
    build = time.perf_counter() - started
    caller = Caller(user_id=1)
    for query in queries[:10]:  # warm-up: first calls pay for lazy set-up
        index.search(f"{query} (warm-up {id(index)})", caller, 5)
    timings = []
    for query in queries[10:]:
        started = time.perf_counter()
        index.search(query, caller, 5)
        timings.append((time.perf_counter() - started) * 1000)
    embed_timings = []
    for query in queries[10:60]:
        started = time.perf_counter()
        embedder.embed([f"{query} (alone {id(index)})"])  # a text not embedded before
        embed_timings.append((time.perf_counter() - started) * 1000)
    target = LATENCY_TARGETS_MS.get(size)
    p50 = statistics.median(timings)
    return QueryTiming(
        size=size,
        store=store.kind,
        build_s=round(build, 1),
        queries=len(timings),
        p50_ms=round(p50, 2),
        p95_ms=round(_percentile(timings, 0.95), 2),
        embed_p50_ms=round(statistics.median(embed_timings), 2),
        target_ms=target,
        within=None if target is None else p50 <= target,
    )


def measure_hnsw_recall(
    vectors: np.ndarray, queries: np.ndarray, m: int = 32, ef_search: int = 256
) -> RecallResult:
    ids = np.arange(len(vectors), dtype=np.int64)
    exact = FaissStore(vectors.shape[1], hnsw_threshold=len(vectors) + 1)
    exact.add(ids, vectors)
    started = time.perf_counter()
    graph = FaissStore(vectors.shape[1], hnsw_threshold=0, hnsw_m=m, ef_search=ef_search)
    graph.reset(ids, vectors)
    build = time.perf_counter() - started
    overlaps = []
    for query in queries:
        truth = {row for row, _ in exact.search(query, 10)}
        found = {row for row, _ in graph.search(query, 10)}
        overlaps.append(len(truth & found) / 10)
    recall = statistics.fmean(overlaps)
    return RecallResult(
        size=len(vectors),
        queries=len(queries),
        recall_at_10=round(recall, 4),
        hnsw_m=m,
        ef_search=ef_search,
        build_s=round(build, 1),
        within=recall >= RECALL_TARGET,
    )


def measure_ingestion(
    work_dir: Path, rounds: int = 2, max_chars: int = 1200, overlap_chars: int = 150
) -> tuple[list[IngestionTiming], str | None]:
    """Pages/s of ingestion's conversion and chunking (`retrieval.convert.Converter` and
    `retrieval.chunking.split`, docling underneath) on the five demo documents published as
    PDF and as DOCX. Embedding is timed above and the database write is small beside these, so
    they are left out. A DOCX has no fixed pages: its pages are counted at 3,000 characters of
    text each. The best of `rounds` rounds counts; the first conversion loads docling first."""
    try:
        from retrieval.chunking import split
        from retrieval.convert import Converter
    except ImportError:
        return [], "ingestion pages/s not measured: retrieval.convert is not available"
    from datetime import datetime

    from services.demo_data.company_docs import load_sources, render_docx, render_pdf

    logging.getLogger("docling").setLevel(logging.WARNING)  # one INFO line per conversion
    folder = Path(work_dir) / "ingest-files"
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[Path]] = {"pdf": [], "docx": []}
    for doc in load_sources():
        pdf, docx = folder / f"{doc.slug}.pdf", folder / f"{doc.slug}.docx"
        render_pdf(doc, pdf, datetime(2026, 1, 1))
        render_docx(doc, docx)
        files["pdf"].append(pdf)
        files["docx"].append(docx)
    converter = Converter()
    converter.convert(files["pdf"][0].read_bytes(), files["pdf"][0].name)  # loads docling
    converter.convert(files["docx"][0].read_bytes(), files["docx"][0].name)
    timings = []
    for kind, paths in files.items():
        best, pages = float("inf"), 0
        for _ in range(rounds):
            started, counted = time.perf_counter(), 0
            for path in paths:
                text = converter.convert(path.read_bytes(), path.name)
                split(text, max_chars, overlap_chars)
                counted += text.pages or max(1, round(len(text.text) / 3000))
            best, pages = min(best, time.perf_counter() - started), counted
        timings.append(
            IngestionTiming(
                format=kind,
                files=len(paths),
                pages=pages,
                seconds=round(best, 2),
                pages_per_s=round(pages / best, 2),
            )
        )
    return timings, "ingestion: conversion and chunking only; DOCX pages = text length / 3,000"


# -- the run ----------------------------------------------------------------------------------
def run(
    work_dir: Path,
    sizes: list[int],
    queries: int = 200,
    embed_texts: int = 128,
    rounds: int = 3,
    hnsw_threshold: int = 100_000,
    recall: bool = True,
    paragraphs: int = 2000,
    ingest: bool = True,
    log: Callable[[str], None] = lambda _message: None,
) -> RetrievalBenchReport:
    embedder = Embedder()
    texts = real_texts(paragraphs)
    log(f"embedding throughput on {embed_texts} texts, {rounds} rounds")
    embedding = measure_embedding(embedder, texts[:embed_texts], rounds)
    cache = VectorCache(Path(work_dir) / "embeddings.sqlite", embedder.dimension)
    try:
        log(f"embedding {len(texts)} real paragraphs (cached after the first run)")
        base_vectors = embed_cached(texts, embedder, cache)
        asked = real_queries(queries + 10)
        timings = []
        largest: np.ndarray | None = None
        largest_chunks: list[Chunk] = []
        for size in sizes:
            log(f"building {size:,} synthetic chunks")
            chunks, vectors = synthetic_chunks(size, texts, base_vectors)
            _cache_vectors(cache, chunks, vectors)
            fresh = [f"{q} ({size:,})" for q in asked]  # never embedded before: no cache hit
            timings.append(measure_queries(size, chunks, embedder, cache, fresh, hnsw_threshold))
            log(f"  p50 {timings[-1].p50_ms} ms ({timings[-1].store})")
            largest, largest_chunks = vectors, chunks
        hnsw = None
        if recall and largest is not None and timings[-1].store == "faiss-flat":
            size = len(largest)
            log(f"the same {size:,} chunks in HNSW")
            fresh = [f"{q} ({size:,}, HNSW)" for q in asked]
            timings.append(measure_queries(size, largest_chunks, embedder, cache, fresh, size - 1))
            log(f"  p50 {timings[-1].p50_ms} ms ({timings[-1].store})")
        if recall and largest is not None:
            log(f"HNSW recall@10 on {len(largest):,} vectors")
            query_vectors = embedder.embed(asked[:200])
            hnsw = measure_hnsw_recall(largest, query_vectors)
    finally:
        cache.close()
    ingestion, ingestion_note = measure_ingestion(work_dir) if ingest else ([], None)
    notes = [SYNTHETIC_NOTE] + ([ingestion_note] if ingestion_note else [])
    return RetrievalBenchReport(
        embedding=embedding, queries=timings, hnsw=hnsw, ingestion=ingestion, notes=notes
    )
