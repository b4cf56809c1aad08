"""The document library as the CLI and the API use it: who may add, see and delete documents.

Staff (support and admin) add documents; everyone lists the documents their access rules let
them read; only admins delete. Deleting removes the document from the index first (so a search
never finds a passage whose document is gone), then its rows in one transaction, then its blobs.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import Engine

from retrieval.chunks import ChunkIndex
from retrieval.convert import Converter
from retrieval.ingest import Ingestor, IngestRequest, IngestResult, access_of, stored_chunks
from services import audit
from services.blob_store import BlobStore, open_blob_store
from services.documents import DocumentError, DocumentRecord, DocumentStore
from services.identity import Caller, Role
from services.settings import Settings

log = logging.getLogger(__name__)


class DocumentInfo(BaseModel):
    """A document as a caller sees it in a listing."""

    id: int
    title: str
    filename: str
    doc_type: str
    visibility: str
    version: int = Field(description="Version now served.")
    chunks: int
    mime_type: str
    created_at: datetime
    updated_at: datetime
    roles: list[str] = Field(default_factory=list, description="Restricted: roles allowed.")
    user_ids: list[int] = Field(
        default_factory=list, description="Restricted: users allowed (shown to staff only)."
    )
    source: str | None = Field(None, description="Where it was ingested from (staff only).")

    @classmethod
    def of(cls, record: DocumentRecord, caller: Caller) -> DocumentInfo:
        staff = caller.role is not Role.CUSTOMER
        return cls(
            id=record.id,
            title=record.title,
            filename=record.filename,
            doc_type=record.doc_type,
            visibility=record.visibility,
            version=record.current_version,
            chunks=record.chunk_count,
            mime_type=record.mime_type,
            created_at=record.created_at,
            updated_at=record.updated_at,
            roles=list(record.access_roles),
            user_ids=list(record.access_user_ids) if staff else [],
            source=record.source if staff else None,
        )


class Deleted(BaseModel):
    document_id: int
    title: str
    chunks: int = Field(description="Chunks removed from the database and the index.")
    blobs: int = Field(description="Stored files removed.")


class DocumentLibrary:
    def __init__(self, ingestor: Ingestor):
        self.ingestor = ingestor
        self.store: DocumentStore = ingestor.store
        self.blobs: BlobStore = ingestor.blobs
        self.index: ChunkIndex = ingestor.index
        self.engine: Engine = ingestor.engine

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        engine: Engine,
        index: ChunkIndex,
        *,
        converter: Converter | None = None,
        blobs: BlobStore | None = None,
    ) -> DocumentLibrary:
        return cls(
            Ingestor(
                engine,
                blobs or open_blob_store(settings.blob_storage_url),
                index,
                converter or Converter(settings.ocr_engine),
                max_chars=settings.chunk_max_chars,
                overlap_chars=settings.chunk_overlap_chars,
                max_bytes=settings.max_upload_bytes,
            )
        )

    def check_can_add(self, caller: Caller) -> None:
        if caller.role is Role.CUSTOMER:
            audit.record(self.engine, caller, "document.ingest", "rejected", code="forbidden")
            raise DocumentError("forbidden", "only staff can add documents")

    def add(self, data: bytes, request: IngestRequest, caller: Caller) -> IngestResult:
        self.check_can_add(caller)
        return self.ingestor.ingest(data, request, caller)

    def visible(self, caller: Caller) -> list[DocumentRecord]:
        """The documents whose access rules let the caller read them (ingested ones only)."""
        return [
            record
            for record in self.store.all()
            if record.current_version and access_of(record).allows(caller)
        ]

    def delete(self, document_id: int, caller: Caller) -> Deleted:
        if caller.role is not Role.ADMIN:
            audit.record(
                self.engine, caller, "document.delete", "rejected", document_id=document_id
            )
            raise DocumentError("forbidden", "only admins can delete documents")
        result = self.remove(document_id)
        audit.record(self.engine, caller, "document.delete", "ok", **result.model_dump())
        return result

    def remove(self, document_id: int) -> Deleted:
        """Delete without a permission check (the operator's and demo-data's path)."""
        record = self.store.get(document_id)
        if record is None:
            raise DocumentError("unknown_document", f"there is no document with id {document_id}")
        chunks = self.store.chunks(document_id)
        keys = self.store.blob_keys(document_id)
        self.index.delete_document(document_id)
        try:
            self.store.delete(document_id)
        except Exception:
            log.exception("deleting document %s failed; putting its chunks back", document_id)
            self.index.replace_document(
                document_id, stored_chunks(record, chunks), doc_type=record.doc_type
            )
            raise
        removed = 0
        for key in keys:
            try:
                self.blobs.delete(key)
                removed += 1
            except Exception:  # a leftover file is harmless; a lost document row is not
                log.exception("could not delete blob %s of document %s", key, document_id)
        log.info(
            "deleted document %s (%s): %d chunks, %d blobs",
            document_id,
            record.title,
            len(chunks),
            removed,
        )
        return Deleted(
            document_id=document_id, title=record.title, chunks=len(chunks), blobs=removed
        )

    def remove_all(self) -> int:
        """Delete every document with its vectors and blobs (before the demo data reloads)."""
        records = self.store.all()
        for record in records:
            self.remove(record.id)
        return len(records)

    def reindex(self) -> int:
        """Give the index every stored chunk again (the database is the source of truth)."""
        count = 0
        for record in self.store.all():
            chunks = stored_chunks(record, self.store.chunks(record.id))
            self.index.replace_document(record.id, chunks, doc_type=record.doc_type)
            count += len(chunks)
        return count
