"""What ingestion hands to retrieval: chunks of a document version, and who may read them.

Ingestion (`retrieval.ingest`) produces `Chunk`s and keeps them in the SQL database; the search
index (`retrieval.index`) holds their vectors and BM25 terms. The database is the source of truth:
an index can always be rebuilt from it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from pydantic import BaseModel, Field

from services.identity import Caller, Role


class Visibility(StrEnum):
    PUBLIC = "public"  # anyone, customers included
    INTERNAL = "internal"  # staff only (support and admin)
    RESTRICTED = "restricted"  # only the roles and users listed


class DocumentAccess(BaseModel, frozen=True):
    visibility: Visibility = Visibility.INTERNAL
    roles: frozenset[Role] = frozenset()
    user_ids: frozenset[int] = frozenset()

    def allows(self, caller: Caller) -> bool:
        """
        >>> DocumentAccess(visibility="public").allows(Caller(user_id=3))
        True
        >>> internal = DocumentAccess()
        >>> internal.allows(Caller(user_id=3)), internal.allows(Caller(role="support"))
        (False, True)
        >>> DocumentAccess(visibility="restricted", user_ids={3}).allows(Caller(user_id=3))
        True
        """
        if self.visibility is Visibility.PUBLIC:
            return True
        if self.visibility is Visibility.INTERNAL:
            return caller.role is not Role.CUSTOMER
        return caller.role in self.roles or (
            caller.user_id is not None and caller.user_id in self.user_ids
        )


class Chunk(BaseModel, frozen=True):
    id: str = Field(description="Stable id: '{document_id}:{version}:{ordinal}'.")
    document_id: int
    version: int
    ordinal: int = Field(description="Position of the chunk in its version, from 0.")
    title: str = Field(description="The document's title, for citations.")
    section: str | None = Field(None, description="Heading path, e.g. 'Fees > Withdrawals'.")
    page: int | None = Field(None, description="First page the chunk comes from (PDF), from 1.")
    start: int = Field(description="Character offset of the chunk in the version's text.")
    end: int
    text: str
    access: DocumentAccess


class Hit(BaseModel):
    chunk: Chunk
    score: float = Field(description="Fused score; higher is better.")


class ChunkIndex(Protocol):
    """What ingestion needs from the search index."""

    def replace_document(
        self, document_id: int, chunks: list[Chunk], *, doc_type: str | None = None
    ) -> None:
        """Atomically swap a document's chunks for a new version's; `doc_type` feeds the
        search filters."""

    def delete_document(self, document_id: int) -> None: ...
