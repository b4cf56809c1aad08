"""The embedding classifier the router asks when its rules are unsure.

It compares a text with the seed utterances in `examples.jsonl` (about 30 per query type,
written for this product and kept apart from the golden set the router is evaluated on) and lets
the `K` most similar vote, each with its cosine similarity. The seeds are embedded once, on the
first call; each text's vote is cached, so a repeated question costs a dictionary look-up.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field

from agents.routing.labels import QueryType
from agents.routing.rules import normalise

SEED_FILE = Path(__file__).with_name("examples.jsonl")
K = 7
MIN_SIMILARITY = 0.3
"""Below this the nearest seed is unlike the text, and the vote is noise. On the seeds'
English model (all-MiniLM-L6-v2) every English request of `evals/golden/routing.jsonl` the
rules were unsure of had a seed at least 0.42 alike; a German, French or Spanish one, which the
model does not read, mostly below 0.3, and then the vote named the wrong type 10 times in 15
(`routing_languages.jsonl`, evals/JOURNAL.md, session 15)."""


class TextEmbedder(Protocol):
    """What the classifier needs of `retrieval.embeddings.Embedder`: L2-normalised vectors."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class RoutingExample(BaseModel):
    text: str = Field(min_length=1)
    query_type: QueryType


class EmbeddingVote(BaseModel, frozen=True):
    query_type: QueryType = Field(description="The type with the largest share of the vote.")
    shares: dict[QueryType, float] = Field(description="Each type's share of the vote, 0 to 1.")
    nearest: str = Field(description="The most similar seed utterance.")
    similarity: float = Field(description="Its cosine similarity to the text.")

    @property
    def alike(self) -> bool:
        """Some seed is like the text: the vote says something (`MIN_SIMILARITY`)."""
        return self.similarity >= MIN_SIMILARITY


def load_examples(path: Path = SEED_FILE) -> list[RoutingExample]:
    """The seed utterances, one JSON object a line; blank lines are skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [RoutingExample.model_validate(json.loads(line)) for line in lines if line.strip()]


class EmbeddingClassifier:
    """k-nearest seed utterances, similarity-weighted."""

    def __init__(
        self,
        embedder: TextEmbedder,
        examples: list[RoutingExample] | None = None,
        *,
        k: int = K,
        cache_size: int = 4096,
    ):
        self.embedder = embedder
        self.examples = examples if examples is not None else load_examples()
        if not self.examples:
            raise ValueError("the embedding classifier needs at least one example")
        self.k = min(k, len(self.examples))
        self._matrix: np.ndarray | None = None
        self._cache: OrderedDict[str, EmbeddingVote] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def _seeds(self) -> np.ndarray:
        if self._matrix is None:
            self._matrix = self.embedder.embed([e.text for e in self.examples])
        return self._matrix

    def warm_up(self) -> None:
        """Embed the seeds now rather than on the first unsure request."""
        self._seeds()

    def clear(self) -> None:
        """Forget every cached vote (the seeds stay embedded)."""
        with self._lock:
            self._cache.clear()

    def cached(self, text: str) -> bool:
        return normalise(text) in self._cache

    def vote(self, text: str) -> EmbeddingVote:
        key = normalise(text)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        similarities = self._seeds() @ self.embedder.embed([key])[0]
        nearest = np.argsort(-similarities)[: self.k]
        weights = dict.fromkeys(QueryType, 0.0)
        for index in nearest:
            weights[self.examples[index].query_type] += max(float(similarities[index]), 0.0)
        total = sum(weights.values()) or 1.0
        shares = {t: round(w / total, 3) for t, w in weights.items()}
        best = max(QueryType, key=lambda t: shares[t])
        top = int(nearest[0])
        vote = EmbeddingVote(
            query_type=best,
            shares=shares,
            nearest=self.examples[top].text,
            similarity=round(float(similarities[top]), 3),
        )
        with self._lock:
            self._cache[key] = vote
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vote
