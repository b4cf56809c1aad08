"""FAISS vector store: exact inner-product search, HNSW above a size threshold.

Exact (flat) search over 100k 384-dimension vectors takes a few milliseconds on two cores and is
always right, so it is the default; above `hnsw_threshold` rows the store rebuilds itself as an
HNSW graph, which stays fast as the collection grows at the price of approximate results
(`trading-assist bench retrieval` measures its recall against exact search). HNSW cannot delete,
so removed rows become tombstones, kept out of every search by the id selector, and the graph is
rebuilt once they exceed a fifth of it. Writes go to a folder the caller makes current only once
complete (see `retrieval.index_files`): a crash never leaves a half-written index behind.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from pathlib import Path

import faiss
import numpy as np

from retrieval.vector_store import AllowedRows

INDEX_FILE = "vectors.faiss"
META_FILE = "faiss.json"
TOMBSTONE_SHARE = 0.2  # rebuild an HNSW graph once this share of its rows is deleted


class FaissStore:
    def __init__(
        self,
        dimension: int,
        hnsw_threshold: int = 100_000,
        *,
        hnsw_m: int = 32,
        ef_construction: int = 80,
        ef_search: int = 256,
    ):
        self.dimension = dimension
        self.hnsw_threshold = hnsw_threshold
        self.hnsw_m = hnsw_m
        self.ef_construction = ef_construction
        self.ef_search = ef_search
        self._lock = threading.RLock()
        self._index = self._empty(hnsw=False)
        self._tombstones: set[int] = set()
        self._live: AllowedRows | None = None  # every row but the tombstones, while any exist

    # -- building ----------------------------------------------------------------------------
    def _empty(self, hnsw: bool) -> faiss.IndexIDMap2:
        if hnsw:
            graph = faiss.IndexHNSWFlat(self.dimension, self.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = self.ef_construction
            graph.hnsw.efSearch = self.ef_search
            return faiss.IndexIDMap2(graph)
        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dimension))

    def _build(self, ids: np.ndarray, vectors: np.ndarray) -> faiss.IndexIDMap2:
        index = self._empty(hnsw=len(ids) > self.hnsw_threshold)
        if len(ids):
            index.add_with_ids(_as_matrix(vectors, self.dimension), _as_ids(ids))
        return index

    def _contents(self) -> tuple[np.ndarray, np.ndarray]:
        """Every stored (id, vector), tombstones included, in storage order."""
        ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        if not len(ids):
            return ids, np.zeros((0, self.dimension), dtype=np.float32)
        return ids, self._index.index.reconstruct_n(0, len(ids))

    @property
    def is_hnsw(self) -> bool:
        return isinstance(faiss.downcast_index(self._index.index), faiss.IndexHNSW)

    @property
    def kind(self) -> str:
        return "faiss-hnsw" if self.is_hnsw else "faiss-flat"

    # -- writing -----------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if not len(ids):
            return
        with self._lock:
            self._index.add_with_ids(_as_matrix(vectors, self.dimension), _as_ids(ids))
            self._live = None
            if not self.is_hnsw and self._index.ntotal > self.hnsw_threshold:
                self._index = self._build(*self._contents())  # grew past the threshold

    def remove(self, ids: Iterable[int]) -> None:
        doomed = _as_ids(list(ids))
        if not len(doomed):
            return
        with self._lock:
            if not self.is_hnsw:
                self._index.remove_ids(doomed)
                return
            stored = set(faiss.vector_to_array(self._index.id_map).tolist())
            self._tombstones |= {int(i) for i in doomed if int(i) in stored}
            self._live = None
            if len(self._tombstones) > TOMBSTONE_SHARE * max(self._index.ntotal, 1):
                self._compact()

    def _compact(self) -> None:
        ids, vectors = self._contents()
        keep = ~np.isin(ids, np.fromiter(self._tombstones, dtype=np.int64))
        self._index = self._build(ids[keep], vectors[keep])
        self._tombstones = set()
        self._live = None

    def reset(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        fresh = self._build(_as_ids(ids), vectors)  # built aside; searches go on meanwhile
        with self._lock:
            self._index, self._tombstones, self._live = fresh, set(), None

    # -- reading -----------------------------------------------------------------------------
    def search(
        self, query: np.ndarray, k: int, allowed: AllowedRows | None = None
    ) -> list[tuple[int, float]]:
        with self._lock:
            if self._index.ntotal == 0 or k <= 0 or (allowed is not None and not len(allowed)):
                return []
            if allowed is None and self._tombstones:
                if self._live is None:
                    self._live = AllowedRows(self.row_ids())
                allowed = self._live
            params = None
            if allowed is not None:
                bitmap = allowed.bitmap  # kept alive by `allowed` while FAISS reads it
                selector = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
                if self.is_hnsw:
                    params = faiss.SearchParametersHNSW(
                        sel=selector, efSearch=max(self.ef_search, k)
                    )
                else:
                    params = faiss.SearchParameters(sel=selector)
            scores, rows = self._index.search(_as_matrix(query, self.dimension), k, params=params)
            return [
                (int(row), float(score))
                for row, score in zip(rows[0], scores[0], strict=True)
                if row != -1 and int(row) not in self._tombstones
            ]

    def vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        found: dict[int, np.ndarray] = {}
        with self._lock:
            for row in ids:
                if int(row) in self._tombstones:
                    continue
                try:
                    found[int(row)] = self._index.reconstruct(int(row))
                except RuntimeError:  # not stored
                    continue
        return found

    def row_ids(self) -> set[int]:
        with self._lock:
            return set(faiss.vector_to_array(self._index.id_map).tolist()) - self._tombstones

    def __len__(self) -> int:
        with self._lock:
            return int(self._index.ntotal) - len(self._tombstones)

    # -- files -------------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        with self._lock:
            faiss.write_index(self._index, str(folder / INDEX_FILE))
            meta = {
                "kind": self.kind,
                "dimension": self.dimension,
                "tombstones": sorted(self._tombstones),
            }
        (folder / META_FILE).write_text(json.dumps(meta), encoding="utf-8")

    def load(self, folder: Path) -> None:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        if meta["dimension"] != self.dimension:
            raise ValueError(
                f"{folder} holds {meta['dimension']}-dimension vectors, not {self.dimension}"
            )
        index = faiss.read_index(str(folder / INDEX_FILE))
        with self._lock:
            self._index = index
            self._tombstones = set(meta["tombstones"])
            self._live = None
            if self.is_hnsw:
                faiss.downcast_index(self._index.index).hnsw.efSearch = self.ef_search

    def close(self) -> None:
        """Nothing to release: the index lives in this process's memory."""


def _as_matrix(vectors: np.ndarray, dimension: int) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(vectors, dtype=np.float32).reshape(-1, dimension))


def _as_ids(ids) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))
