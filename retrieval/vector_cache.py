"""Chunk vectors kept on disk by content hash, so a rebuild embeds only what changed.

Embedding is the slow part of indexing (about 35 passages/s on two cores), and a new version of a
document mostly repeats the old one's text. Vectors are stored in a SQLite file keyed by the
sha256 of the model name and the text: a model change misses the cache instead of mixing spaces.
SQLite gives atomic, crash-safe writes and concurrent readers for free.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

MODEL_ID = "all-MiniLM-L6-v2"
_LOOKUP_BATCH = 500  # SQLite's parameter limit is far above; this keeps statements small


class TextEmbedder(Protocol):
    """What indexing needs from an embedder (`retrieval.embeddings.Embedder` is one)."""

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""


def content_key(text: str, model_id: str = MODEL_ID) -> str:
    """
    >>> content_key("fees") == content_key("fees"), content_key("fees") == content_key("fee")
    (True, False)
    """
    return hashlib.sha256(f"{model_id}\n{text}".encode()).hexdigest()


class VectorCache:
    def __init__(self, path: Path, dimension: int, model_id: str = MODEL_ID):
        self.path = Path(path)
        self.dimension = dimension
        self.model_id = model_id
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, v BLOB)")

    def get(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), _LOOKUP_BATCH):
                batch = list(keys[start : start + _LOOKUP_BATCH])
                marks = ",".join("?" * len(batch))
                rows = self._db.execute(
                    f"SELECT key, v FROM vectors WHERE key IN ({marks})", batch
                ).fetchall()
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape[0] == self.dimension:
                        found[key] = vector
        return found

    def put(self, items: dict[str, np.ndarray]) -> None:
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
            self._db.execute("COMMIT")

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM vectors").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def embed_cached(
    texts: Sequence[str],
    embedder: TextEmbedder,
    cache: VectorCache | None,
    batch_size: int = 256,
) -> np.ndarray:
    """Vectors for `texts`: from the cache where present, embedded (and stored) otherwise."""
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    if cache is None:
        return np.asarray(embedder.embed(list(texts)), dtype=np.float32)
    keys = [content_key(t, cache.model_id) for t in texts]
    found = cache.get(sorted(set(keys)))
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in found}.items())
    for start in range(0, len(missing), batch_size):
        batch = missing[start : start + batch_size]
        vectors = embedder.embed([t for _, t in batch])
        fresh = {
            k: np.asarray(v, dtype=np.float32) for (k, _), v in zip(batch, vectors, strict=True)
        }
        cache.put(fresh)  # stored batch by batch: an interrupted run keeps what it paid for
        found.update(fresh)
    return np.stack([found[k] for k in keys])
