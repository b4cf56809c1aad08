"""A throwaway search index over a folder of Markdown documents, for evaluations.

It is the platform's `DocumentIndex` (same fusion, same access control, same stores), held in
memory instead of var/index/, and it shares the platform's vector cache, so documents embedded
once are never embedded again, by an eval or by the platform.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from evals.doc_chunks import SourceDocument
from retrieval.factory import vector_cache
from retrieval.faiss_store import FaissStore
from retrieval.index import DocumentIndex
from retrieval.qdrant_store import QdrantStore
from retrieval.rerank import CrossEncoderReranker
from retrieval.vector_cache import TextEmbedder
from services.settings import Settings


@contextmanager
def eval_index(
    documents: list[SourceDocument],
    settings: Settings,
    embedder: TextEmbedder,
    *,
    store: str = "faiss",
    rerank: bool = False,
) -> Iterator[DocumentIndex]:
    dimension = embedder.dimension
    workdir = Path(tempfile.mkdtemp(prefix="rag-eval-"))
    if store == "qdrant":
        vectors = QdrantStore(
            dimension, url=settings.qdrant_url, path=workdir / "qdrant", collection="rag-eval"
        )
    else:
        vectors = FaissStore(dimension, hnsw_threshold=settings.faiss_hnsw_threshold)
    cache = vector_cache(settings, dimension)
    index = DocumentIndex(
        vectors,
        embedder,
        vector_cache=cache,
        reranker=CrossEncoderReranker() if rerank else None,
        top_k=settings.rag_top_k,
    )
    try:
        chunks = [c for d in documents for c in d.chunks]
        index.rebuild(chunks, doc_types={d.document_id: d.doc_type for d in documents})
        yield index
    finally:
        if isinstance(vectors, QdrantStore):
            vectors.drop()
        vectors.close()
        cache.close()
        shutil.rmtree(workdir, ignore_errors=True)
