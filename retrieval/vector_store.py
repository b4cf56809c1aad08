"""The vector store capability: nearest rows to a query vector, among the rows a caller may see.

Rows are int64 ids the search index hands out; the index keeps what each row means (its chunk).
Vectors are L2-normalised, so scores are cosine similarities, higher is better. `allowed` is
applied inside the store's search (a FAISS id selector, a Qdrant filter), never to its output:
a top-k cut before the access check would hand a customer fewer results, or, worse, tempt a
caller to widen k until internal passages come through.

Implementations: `retrieval.faiss_store.FaissStore` (default, files under var/) and
`retrieval.qdrant_store.QdrantStore` (a local folder or a server).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np


class AllowedRows:
    """A set of row ids, with the shapes stores want it in, each computed once.

    >>> rows = AllowedRows([9, 0, 3])
    >>> rows.ids.tolist(), rows.bitmap.tolist(), 3 in rows, 4 in rows
    ([0, 3, 9], [9, 2], True, False)
    """

    def __init__(self, ids: Iterable[int]):
        self.ids = np.unique(np.fromiter(ids, dtype=np.int64))

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def __contains__(self, row: int) -> bool:
        i = np.searchsorted(self.ids, row)
        return bool(i < len(self.ids) and self.ids[i] == row)

    @cached_property
    def bitmap(self) -> np.ndarray:
        """Bit i (little-endian within each byte) set when row i is allowed: FAISS's
        IDSelectorBitmap layout."""
        size = int(self.ids[-1]) + 1 if len(self.ids) else 1
        bits = np.zeros(size, dtype=bool)
        bits[self.ids] = True
        return np.packbits(bits, bitorder="little")


class VectorStore(Protocol):
    kind: str  # "faiss-flat", "faiss-hnsw", "qdrant"

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add rows; ids are new (the index never reuses one)."""

    def remove(self, ids: Iterable[int]) -> None: ...

    def reset(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Replace every row at once; searches see the old rows or the new, never a mix."""

    def search(
        self, query: np.ndarray, k: int, allowed: AllowedRows | None = None
    ) -> list[tuple[int, float]]:
        """The best `k` (row id, cosine) pairs among `allowed` (None: every row)."""

    def vectors(self, ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Stored vectors of these rows (rows not stored are left out)."""

    def row_ids(self) -> set[int]: ...

    def save(self, folder: Path) -> None:
        """Write what the store needs to reopen into `folder`, a fresh directory that is only
        made current once complete."""

    def load(self, folder: Path) -> None:
        """Reopen what `save` wrote there."""

    def close(self) -> None: ...
