"""The retrieval benchmark times what a user waits for: each timed search embeds its query."""

from evals.bench_retrieval import measure_queries, synthetic_chunks
from retrieval.embeddings import Embedder
from retrieval.vector_cache import VectorCache


class CountingEmbedder(Embedder):
    def __init__(self):
        super().__init__()
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen += list(texts)
        return super().embed(texts)


def test_each_timed_search_embeds_its_own_query(tmp_path):
    embedder = CountingEmbedder()
    base = [f"Paragraph {i} about fees, withdrawals and margin." for i in range(8)]
    chunks, _vectors = synthetic_chunks(40, base, embedder.embed(base))
    queries = [f"question number {i} about fees" for i in range(30)]
    cache = VectorCache(tmp_path / "embeddings.sqlite", embedder.dimension)
    embedder.seen.clear()
    timing = measure_queries(40, chunks, embedder, cache, queries, hnsw_threshold=100_000)
    assert timing.queries == 20
    assert set(queries[10:]) <= set(embedder.seen)  # not cached, not embedded ahead of time
