"""What the platform holds about a request: the evidence the router decides a route on.

Two measurements, both taken on what is there at the moment of asking, never on a kept list of
words:
- **documents:** a hybrid search of the document index *as the caller* (so a customer's request
  is never pointed at a staff-only document), giving the best passages' cosine similarity and
  which documents they come from, with each document's visibility. A document ingested a
  moment ago is searched like any other.
- **schema:** the question against the tables, columns, values and the semantic model's names
  and synonyms (`retrieval.schema_evidence`).

How strong each must be is the routing policy's `evidence` section (`agents/routing/policy.yaml`).

>>> class NoDocuments:
...     def search(self, query, caller, k=None, filters=None, *, rerank=True):
...         return []
>>> RoutingEvidence(NoDocuments()).gather("anything", Caller()).document_score
0.0
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field

from retrieval.chunks import Visibility
from retrieval.index import ScoredHit, SearchFilters
from retrieval.schema_evidence import SchemaEvidence, SchemaMatch
from services.identity import Caller

TOP_K = 5


class PassageSearch(Protocol):
    """The document index's search (`retrieval.index.DocumentIndex`)."""

    def search(
        self,
        query: str,
        caller: Caller,
        k: int | None = None,
        filters: SearchFilters | None = None,
        *,
        rerank: bool = True,
    ) -> list[ScoredHit]: ...


class EvidenceDocument(BaseModel):
    document_id: int
    title: str
    visibility: Visibility
    similarity: float = Field(description="Its best passage's cosine similarity to the text.")


class Evidence(BaseModel):
    """What the documents and the database hold about one piece of text."""

    documents: list[EvidenceDocument] = Field(
        default_factory=list, description="Documents of the best passages, best first."
    )
    schema_match: SchemaMatch | None = Field(None, description="None: no schema to match.")

    @property
    def document_score(self) -> float:
        return max((d.similarity for d in self.documents), default=0.0)

    @property
    def schema_score(self) -> float:
        return self.schema_match.score if self.schema_match else 0.0

    def documents_above(self, threshold: float) -> list[EvidenceDocument]:
        return [d for d in self.documents if d.similarity >= threshold]


class RoutingEvidence:
    """Gathers `Evidence`; either source may be missing (no index, no embedder)."""

    def __init__(self, index: PassageSearch | None, schema: SchemaEvidence | None = None):
        self.index = index
        self.schema = schema

    def gather(self, text: str, caller: Caller) -> Evidence:
        documents: dict[int, EvidenceDocument] = {}
        index = self.index
        hits = index.search(text, caller, TOP_K, rerank=False) if index is not None else []
        for hit in sorted(hits, key=lambda h: -h.similarity):
            chunk = hit.chunk
            if chunk.document_id not in documents:
                documents[chunk.document_id] = EvidenceDocument(
                    document_id=chunk.document_id,
                    title=chunk.title,
                    visibility=chunk.access.visibility,
                    similarity=round(hit.similarity, 4),
                )
        schema = self.schema.match(text) if self.schema is not None else None
        return Evidence(documents=list(documents.values()), schema_match=schema)
