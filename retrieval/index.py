"""Hybrid document search: BM25 and vectors fused by reciprocal rank, filtered by who asks.

The order of a search, and why:
1. The caller's access (`DocumentAccess.allows`) and the metadata filters become one mask over
   the chunks *before anything is ranked*. BM25 zeroes the scores outside it; the vector store
   receives it as an id selector. A customer's search never ranks an internal passage at all,
   so no query, not even the exact text of an internal passage, can surface one.
2. BM25 and the vector store each return their best candidates; reciprocal rank fusion merges
   the two lists (keywords catch fee codes and numbers, vectors catch paraphrases).
3. Optionally a cross-encoder reorders the fused head.

The collection is an immutable snapshot (chunks, BM25 matrix, masks) swapped in one assignment,
so `replace_document` is atomic for readers: a search sees the old version of a document or the
new one. Vector row ids are never reused, so a reader holding an old snapshot cannot mistake a
new row for an old one. Every change is persisted as a new generation (`retrieval.index_files`):
the vectors' files (FAISS) or collection name (Qdrant) beside the chunk metadata.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from retrieval.bm25 import Bm25Index
from retrieval.chunks import Chunk, DocumentAccess, Hit
from retrieval.fusion import reciprocal_rank_fusion
from retrieval.index_files import current_generation, write_generation
from retrieval.rerank import Reranker
from retrieval.vector_cache import MODEL_ID, TextEmbedder, VectorCache, embed_cached
from retrieval.vector_store import AllowedRows, VectorStore
from services.identity import Caller

log = logging.getLogger(__name__)

CHUNKS_FILE = "chunks.jsonl"
INDEX_FILE = "index.json"
MASK_CACHE = 256  # (caller, filters) masks kept per snapshot


class SearchFilters(BaseModel, frozen=True):
    """Narrow a search to some documents; every field set must match (None: no condition)."""

    document_ids: frozenset[int] | None = None
    doc_types: frozenset[str] | None = Field(
        None, description="Document types (fee_schedule, policy, handbook, terms, faq, ...)."
    )
    sections: frozenset[str] | None = Field(
        None,
        description="Headings, case-insensitive: a chunk matches when its heading path equals "
        "one, starts with one, or ends with one.",
    )


class ScoredHit(Hit):
    """A `Hit` with the evidence behind its place; `score` is the fused (RRF) score."""

    similarity: float = Field(description="Cosine similarity of question and passage.")
    keyword_score: float | None = Field(None, description="BM25 score, when keywords matched.")
    rerank_score: float | None = Field(
        None, description="Cross-encoder logit when reranked (above 0: likely answers)."
    )


def passage_text(chunk: Chunk) -> str:
    """What is embedded and keyword-indexed: the title and heading give a short passage the
    context its own words lack ("Are they free?" under "Deposits and withdrawals").

    >>> from retrieval.chunks import DocumentAccess
    >>> c = Chunk(id="1:1:0", document_id=1, version=1, ordinal=0, title="Fees",
    ...     section="Crypto", start=0, end=4, text="0.25%", access=DocumentAccess())
    >>> passage_text(c)
    'Fees - Crypto\\n0.25%'
    """
    heading = f"{chunk.title} - {chunk.section}" if chunk.section else chunk.title
    return f"{heading}\n{chunk.text}"


@dataclass(frozen=True)
class _Entry:
    row: int
    chunk: Chunk
    doc_type: str | None


class _Snapshot:
    """The collection at one moment; never changed after construction (its mask cache aside)."""

    def __init__(self, entries: list[_Entry]):
        self.entries = entries
        self.rows = np.array([e.row for e in entries], dtype=np.int64)
        self.position = {e.row: i for i, e in enumerate(entries)}
        self.bm25 = Bm25Index([passage_text(e.chunk) for e in entries])
        by_access: dict[DocumentAccess, list[int]] = defaultdict(list)
        by_document: dict[int, list[int]] = defaultdict(list)
        by_type: dict[str | None, list[int]] = defaultdict(list)
        by_section: dict[str | None, list[int]] = defaultdict(list)
        for i, entry in enumerate(entries):
            by_access[entry.chunk.access].append(i)
            by_document[entry.chunk.document_id].append(i)
            by_type[entry.doc_type].append(i)
            by_section[entry.chunk.section].append(i)
        self.by_access = {a: np.array(p) for a, p in by_access.items()}
        self.by_document = {d: np.array(p) for d, p in by_document.items()}
        self.by_type = {t: np.array(p) for t, p in by_type.items()}
        self.by_section = {s: np.array(p) for s, p in by_section.items()}
        self.doc_types = {e.chunk.document_id: e.doc_type for e in entries}
        self._masks: OrderedDict[tuple, tuple[np.ndarray, AllowedRows]] = OrderedDict()
        self._lock = threading.Lock()

    def _union(self, groups: Iterable[np.ndarray]) -> np.ndarray:
        mask = np.zeros(len(self.entries), dtype=bool)
        for positions in groups:
            mask[positions] = True
        return mask

    def allowed(
        self, caller: Caller, filters: SearchFilters | None
    ) -> tuple[np.ndarray, AllowedRows]:
        """The positions the caller may see that pass the filters, as a mask and as row ids."""
        key = (caller, filters)
        with self._lock:
            if key in self._masks:
                self._masks.move_to_end(key)
                return self._masks[key]
        mask = self._union(p for a, p in self.by_access.items() if a.allows(caller))
        if filters is not None:
            if filters.document_ids is not None:
                mask &= self._union(self.by_document.get(d, []) for d in filters.document_ids)
            if filters.doc_types is not None:
                mask &= self._union(
                    p for t, p in self.by_type.items() if t is not None and t in filters.doc_types
                )
            if filters.sections is not None:
                wanted = [s.strip().lower() for s in filters.sections]
                mask &= self._union(
                    p for s, p in self.by_section.items() if _section_matches(s, wanted)
                )
        result = (mask, AllowedRows(self.rows[mask]))
        with self._lock:
            self._masks[key] = result
            while len(self._masks) > MASK_CACHE:
                self._masks.popitem(last=False)
        return result


def _section_matches(section: str | None, wanted: list[str]) -> bool:
    """
    >>> path = "Fees > Withdrawals"
    >>> _section_matches(path, ["fees"]), _section_matches(path, ["withdrawals"])
    (True, True)
    >>> _section_matches("Fees > Withdrawals", ["draw"]), _section_matches(None, ["fees"])
    (False, False)
    """
    if not section:
        return False
    path = section.lower()
    return any(path == w or path.startswith(f"{w} >") or path.endswith(f"> {w}") for w in wanted)


class DocumentIndex:
    """The search index ingestion writes to (`ChunkIndex`) and the RAG agent reads from."""

    def __init__(
        self,
        store: VectorStore,
        embedder: TextEmbedder,
        *,
        root: Path | None = None,
        vector_cache: VectorCache | None = None,
        reranker: Reranker | None = None,
        top_k: int = 5,
        candidates: int = 50,
        rerank_pool: int = 10,
    ):
        """`root`: folder for the persisted generations (None: memory only). `candidates`:
        how many passages each retriever proposes before fusion. `rerank_pool`: how many fused
        passages the cross-encoder reorders."""
        self.store = store
        self.embedder = embedder
        self.root = Path(root) if root is not None else None
        self.vector_cache = vector_cache
        self.reranker = reranker
        self.top_k = top_k
        self.candidates = candidates
        self.rerank_pool = rerank_pool
        self._write_lock = threading.RLock()
        self._snapshot = _Snapshot([])
        self._next_row = 0
        self._store_in_step = True  # the store holds exactly the snapshot's rows
        self._generation: str | None = None  # the saved generation the snapshot matches
        if self.root is not None:
            self._load()

    # -- reading -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._snapshot.entries)

    def chunks(self) -> list[Chunk]:
        return [e.chunk for e in self._snapshot.entries]

    def document_ids(self) -> set[int]:
        return set(self._snapshot.by_document)

    def search(
        self,
        query: str,
        caller: Caller,
        k: int | None = None,
        filters: SearchFilters | None = None,
        *,
        rerank: bool = True,
    ) -> list[ScoredHit]:
        """`rerank=False` skips the cross-encoder (the router's evidence needs the retrievers'
        scores only, and fast)."""
        k = self.top_k if k is None else k
        reranker = self.reranker if rerank else None
        snapshot = self._snapshot
        if k <= 0 or not snapshot.entries or not query.strip():
            return []
        mask, allowed = snapshot.allowed(caller, filters)
        if not len(allowed):
            return []
        wide = max(self.candidates, k)
        vector = np.asarray(self.embedder.embed([query]), dtype=np.float32)[0]
        everything = len(allowed) == len(snapshot.entries) and self._store_in_step
        found = self.store.search(vector, wide, None if everything else allowed)
        similar = [
            (snapshot.position[row], sim)
            for row, sim in found
            if row in snapshot.position and mask[snapshot.position[row]]  # a writer's new rows
        ]
        keywords = snapshot.bm25.top(query, wide, mask)
        fused = reciprocal_rank_fusion([[p for p, _ in similar], [p for p, _ in keywords]])
        head = fused[: max(self.rerank_pool, k) if reranker else k]
        similarity = dict(similar)
        missing = [int(snapshot.rows[p]) for p, _ in head if p not in similarity]
        for row, stored in self.store.vectors(missing).items():
            similarity[snapshot.position[row]] = float(stored @ vector)
        bm25 = dict(keywords)
        hits = [
            ScoredHit(
                chunk=snapshot.entries[p].chunk,
                score=score,
                similarity=similarity.get(p, 0.0),
                keyword_score=bm25.get(p),
            )
            for p, score in head
        ]
        if reranker is not None and hits:
            logits = reranker.score(query, [passage_text(h.chunk) for h in hits])
            for hit, logit in zip(hits, logits, strict=True):
                hit.rerank_score = float(logit)
            hits.sort(key=lambda h: -(h.rerank_score or 0.0))
        return hits[:k]

    # -- writing (ChunkIndex) ----------------------------------------------------------------
    def replace_document(
        self, document_id: int, chunks: list[Chunk], *, doc_type: str | None = None
    ) -> None:
        """Swap a document's chunks for a new version's, atomically for readers. `doc_type`
        (for filters) is kept from the previous version when not given."""
        _check_document(document_id, chunks)
        vectors = self._vectors([passage_text(c) for c in chunks])
        with self._write_lock:
            old = self._snapshot
            if doc_type is None:
                doc_type = old.doc_types.get(document_id)
            kept = [e for e in old.entries if e.chunk.document_id != document_id]
            gone = [e.row for e in old.entries if e.chunk.document_id == document_id]
            rows = np.arange(self._next_row, self._next_row + len(chunks), dtype=np.int64)
            fresh = [_Entry(int(r), c, doc_type) for r, c in zip(rows, chunks, strict=True)]
            self._commit(kept + fresh, add=(rows, vectors), remove=gone)

    def delete_document(self, document_id: int) -> None:
        with self._write_lock:
            old = self._snapshot
            gone = [e.row for e in old.entries if e.chunk.document_id == document_id]
            if not gone:
                return
            kept = [e for e in old.entries if e.chunk.document_id != document_id]
            self._commit(kept, add=None, remove=gone)

    def rebuild(self, chunks: Sequence[Chunk], doc_types: Mapping[int, str] | None = None) -> None:
        """Replace the whole collection (from the database, the source of truth). Unchanged
        chunk texts come from the vector cache instead of the model."""
        ids = [c.id for c in chunks]
        if len(set(ids)) != len(ids):
            raise ValueError("chunk ids must be unique")
        doc_types = doc_types or {}
        vectors = self._vectors([passage_text(c) for c in chunks])
        with self._write_lock:
            rows = np.arange(self._next_row, self._next_row + len(chunks), dtype=np.int64)
            entries = [
                _Entry(int(r), c, doc_types.get(c.document_id))
                for r, c in zip(rows, chunks, strict=True)
            ]
            self._store_in_step = False
            self.store.reset(rows, vectors)
            self._snapshot = _Snapshot(entries)
            self._next_row += len(chunks)
            self._store_in_step = True
            self._persist()

    def _commit(
        self,
        entries: list[_Entry],
        add: tuple[np.ndarray, np.ndarray] | None,
        remove: list[int],
    ) -> None:
        """Add the new rows, swap the snapshot, drop the old rows, save. A failure before the
        swap takes the new rows back out, leaving the index as it was."""
        self._store_in_step = False  # until the end: searches pass the store an id selector
        if add is not None:
            self.store.add(*add)
        try:
            snapshot = _Snapshot(entries)
        except Exception:
            if add is not None:
                self.store.remove(add[0].tolist())
            self._store_in_step = True
            raise
        self._snapshot = snapshot
        if add is not None and len(add[0]):
            self._next_row = int(add[0][-1]) + 1
        self.store.remove(remove)
        self._store_in_step = True
        self._persist()

    def _vectors(self, texts: list[str]) -> np.ndarray:
        return embed_cached(texts, self.embedder, self.vector_cache)

    # -- files -------------------------------------------------------------------------------
    def save(self) -> Path | None:
        with self._write_lock:
            return self._persist()

    def _persist(self) -> Path | None:
        if self.root is None:
            return None
        snapshot, next_row = self._snapshot, self._next_row

        def write(folder: Path) -> None:
            with (folder / CHUNKS_FILE).open("w", encoding="utf-8") as out:
                for entry in snapshot.entries:
                    line = {"row": entry.row, "doc_type": entry.doc_type}
                    line["chunk"] = entry.chunk.model_dump(mode="json")
                    out.write(json.dumps(line) + "\n")
            meta = {"next_row": next_row, "model": MODEL_ID, "store": self.store.kind}
            (folder / INDEX_FILE).write_text(json.dumps(meta), encoding="utf-8")
            self.store.save(folder)

        folder = write_generation(self.root, write)
        self._generation = folder.name
        return folder

    def refresh(self) -> bool:
        """Pick up a generation another process saved since this one loaded or saved (a CLI
        ingestion beside a running server). Cheap when nothing changed: one small file read.
        One process writes at a time; two writers would each save over the other's work."""
        if self.root is None:
            return False
        folder = current_generation(self.root)
        if folder is None or folder.name == self._generation:
            return False
        with self._write_lock:
            self._load()
        return True

    def _load(self) -> None:
        folder = current_generation(self.root)
        if folder is None:
            return
        meta = json.loads((folder / INDEX_FILE).read_text(encoding="utf-8"))
        entries = []
        with (folder / CHUNKS_FILE).open(encoding="utf-8") as lines:
            for line in lines:
                item = json.loads(line)
                entries.append(
                    _Entry(item["row"], Chunk.model_validate(item["chunk"]), item["doc_type"])
                )
        snapshot = _Snapshot(entries)  # built first: the store below is swapped a moment apart
        self._store_in_step = False
        try:
            if meta.get("model") != MODEL_ID:  # same dimension, another space: never mix them
                raise ValueError(f"embedded with {meta.get('model')}, not {MODEL_ID}")
            self.store.load(folder)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            log.warning(
                "vector files in %s unusable (%s); rebuilding them from the chunks", folder, exc
            )
            self.store.reset(np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32))
        self._next_row = int(meta["next_row"])
        self._resync(entries)
        self._snapshot = snapshot
        self._store_in_step = True
        self._generation = folder.name

    def _resync(self, entries: list[_Entry]) -> None:
        """Bring the store in line with the saved chunks (Qdrant keeps its own files, so a crash
        between its write and ours can leave them apart; FAISS files are normally in step)."""
        wanted = {e.row: e for e in entries}
        stored = self.store.row_ids()
        extra = stored - wanted.keys()
        lacking = [wanted[r] for r in sorted(wanted.keys() - stored)]
        if extra:
            self.store.remove(sorted(extra))
        if lacking:
            log.info(
                "re-adding %d vectors missing from the %s store", len(lacking), self.store.kind
            )
            vectors = self._vectors([passage_text(e.chunk) for e in lacking])
            self.store.add(np.array([e.row for e in lacking], dtype=np.int64), vectors)


def _check_document(document_id: int, chunks: list[Chunk]) -> None:
    strangers = {c.document_id for c in chunks} - {document_id}
    if strangers:
        raise ValueError(f"chunks of documents {sorted(strangers)} passed for {document_id}")
    ids = [c.id for c in chunks]
    if len(set(ids)) != len(ids):
        raise ValueError("chunk ids must be unique")
