"""The ingestion pipeline: file bytes in, a stored and indexed document version out.

hash → (unchanged? stop) → convert → chunk → blob → one database transaction → index swap.

Re-ingesting a source whose bytes have not changed is a no-op (or, when new access rules or a
new title are given, only those change). Changed bytes become a new version whose chunks replace
the old ones in one transaction, after which the index swaps the document's chunks. Nothing is
left half-done: a file that cannot be read writes nothing, a failed transaction removes the blob
it had just written, and an index that refuses the swap gets the database put back as it was.
"""

from __future__ import annotations

import hashlib
import logging
import time
from enum import StrEnum
from pathlib import PurePath

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from retrieval.chunking import Piece, make_chunks, split
from retrieval.chunks import Chunk, ChunkIndex, DocumentAccess, Visibility
from retrieval.convert import Converter, check_content, file_type
from services import audit
from services.blob_store import BlobError, BlobStore
from services.documents import (
    ChunkRecord,
    DocumentError,
    DocumentFields,
    DocumentRecord,
    DocumentStore,
    NewVersion,
)
from services.identity import Caller, Role

log = logging.getLogger(__name__)


class IngestStatus(StrEnum):
    ADDED = "added"
    NEW_VERSION = "new_version"
    UNCHANGED = "unchanged"
    UPDATED = "updated"  # same bytes, new title, type or access rules


class IngestRequest(BaseModel):
    filename: str = Field(description="File name; its extension decides how it is read.")
    source: str = Field(
        description="Identity of the document: the same source again is a new "
        "version of it, e.g. a resolved path or upload:<file name>."
    )
    title: str | None = Field(
        None,
        max_length=200,
        description="Default: kept, else the document's first heading, else the file name.",
    )
    doc_type: str | None = Field(None, max_length=20, description="Default: kept, else other.")
    access: DocumentAccess | None = Field(
        None, description="Who may read it. Default: kept, else internal (staff only)."
    )


class IngestResult(BaseModel):
    source: str
    filename: str
    status: IngestStatus
    document_id: int
    version: int
    chunks: int = Field(description="Chunks of the version now served.")
    pages: int | None = None
    method: str | None = Field(None, description="How the text was read (not for unchanged).")
    seconds: float


def access_of(fields: DocumentFields) -> DocumentAccess:
    """The access rules stored with a document, as `DocumentAccess`."""
    return DocumentAccess(
        visibility=Visibility(fields.visibility),
        roles=frozenset(Role(r) for r in fields.access_roles),
        user_ids=frozenset(fields.access_user_ids),
    )


def check_access(access: DocumentAccess) -> DocumentAccess:
    """Access rules that say something: restricted names someone, the others name no one.

    >>> check_access(DocumentAccess(visibility="restricted"))
    Traceback (most recent call last):
    ...
    services.documents.DocumentError: a restricted document needs at least one role or user id
    """
    named = bool(access.roles or access.user_ids)
    if access.visibility is Visibility.RESTRICTED and not named:
        raise DocumentError(
            "invalid_access", "a restricted document needs at least one role or user id"
        )
    if access.visibility is not Visibility.RESTRICTED and named:
        raise DocumentError(
            "invalid_access",
            f"roles and user ids only apply to restricted documents, not {access.visibility}",
        )
    return access


def parse_access(
    visibility: str | None, roles: str | None = None, user_ids: str | None = None
) -> DocumentAccess | None:
    """Access rules from text (a form or the command line): comma-separated roles and user ids;
    naming roles or users without a visibility means restricted. None when nothing is said.

    >>> parse_access(None, "support, admin").visibility.value
    'restricted'
    >>> parse_access(None) is None
    True
    """
    role_names = [r.strip() for r in (roles or "").split(",") if r.strip()]
    id_texts = [u.strip() for u in (user_ids or "").split(",") if u.strip()]
    if not visibility and not role_names and not id_texts:
        return None
    try:
        parsed_visibility = Visibility(visibility) if visibility else Visibility.RESTRICTED
        parsed_roles = frozenset(Role(r) for r in role_names)
    except ValueError:
        raise DocumentError(
            "invalid_access",
            "visibility must be public, internal or restricted, and roles among "
            f"{', '.join(r.value for r in Role)}",
        ) from None
    if not all(u.isdigit() for u in id_texts):
        raise DocumentError("invalid_access", "user ids must be comma-separated numbers")
    return check_access(
        DocumentAccess(
            visibility=parsed_visibility,
            roles=parsed_roles,
            user_ids=frozenset(int(u) for u in id_texts),
        )
    )


