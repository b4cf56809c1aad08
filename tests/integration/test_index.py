"""The hybrid document index on the demo documents, with the real embedding model: FAISS flat
and HNSW, Qdrant local mode, persistence and crash-safe saves, access control, replace/delete."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from evals.doc_chunks import SourceDocument, read_documents
from evals.rag_golden import DEMO_DOCS, load_rag_golden
from retrieval.chunks import Chunk, ChunkIndex, DocumentAccess, Visibility
from retrieval.embeddings import Embedder
from retrieval.faiss_store import FaissStore
from retrieval.index import DocumentIndex, SearchFilters, passage_text
from retrieval.index_files import CURRENT, current_generation
from retrieval.qdrant_store import QdrantStore
from retrieval.rerank import CrossEncoderReranker
from retrieval.vector_cache import VectorCache
from services.identity import Caller, Role

CUSTOMER = Caller(user_id=42)
SUPPORT = Caller(user_id=70, role=Role.SUPPORT)
DIM = 384


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def documents() -> list[SourceDocument]:
    return read_documents()


@pytest.fixture(scope="module")
def cache_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache") / "embeddings.sqlite"


def fill(index: DocumentIndex, documents: list[SourceDocument]) -> None:
    for doc in documents:
        index.replace_document(doc.document_id, list(doc.chunks), doc_type=doc.doc_type)


@pytest.fixture(scope="module")
def flat_index(embedder, documents, cache_path) -> DocumentIndex:
    index = DocumentIndex(
        FaissStore(DIM), embedder, vector_cache=VectorCache(cache_path, DIM), candidates=50
    )
    fill(index, documents)
    return index


def aml(documents: list[SourceDocument]) -> SourceDocument:
    return next(d for d in documents if d.stem == "aml_policy")


def section_of(hits) -> str:
    return hits[0].chunk.section.split(" > ")[-1]


# -- search quality and the stores ------------------------------------------------------------
def test_hybrid_search_finds_the_section_that_answers(flat_index):
    hits = flat_index.search("How much does an international wire withdrawal cost?", CUSTOMER)
    assert section_of(hits) == "Deposits and withdrawals"
    assert hits[0].keyword_score and hits[0].similarity > 0.4
    assert len(hits) == 5 and hits == sorted(hits, key=lambda h: -h.score)


def test_faiss_switches_to_hnsw_above_the_threshold(embedder, documents, cache_path):
    store = FaissStore(DIM, hnsw_threshold=20)
    index = DocumentIndex(store, embedder, vector_cache=VectorCache(cache_path, DIM))
    fill(index, documents[:1])  # the AML policy: 7 chunks
    assert store.kind == "faiss-flat"
    fill(index, documents[1:])  # 36 chunks in all
    assert store.kind == "faiss-hnsw" and len(store) == 36
    hits = index.search("When do US equity trades settle?", CUSTOMER)
    assert section_of(hits) == "Settlement"


def test_hnsw_deletes_are_tombstoned_then_compacted():
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(200, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = FaissStore(DIM, hnsw_threshold=100)
    store.add(np.arange(200), vectors)
    assert store.kind == "faiss-hnsw"
    store.remove([5])
    assert 5 not in {row for row, _ in store.search(vectors[5], 10)}
    assert 5 not in store.row_ids() and len(store) == 199
    store.remove(range(10, 60))  # past a fifth of the graph: rebuilt without them
    assert len(store) == 149 and store.row_ids() == set(range(200)) - {5} - set(range(10, 60))
    assert store.search(vectors[100], 1)[0][0] == 100


def test_faiss_and_qdrant_give_the_same_top_results(embedder, documents, cache_path, tmp_path):
    cache = VectorCache(cache_path, DIM)
    faiss_index = DocumentIndex(FaissStore(DIM), embedder, vector_cache=cache)
    qdrant = QdrantStore(DIM, path=tmp_path / "qdrant")
    qdrant_index = DocumentIndex(qdrant, embedder, vector_cache=cache)
    fill(faiss_index, documents)
    fill(qdrant_index, documents)
    questions = [q for q in load_rag_golden(DEMO_DOCS)]
    for question in questions:
        for caller in (CUSTOMER, SUPPORT):
            a = faiss_index.search(question.question, caller, 5)
            b = qdrant_index.search(question.question, caller, 5)
            assert [h.chunk.id for h in a] == [h.chunk.id for h in b], question.id
            assert [h.similarity for h in a] == pytest.approx([h.similarity for h in b], abs=1e-4)
    # and the stores alone agree on raw nearest neighbours
    query = embedder.embed(["margin call"])[0]
    assert [r for r, _ in faiss_index.store.search(query, 10)] == [
        r for r, _ in qdrant.search(query, 10)
    ]
    qdrant.close()


def test_qdrant_local_persists_and_reopens(embedder, documents, cache_path, tmp_path):
    def open_index() -> DocumentIndex:
        store = QdrantStore(DIM, path=tmp_path / "qdrant-data")
        cache = VectorCache(cache_path, DIM)
        return DocumentIndex(store, embedder, root=tmp_path / "qdrant", vector_cache=cache)

    index = open_index()
    fill(index, documents)
    before = [h.chunk.id for h in index.search("What is a stop order?", CUSTOMER)]
    index.store.close()
    reopened = open_index()
    assert len(reopened) == 36
    assert [h.chunk.id for h in reopened.search("What is a stop order?", CUSTOMER)] == before
    reopened.store.close()


# -- files ------------------------------------------------------------------------------------
def test_faiss_index_persists_beside_its_chunk_metadata(embedder, documents, cache_path, tmp_path):
    root = tmp_path / "faiss"
    index = DocumentIndex(
        FaissStore(DIM), embedder, root=root, vector_cache=VectorCache(cache_path, DIM)
    )
    fill(index, documents)
    generation = current_generation(root)
    assert {p.name for p in generation.iterdir()} == {
        "chunks.jsonl",
        "index.json",
        "vectors.faiss",
        "faiss.json",
    }
    assert [p.name for p in root.iterdir() if p.name.startswith("gen-")] == [generation.name]
    reopened = DocumentIndex(FaissStore(DIM), embedder, root=root)
    assert len(reopened) == 36 and reopened.store.row_ids() == index.store.row_ids()
    query = "How long are identity documents kept?"
    assert [h.chunk.id for h in reopened.search(query, SUPPORT)] == [
        h.chunk.id for h in index.search(query, SUPPORT)
    ]


def test_a_reader_process_picks_up_what_a_writer_saved(embedder, documents, cache_path, tmp_path):
    root = tmp_path / "faiss"
    writer = DocumentIndex(
        FaissStore(DIM), embedder, root=root, vector_cache=VectorCache(cache_path, DIM)
    )
    fill(writer, documents[:2])
    reader = DocumentIndex(FaissStore(DIM), embedder, root=root)
    assert reader.refresh() is False and len(reader) == len(writer)
    fill(writer, documents[2:])
    assert reader.refresh() is True and len(reader) == 36
    hits = reader.search("When do US equity trades settle?", CUSTOMER)
    assert section_of(hits) == "Settlement"


def test_a_broken_vector_file_is_rebuilt_from_the_saved_chunks(
    embedder, documents, cache_path, tmp_path
):
    root = tmp_path / "faiss"
    cache = VectorCache(cache_path, DIM)
    fill(DocumentIndex(FaissStore(DIM), embedder, root=root, vector_cache=cache), documents)
    (current_generation(root) / "vectors.faiss").write_bytes(b"not an index")
    reopened = DocumentIndex(FaissStore(DIM), embedder, root=root, vector_cache=cache)
    assert len(reopened.store.row_ids()) == 36
    assert section_of(reopened.search("What is a stop order?", CUSTOMER)) == "Order types"


def test_vectors_saved_under_another_embedding_model_are_made_again(
    embedder, documents, cache_path, tmp_path
):
    """Another model's vectors have the same shape and would load without a word, then match
    nothing they should: a generation that names another model is re-embedded from its chunks."""
    root = tmp_path / "faiss"
    cache = VectorCache(cache_path, DIM)
    fill(DocumentIndex(FaissStore(DIM), embedder, root=root, vector_cache=cache), documents)
    generation = current_generation(root)
    foreign = FaissStore(DIM)
    foreign.load(generation)
    rows = np.array(sorted(foreign.row_ids()), dtype=np.int64)
    noise = np.random.default_rng(0).normal(size=(len(rows), DIM)).astype(np.float32)
    foreign.reset(rows, noise / np.linalg.norm(noise, axis=1, keepdims=True))
    foreign.save(generation)
    meta = json.loads((generation / "index.json").read_text())
    (generation / "index.json").write_text(json.dumps({**meta, "model": "another-model"}))

    reopened = DocumentIndex(FaissStore(DIM), embedder, root=root, vector_cache=cache)
    chunks = {c.id: c for c in reopened.chunks()}
    hit = reopened.search("What is a stop order?", CUSTOMER)[0]
    expected = embedder.embed([passage_text(chunks[hit.chunk.id])])[0]
    assert len(reopened.store.row_ids()) == 36
    assert hit.similarity == pytest.approx(
        float(expected @ embedder.embed(["What is a stop order?"])[0]), abs=1e-4
    )


def test_a_save_that_dies_half_way_leaves_the_last_good_generation(
    embedder, documents, cache_path, tmp_path, monkeypatch
):
    root = tmp_path / "faiss"
    store = FaissStore(DIM)
    index = DocumentIndex(store, embedder, root=root, vector_cache=VectorCache(cache_path, DIM))
    fill(index, documents[:2])
    good = (root / CURRENT).read_text()

    def dies(folder: Path) -> None:
        (folder / "vectors.faiss").write_bytes(b"half an index")
        raise OSError("disk full")

    monkeypatch.setattr(store, "save", dies)
    with pytest.raises(OSError, match="disk full"):
        index.replace_document(documents[2].document_id, list(documents[2].chunks))
    assert (root / CURRENT).read_text() == good
    assert not [p for p in root.iterdir() if p.name.endswith(".tmp")]
    reopened = DocumentIndex(FaissStore(DIM), embedder, root=root)
    assert reopened.document_ids() == {documents[0].document_id, documents[1].document_id}


def test_rebuild_reuses_cached_vectors(embedder, documents, tmp_path):
    class Counting:
        dimension = DIM

        def __init__(self) -> None:
            self.texts = 0

        def embed(self, texts):
            self.texts += len(texts)
            return embedder.embed(texts)

    counting = Counting()
    chunks = [c for d in documents for c in d.chunks]
    cache = VectorCache(tmp_path / "embeddings.sqlite", DIM)
    DocumentIndex(FaissStore(DIM), counting, vector_cache=cache).rebuild(chunks)
    assert counting.texts == 36
    again = DocumentIndex(FaissStore(DIM), counting, vector_cache=VectorCache(cache.path, DIM))
    again.rebuild(chunks)
    assert counting.texts == 36  # nothing embedded the second time
    assert len(again) == 36


# -- access control ---------------------------------------------------------------------------
class SpyStore(FaissStore):
    """Records the rows each vector search was allowed to rank."""

    def __init__(self) -> None:
        super().__init__(DIM)
        self.allowed: list = []
        self.added: list[set[int]] = []

    def add(self, ids, vectors):
        self.added.append({int(i) for i in ids})
        super().add(ids, vectors)

    def search(self, query, k, allowed=None):
        self.allowed.append(allowed)
        return super().search(query, k, allowed)


def test_a_customer_never_receives_an_internal_passage(embedder, documents, cache_path):
    store = SpyStore()
    index = DocumentIndex(store, embedder, vector_cache=VectorCache(cache_path, DIM))
    policy = aml(documents)
    fill(index, [policy])
    internal_rows = store.added[0]  # the vector rows of the internal policy
    fill(index, [d for d in documents if d is not policy])
    queries = [q.question for q in load_rag_golden(DEMO_DOCS)]
    queries += [c.text for c in policy.chunks]  # the exact text of every internal passage
    queries += [c.section for c in policy.chunks] + [policy.title, "structuring MLRO tipping off"]
    for query in queries:
        hits = index.search(query, CUSTOMER, k=50)
        assert hits, query
        assert all(h.chunk.access.allows(CUSTOMER) for h in hits), query
        assert all(h.chunk.document_id != policy.document_id for h in hits), query
        allowed = store.allowed[-1]
        assert allowed is not None and not internal_rows & set(allowed.ids.tolist())
    staff = index.search(policy.chunks[5].text, SUPPORT, k=3)
    assert staff[0].chunk.id == policy.chunks[5].id
    filtered = SearchFilters(document_ids=frozenset({policy.document_id}))
    assert index.search("suspicious activity report", CUSTOMER, filters=filtered) == []


def test_restricted_documents_reach_only_their_named_users(flat_index, embedder):
    secret = Chunk(
        id="900:1:0",
        document_id=900,
        version=1,
        ordinal=0,
        title="Account 7 fee waiver",
        section="Waiver",
        start=0,
        end=60,
        text="The wire withdrawal fee is waived for this account until 2027.",
        access=DocumentAccess(visibility=Visibility.RESTRICTED, user_ids=frozenset({7})),
    )
    flat_index.replace_document(900, [secret])
    try:
        query = "Is the wire withdrawal fee waived for my account?"
        owner = flat_index.search(query, Caller(user_id=7), k=36)
        other = flat_index.search(query, Caller(user_id=8), k=36)
        assert secret.id in {h.chunk.id for h in owner}
        assert secret.id not in {h.chunk.id for h in other}
        assert secret.id not in {h.chunk.id for h in flat_index.search(query, SUPPORT, k=36)}
    finally:
        flat_index.delete_document(900)


def test_metadata_filters(flat_index):
    query = "How long does a withdrawal take?"
    faq = flat_index.search(query, CUSTOMER, filters=SearchFilters(doc_types=frozenset({"faq"})))
    assert faq and {h.chunk.title for h in faq} == {"Support FAQ"}
    fees = flat_index.search(
        query, CUSTOMER, filters=SearchFilters(sections=frozenset({"deposits and withdrawals"}))
    )
    assert [h.chunk.section.split(" > ")[-1] for h in fees] == ["Deposits and withdrawals"]
    by_document = flat_index.search(
        query, CUSTOMER, filters=SearchFilters(document_ids=frozenset({5}))
    )
    assert by_document and {h.chunk.document_id for h in by_document} == {5}


# -- replace and delete -----------------------------------------------------------------------
def version_of(doc: SourceDocument, version: int, extra: str) -> list[Chunk]:
    return [
        c.model_copy(
            update={
                "id": f"{doc.document_id}:{version}:{c.ordinal}",
                "version": version,
                "text": f"{c.text} {extra}",
            }
        )
        for c in doc.chunks
    ]


def test_replace_and_delete_document(embedder, documents, cache_path):
    index: ChunkIndex = DocumentIndex(
        FaissStore(DIM), embedder, vector_cache=VectorCache(cache_path, DIM)
    )
    fill(index, documents)
    faq = next(d for d in documents if d.stem == "support_faq")
    index.replace_document(faq.document_id, version_of(faq, 2, "Ask about the pelican plan."))
    hits = index.search("pelican plan", CUSTOMER, k=5)
    assert hits[0].chunk.version == 2 and "pelican" in hits[0].chunk.text
    versions = {c.version for c in index.chunks() if c.document_id == faq.document_id}
    assert versions == {2} and len(index) == 36
    assert len(index.store.row_ids()) == 36  # the old version's vectors are gone
    index.delete_document(faq.document_id)
    assert faq.document_id not in index.document_ids() and len(index.store.row_ids()) == 29
    assert all(h.chunk.document_id != faq.document_id for h in index.search("pelican", SUPPORT))
    with pytest.raises(ValueError):
        index.replace_document(1, list(faq.chunks))  # chunks of another document


def test_a_failed_store_write_leaves_the_index_as_it_was(embedder, documents, cache_path):
    class Failing(FaissStore):
        def add(self, ids, vectors):
            raise RuntimeError("store unavailable")

    index = DocumentIndex(Failing(DIM), embedder, vector_cache=VectorCache(cache_path, DIM))
    with pytest.raises(RuntimeError):
        index.replace_document(documents[0].document_id, list(documents[0].chunks))
    assert len(index) == 0 and index.search("KYC", SUPPORT) == []


def test_searches_during_replacements_see_one_version_or_the_other(embedder, documents, cache_path):
    index = DocumentIndex(FaissStore(DIM), embedder, vector_cache=VectorCache(cache_path, DIM))
    fill(index, documents)
    faq = next(d for d in documents if d.stem == "support_faq")
    seen: list[set[int]] = []
    stop = threading.Event()

    def search() -> None:
        while not stop.is_set():
            hits = index.search("How do I contact support?", CUSTOMER, k=36)
            seen.append({h.chunk.version for h in hits if h.chunk.document_id == faq.document_id})

    reader = threading.Thread(target=search)
    reader.start()
    try:
        for version in range(2, 12):
            index.replace_document(faq.document_id, version_of(faq, version, f"Edition {version}."))
    finally:
        stop.set()
        reader.join()
    assert seen and all(len(versions) == 1 for versions in seen)


# -- reranking --------------------------------------------------------------------------------
def test_cross_encoder_reranks_the_fused_head(embedder, documents, cache_path):
    index = DocumentIndex(
        FaissStore(DIM),
        embedder,
        vector_cache=VectorCache(cache_path, DIM),
        reranker=CrossEncoderReranker(),
    )
    fill(index, documents)
    hits = index.search("How much does an international wire withdrawal cost?", CUSTOMER, k=3)
    assert section_of(hits) == "Deposits and withdrawals"
    assert hits[0].rerank_score > 0 > hits[-1].rerank_score
    assert [h.rerank_score for h in hits] == sorted((h.rerank_score for h in hits), reverse=True)
    off_topic = index.search("What is the capital of Australia?", CUSTOMER, k=3)
    assert max(h.rerank_score for h in off_topic) < -4
