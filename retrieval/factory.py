"""Build the document index the settings describe: FAISS files or Qdrant, under var/index/.

Layout of `<VAR_DIR>/index/`: `embeddings.sqlite` (chunk vectors by content hash, shared by every
index built here), `faiss/` or `qdrant/` (the saved generations: chunk metadata, and the FAISS
files or the name of the current Qdrant collection), and `qdrant-data/` (Qdrant's local mode
storage, when no QDRANT_URL is set).
"""

from __future__ import annotations

from pathlib import Path

from retrieval.embeddings import Embedder
from retrieval.faiss_store import FaissStore
from retrieval.index import DocumentIndex
from retrieval.qdrant_store import QdrantStore
from retrieval.rerank import CrossEncoderReranker, Reranker
from retrieval.vector_cache import TextEmbedder, VectorCache
from retrieval.vector_store import VectorStore
from services.settings import Settings

EMBEDDING_CACHE = "embeddings.sqlite"


def index_folder(settings: Settings) -> Path:
    return settings.var_dir / "index"


def vector_cache(settings: Settings, dimension: int) -> VectorCache:
    return VectorCache(index_folder(settings) / EMBEDDING_CACHE, dimension)


def make_store(settings: Settings, dimension: int) -> VectorStore:
    if settings.vector_store == "qdrant":
        if settings.qdrant_url:
            return QdrantStore(dimension, url=settings.qdrant_url)
        return QdrantStore(dimension, path=index_folder(settings) / "qdrant-data")
    return FaissStore(dimension, hnsw_threshold=settings.faiss_hnsw_threshold)


def open_document_index(
    settings: Settings,
    embedder: TextEmbedder | None = None,
    *,
    reranker: Reranker | None = None,
) -> DocumentIndex:
    """The platform's index, reopened from its last saved generation (empty the first time).
    With RAG_RERANK set and no `reranker` given, the bundled cross-encoder reorders results."""
    embedder = embedder or Embedder()
    dimension = embedder.dimension
    store = make_store(settings, dimension)
    if reranker is None and settings.rag_rerank:
        reranker = CrossEncoderReranker()
    return DocumentIndex(
        store,
        embedder,
        root=index_folder(settings) / ("qdrant" if store.kind == "qdrant" else "faiss"),
        vector_cache=vector_cache(settings, dimension),
        reranker=reranker,
        top_k=settings.rag_top_k,
    )
