"""Keyword ranking with bm25s over a fixed list of texts.

bm25s precomputes every (term, document) score into a sparse matrix, so a query is a sum of a few
columns: about a millisecond at 100k passages. The matrix cannot be updated in place, so an index
is built once per snapshot of the collection and replaced whole when the collection changes.
Scores of positions outside `allowed` are zeroed before anything is ranked.
"""

from __future__ import annotations

import logging

import bm25s
import numpy as np

from retrieval.terms import terms

logging.getLogger("bm25s").setLevel(logging.WARNING)


class Bm25Index:
    def __init__(self, texts: list[str]):
        self.size = len(texts)
        self._retriever: bm25s.BM25 | None = None
        tokenized = [terms(t) for t in texts]
        if any(tokenized):
            self._retriever = bm25s.BM25()
            self._retriever.index(tokenized, show_progress=False)

    def scores(self, query: str) -> np.ndarray:
        """One score per position (0 where no query term occurs)."""
        ids = self._retriever.get_tokens_ids(terms(query)) if self._retriever else []
        if not ids:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._retriever.get_scores_from_ids(ids), dtype=np.float32)

    def top(self, query: str, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """The best `k` (position, score) pairs with a positive score, among `allowed` (a
        boolean mask over positions; None: all)."""
        if self.size == 0 or k <= 0:
            return []
        scores = self.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        k = min(k, self.size)
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(int(i), float(scores[i])) for i in best if scores[i] > 0]
