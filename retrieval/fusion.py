"""Reciprocal rank fusion: one ranking from several, by rank alone.

BM25 scores and cosine similarities live on scales that cannot be added; ranks can. A passage
ranked r-th by a retriever earns weight / (k + r) from it (Cormack et al., 2009; k = 60 there).
Passages found by both retrievers rise above passages only one of them likes.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

Key = TypeVar("Key", bound=Hashable)

RRF_K = 60


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Key]],
    *,
    k: int = RRF_K,
    weights: Sequence[float] | None = None,
    limit: int | None = None,
) -> list[tuple[Key, float]]:
    """Fuse best-first rankings; ties keep the order in which keys were first seen.

    >>> reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=1)
    [('b', 0.8333333333333333), ('a', 0.5), ('d', 0.3333333333333333), ('c', 0.25)]
    >>> reciprocal_rank_fusion([["a"], ["b"]], weights=[1.0, 2.0], k=0)
    [('b', 2.0), ('a', 1.0)]
    """
    if k < 0:
        raise ValueError("k must be >= 0")
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[Key, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        seen: set[Key] = set()
        for rank, key in enumerate(ranking, start=1):
            if key in seen:  # a key counts once per ranking, at its best rank
                continue
            seen.add(key)
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    fused = sorted(scores.items(), key=lambda item: -item[1])  # stable: first seen wins ties
    return fused[:limit] if limit is not None else fused