def blob_key(source: str, content_hash: str, filename: str) -> str:
    """One folder per source, one file per distinct content: a version that returns to earlier
    bytes reuses their blob, and deleting the document empties its folder.

    >>> blob_key("upload:fees.pdf", "ab" * 32, "Fees.PDF")
    'documents/365e93595fe13b3a/abababab...abab.pdf'
    """
    folder = hashlib.sha256(source.encode()).hexdigest()[:16]
    return f"documents/{folder}/{content_hash}{PurePath(filename).suffix.lower()}"


def default_title(filename: str) -> str:
    """
    >>> default_title("aml_policy-2026.docx")
    'Aml policy 2026'
    """
    stem = PurePath(filename).stem.replace("_", " ").replace("-", " ").strip()
    return (stem[:1].upper() + stem[1:])[:200] or filename[:200]


class Ingestor:
    def __init__(
        self,
        engine: Engine,
        blobs: BlobStore,
        index: ChunkIndex,
        converter: Converter,
        *,
        max_chars: int,
        overlap_chars: int,
        max_bytes: int,
    ):
        self.engine = engine
        self.store = DocumentStore(engine)
        self.blobs = blobs
        self.index = index
        self.converter = converter
        self.max_chars = max_chars
        self.overlap_chars = overlap_chars
        self.max_bytes = max_bytes

    def ingest(self, data: bytes, request: IngestRequest, caller: Caller) -> IngestResult:
        """Store and index one file; a `DocumentError` says why not (and nothing was kept)."""
        started = time.perf_counter()
        try:
            result = self._ingest(data, request, caller, started)
        except DocumentError as exc:
            log.warning("ingest of %s refused: %s (%s)", request.source, exc.message, exc.code)
            audit.record(
                self.engine,
                caller,
                "document.ingest",
                "rejected",
                source=request.source,
                code=exc.code,
                reason=exc.message,
            )
            raise
        audit.record(
            self.engine,
            caller,
            "document.ingest",
            "ok",
            source=request.source,
            status=result.status.value,
            document_id=result.document_id,
            version=result.version,
            chunks=result.chunks,
        )
        return result

    def _ingest(
        self, data: bytes, request: IngestRequest, caller: Caller, started: float
    ) -> IngestResult:
        if len(data) > self.max_bytes:
            raise DocumentError(
                "file_too_large",
                f"{request.filename} has {len(data):,} bytes; the limit is {self.max_bytes:,} "
                "(MAX_UPLOAD_BYTES)",
            )
        kind = file_type(request.filename)
        check_content(request.filename, data, kind.kind)
        if request.access is not None:
            check_access(request.access)
        content_hash = hashlib.sha256(data).hexdigest()
        existing = self.store.find_source(request.source)
        if existing and existing.current_version and existing.content_hash == content_hash:
            return self._unchanged(existing, request, started)

        text = self.converter.convert(data, request.filename)
        pieces = split(text, self.max_chars, self.overlap_chars)
        fields = self._fields(request, existing, text.title)
        key = blob_key(request.source, content_hash, request.filename)
        wrote_blob = self._put_blob(key, data, kind.mime)
        before = self.store.snapshot(existing.id if existing else None)
        try:
            document_id, version = self.store.save_version(
                request.source,
                fields,
                NewVersion(
                    filename=request.filename[:255],
                    mime_type=kind.mime,
                    size_bytes=len(data),
                    content_hash=content_hash,
                    blob_key=key,
                    page_count=text.pages,
                    method=text.method,
                    text=text.text,
                    ingested_by=caller.user_id,
                ),
                _records(text.text, pieces),
                expected_version=existing.current_version if existing else None,
            )
        except (DocumentError, SQLAlchemyError) as exc:
            if wrote_blob:
                self.blobs.delete(key)
            if isinstance(exc, DocumentError):
                raise
            if isinstance(exc, IntegrityError):
                raise DocumentError(
                    "ingest_conflict", f"{request.source} was added meanwhile; try again"
                ) from exc
            raise DocumentError(
                "storage_failed", f"the database refused {request.filename}: {type(exc).__name__}"
            ) from exc
        try:
            chunks = make_chunks(
                text.text,
                pieces,
                document_id=document_id,
                version=version,
                title=fields.title,
                access=access_of(fields),
            )
            self.index.replace_document(document_id, chunks, doc_type=fields.doc_type)
        except Exception as exc:
            log.exception("index refused document %s; restoring the previous state", document_id)
            self.store.restore(before, document_id)
            if wrote_blob:
                self.blobs.delete(key)
            raise DocumentError(
                "index_failed",
                f"the search index refused {request.filename} ({type(exc).__name__}); "
                "nothing was changed",
            ) from exc
        return IngestResult(
            source=request.source,
            filename=request.filename,
            status=IngestStatus.NEW_VERSION
            if existing and existing.current_version
            else IngestStatus.ADDED,
            document_id=document_id,
            version=version,
            chunks=len(chunks),
            pages=text.pages,
            method=text.method,
            seconds=round(time.perf_counter() - started, 3),
        )

    def _put_blob(self, key: str, data: bytes, mime: str) -> bool:
        """Write the original file unless the same bytes are kept already; True if written."""
        try:
            if self.blobs.exists(key):
                return False
            self.blobs.put(key, data, mime)
        except BlobError as exc:
            raise DocumentError(
                "storage_failed", f"the blob store refused the file: {exc}"
            ) from exc
        except Exception as exc:  # the SDK's network errors
            raise DocumentError(
                "storage_failed",
                f"the blob store ({self.blobs.description}) is unavailable: {type(exc).__name__}",
            ) from exc
        return True

    def _fields(
        self, request: IngestRequest, existing: DocumentRecord | None, found_title: str | None
    ) -> DocumentFields:
        access = request.access or (access_of(existing) if existing else DocumentAccess())
        return DocumentFields(
            title=request.title
            or (existing.title if existing else None)
            or found_title
            or default_title(request.filename),
            doc_type=request.doc_type or (existing.doc_type if existing else "other"),
            visibility=access.visibility.value,
            access_roles=tuple(sorted(r.value for r in access.roles)),
            access_user_ids=tuple(sorted(access.user_ids)),
        )

    def _unchanged(
        self, existing: DocumentRecord, request: IngestRequest, started: float
    ) -> IngestResult:
        fields = self._fields(request, existing, None)
        current = DocumentFields.model_validate(existing.model_dump())
        status = IngestStatus.UNCHANGED
        chunks = self.store.chunks(existing.id)
        if fields != current:
            before = self.store.snapshot(existing.id)
            self.store.update_fields(existing.id, fields)
            try:
                self.index.replace_document(
                    existing.id, _chunks_of(existing, fields, chunks), doc_type=fields.doc_type
                )
            except Exception as exc:
                self.store.restore(before, existing.id)
                raise DocumentError(
                    "index_failed",
                    f"the search index refused the new access rules "
                    f"({type(exc).__name__}); nothing was changed",
                ) from exc
            status = IngestStatus.UPDATED
        return IngestResult(
            source=request.source,
            filename=request.filename,
            status=status,
            document_id=existing.id,
            version=existing.current_version,
            chunks=len(chunks),
            seconds=round(time.perf_counter() - started, 3),
        )


def _records(text: str, pieces: list[Piece]) -> list[ChunkRecord]:
    return [
        ChunkRecord(
            ordinal=i,
            section=p.section,
            page=p.page,
            start=p.start,
            end=p.end,
            text=text[p.start : p.end],
        )
        for i, p in enumerate(pieces)
    ]


def _chunks_of(
    record: DocumentRecord, fields: DocumentFields, chunks: list[ChunkRecord]
) -> list[Chunk]:
    """Stored chunks as the index's, under the given title and access rules."""
    return [
        Chunk(
            id=f"{record.id}:{c.version}:{c.ordinal}",
            document_id=record.id,
            version=c.version,
            ordinal=c.ordinal,
            title=fields.title,
            section=c.section,
            page=c.page,
            start=c.start,
            end=c.end,
            text=c.text,
            access=access_of(fields),
        )
        for c in chunks
    ]


def stored_chunks(record: DocumentRecord, chunks: list[ChunkRecord]) -> list[Chunk]:
    """A stored document's chunks as the index wants them (to rebuild an index)."""
    return _chunks_of(record, record, chunks)
