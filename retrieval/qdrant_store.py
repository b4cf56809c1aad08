"""Qdrant vector store through qdrant-client: a local folder, or a server at a URL.

Local mode (`path=`) is qdrant-client's in-process implementation: fine for small collections
(about 350 upserts/s here), no server to run. A Qdrant server (`url=`) is the scale-out path.
Rows are Qdrant point ids; the access filter travels as a `has_id` condition, so Qdrant applies
it while it searches. A full rebuild writes a fresh collection and switches to it only when it is
complete, then drops the old one: searches see the old rows or the new, never a half-built set.
Cosine distance on normalised vectors gives the same scores as FAISS's inner product.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from qdrant_client import QdrantClient, models

from retrieval.vector_store import AllowedRows

log = logging.getLogger(__name__)

META_FILE = "qdrant.json"
UPSERT_BATCH = 256


class QdrantStore:
    kind = "qdrant"

    def __init__(
        self,
        dimension: int,
        *,
        path: Path | None = None,
        url: str | None = None,
        collection: str = "chunks",
        client: QdrantClient | None = None,
    ):
        if client is None:
            if url:
                client = QdrantClient(url=url)
            elif path is not None:
                Path(path).mkdir(parents=True, exist_ok=True)
                client = QdrantClient(path=str(path), force_disable_check_same_thread=True)
            else:
                raise ValueError("QdrantStore needs a path (local mode) or a url (server)")
        self.dimension = dimension
        self._client = client
        self._base = collection
        self._lock = threading.RLock()
        self._collection: str | None = None

    # -- collections -------------------------------------------------------------------------
    def _create(self) -> str:
        name = f"{self._base}-{uuid.uuid4().hex[:12]}"
        self._client.create_collection(
            name,
            vectors_config=models.VectorParams(
                size=self.dimension, distance=models.Distance.COSINE
            ),
        )
        return name

    def _current(self) -> str:
        if self._collection is None:
            self._collection = self._create()
        return self._collection

    def _ours(self) -> list[str]:
        names = [c.name for c in self._client.get_collections().collections]
        return [n for n in names if n.startswith(f"{self._base}-")]

    def _upsert(self, name: str, ids: np.ndarray, vectors: np.ndarray) -> None:
        matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        for start in range(0, len(ids), UPSERT_BATCH):
            self._client.upsert(
                name,
                points=models.Batch(
                    ids=[int(i) for i in ids[start : start + UPSERT_BATCH]],
                    vectors=matrix[start : start + UPSERT_BATCH].tolist(),
                ),
                wait=True,
            )

    # -- writing -----------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            with self._lock:
                self._upsert(self._current(), np.asarray(ids), vectors)

    def remove(self, ids: Iterable[int]) -> None:
        doomed = [int(i) for i in ids]
        if doomed:
            with self._lock:
                self._client.delete(
                    self._current(), points_selector=models.PointIdsList(points=doomed), wait=True
                )

    def reset(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        fresh = self._create()
        try:
            self._upsert(fresh, np.asarray(ids), vectors)
        except Exception:
            self._client.delete_collection(fresh)
            raise
        with self._lock:
            old, self._collection = self._collection, fresh
        if old is not None:
            self._client.delete_collection(old)

    # -- reading -----------------------------------------------------------------------------
    def search(
        self, query: np.ndarray, k: int, allowed: AllowedRows | None = None
    ) -> list[tuple[int, float]]:
        if k <= 0 or (allowed is not None and not len(allowed)):
            return []
        where = None
        if allowed is not None:
            where = models.Filter(must=[models.HasIdCondition(has_id=allowed.ids.tolist())])
        with self._lock:
            found = self._client.query_points(
                self._current(),
                query=np.asarray(query, dtype=np.float32).reshape(-1).tolist(),
                limit=k,
                query_filter=where,
                with_payload=False,
            )
        return [(int(p.id), float(p.score)) for p in found.points]

    def vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        wanted = [int(i) for i in ids]
        if not wanted:
            return {}
        with self._lock:
            records = self._client.retrieve(self._current(), ids=wanted, with_vectors=True)
        return {int(r.id): np.asarray(r.vector, dtype=np.float32) for r in records}

    def row_ids(self) -> set[int]:
        rows: set[int] = set()
        offset = None
        with self._lock:
            while True:
                records, offset = self._client.scroll(
                    self._current(), limit=1000, offset=offset, with_payload=False
                )
                rows.update(int(r.id) for r in records)
                if offset is None:
                    return rows

    def __len__(self) -> int:
        with self._lock:
            return int(self._client.count(self._current(), exact=True).count)

    # -- files -------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        """Qdrant keeps the vectors itself; the folder records which collection is current."""
        meta = {"collection": self._current(), "dimension": self.dimension}
        (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")

    def load(self, folder: Path) -> None:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        if meta["dimension"] != self.dimension:
            raise ValueError(f"{folder} names {meta['dimension']}-dimension vectors")
        with self._lock:
            existing = self._ours()
            self._collection = meta["collection"] if meta["collection"] in existing else None
        strays = [name for name in existing if name != self._collection]
        if strays:  # a rebuild that stopped half way, or another process's: never ours to drop
            log.warning("Qdrant collections %s are not the current one; left as they are", strays)

    def drop(self) -> None:
        """Delete the current collection: for throwaway indexes (evals) on a shared server."""
        with self._lock:
            if self._collection is not None:
                self._client.delete_collection(self._collection)
                self._collection = None

    def close(self) -> None:
        self._client.close()
