"""The firm's documents in the SQL database: metadata, versions and the current version's chunks.

The database is the source of truth for documents; the search index is derived from it. Each
`DocumentStore` method that changes something runs in one transaction, so a document is never
seen with a new version but old chunks, or with chunks but no version.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from services import clock
from services.db.models import Document, DocumentChunk, DocumentVersion
from services.errors import AssistantError


class DocumentError(AssistantError):
    """Why a document could not be ingested, listed or deleted, in words for the person asking."""

    STATUS = {
        **AssistantError.STATUS,
        "unsupported_type": 415,
        "empty_file": 422,
        "corrupt_file": 422,
        "no_text": 422,
        "file_too_large": 413,
        "invalid_access": 422,
        "forbidden": 403,
        "unknown_document": 404,
        "ingest_conflict": 409,
        "index_failed": 503,
        "storage_failed": 503,
    }


class DocumentFields(BaseModel):
    """What a person says about a document, as opposed to what is read from its file."""

    title: str = Field(max_length=200)
    doc_type: str = Field("other", max_length=20)
    visibility: str = Field("internal", pattern="^(public|internal|restricted)$")
    access_roles: tuple[str, ...] = ()
    access_user_ids: tuple[int, ...] = ()


class DocumentRecord(DocumentFields):
    id: int
    filename: str
    source: str
    mime_type: str
    content_hash: str
    current_version: int
    created_at: datetime
    updated_at: datetime
    chunk_count: int = 0


class NewVersion(BaseModel):
    filename: str
    mime_type: str
    size_bytes: int
    content_hash: str
    blob_key: str
    page_count: int | None = None
    method: str
    text: str
    ingested_by: int | None = None


class ChunkRecord(BaseModel):
    """A chunk as stored: where it sits in its version's text and what it says."""

    ordinal: int
    section: str | None = None
    page: int | None = None
    start: int
    end: int
    text: str
    version: int = 0  # filled in when read back


def chunk_id(document_id: int, version: int, ordinal: int) -> str:
    """
    >>> chunk_id(3, 2, 0)
    '3:2:0'
    """
    return f"{document_id}:{version}:{ordinal}"


def _now() -> datetime:
    return clock.utcnow()


def _join(values: Iterable[object]) -> str:
    return ",".join(str(v) for v in values)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v for v in (value or "").split(",") if v)


def _record(row, chunk_count: int = 0) -> DocumentRecord:
    return DocumentRecord(
        id=row.id,
        title=row.title,
        doc_type=row.doc_type,
        visibility=row.visibility,
        access_roles=_split(row.access_roles),
        access_user_ids=tuple(int(v) for v in _split(row.access_user_ids)),
        filename=row.filename,
        source=row.source,
        mime_type=row.mime_type,
        content_hash=row.content_hash,
        current_version=row.current_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        chunk_count=chunk_count,
    )


def _field_values(fields: DocumentFields) -> dict:
    return {
        "title": fields.title,
        "doc_type": fields.doc_type,
        "visibility": fields.visibility,
        "access_roles": _join(fields.access_roles),
        "access_user_ids": _join(sorted(fields.access_user_ids)),
    }


# -- repository: statements on a connection, never committing -----------------------------------
def find(conn: Connection, *, document_id: int | None = None, source: str | None = None):
    table = Document.__table__
    where = table.c.id == document_id if document_id is not None else table.c.source == source
    row = conn.execute(select(table).where(where)).first()
    return _record(row) if row else None


def current_chunks(conn: Connection, document_id: int) -> list[ChunkRecord]:
    chunks, versions = DocumentChunk.__table__, DocumentVersion.__table__
    rows = conn.execute(
        select(chunks, versions.c.version)
        .join(versions, versions.c.id == chunks.c.version_id)
        .where(chunks.c.document_id == document_id)
        .order_by(chunks.c.ordinal)
    ).all()
    return [
        ChunkRecord(
            ordinal=r.ordinal,
            section=r.section,
            page=r.page,
            start=r.start_char,
            end=r.end_char,
            text=r.text,
            version=r.version,
        )
        for r in rows
    ]


def _insert_chunks(
    conn: Connection, document_id: int, version_id: int, version: int, chunks: list[ChunkRecord]
) -> None:
    if chunks:
        conn.execute(
            insert(DocumentChunk.__table__),
            [
                {
                    "id": chunk_id(document_id, version, c.ordinal),
                    "document_id": document_id,
                    "version_id": version_id,
                    "ordinal": c.ordinal,
                    "section": c.section[:500] if c.section else None,
                    "page": c.page,
                    "start_char": c.start,
                    "end_char": c.end,
                    "text": c.text,
                }
                for c in chunks
            ],
        )


def _version_id(conn: Connection, document_id: int, version: int) -> int | None:
    versions = DocumentVersion.__table__
    return conn.execute(
        select(versions.c.id).where(
            versions.c.document_id == document_id, versions.c.version == version
        )
    ).scalar_one_or_none()


class Snapshot(BaseModel):
    """A document as it was before a change, enough to put it back."""

    record: DocumentRecord | None
    chunks: list[ChunkRecord] = Field(default_factory=list)


# -- service: one transaction per call -----------------------------------------------------------
class DocumentStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    def find_source(self, source: str) -> DocumentRecord | None:
        with self.engine.connect() as conn:
            return find(conn, source=source)

    def get(self, document_id: int) -> DocumentRecord | None:
        with self.engine.connect() as conn:
            return find(conn, document_id=document_id)

    def all(self) -> list[DocumentRecord]:
        docs, chunks = Document.__table__, DocumentChunk.__table__
        counts = (
            select(chunks.c.document_id, func.count().label("n"))
            .group_by(chunks.c.document_id)
            .subquery()
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(docs, counts.c.n)
                .outerjoin(counts, counts.c.document_id == docs.c.id)
                .order_by(docs.c.id)
            ).all()
        return [_record(row, row.n or 0) for row in rows]

    def chunks(self, document_id: int) -> list[ChunkRecord]:
        with self.engine.connect() as conn:
            return current_chunks(conn, document_id)

    def version_text(self, document_id: int, version: int) -> str | None:
        versions = DocumentVersion.__table__
        with self.engine.connect() as conn:
            return conn.execute(
                select(versions.c.text).where(
                    versions.c.document_id == document_id, versions.c.version == version
                )
            ).scalar_one_or_none()

    def snapshot(self, document_id: int | None) -> Snapshot:
        if document_id is None:
            return Snapshot(record=None)
        with self.engine.connect() as conn:
            return Snapshot(
                record=find(conn, document_id=document_id),
                chunks=current_chunks(conn, document_id),
            )

    def save_version(
        self,
        source: str,
        fields: DocumentFields,
        version: NewVersion,
        chunks: list[ChunkRecord],
        *,
        expected_version: int | None,
    ) -> tuple[int, int]:
        """Add a document, or a new version of the one from `source`, whose chunks replace the
        old ones; all in one transaction. `expected_version` is the version the caller saw
        (None: no document yet); when someone else got there first, nothing is written and
        `ingest_conflict` is raised. Returns (document id, version number)."""
        now = _now()
        docs = Document.__table__
        file_values = {
            "filename": version.filename,
            "mime_type": version.mime_type,
            "content_hash": version.content_hash,
            "updated_at": now,
        }
        with self.engine.begin() as conn:
            existing = find(conn, source=source)
            seen = existing.current_version if existing else None
            if seen != expected_version:
                raise DocumentError(
                    "ingest_conflict",
                    f"{source} changed while it was being ingested; try again",
                )
            if existing is None:
                document_id = conn.execute(
                    insert(docs).values(
                        source=source,
                        current_version=1,
                        created_at=now,
                        **_field_values(fields),
                        **file_values,
                    )
                ).inserted_primary_key[0]
                number = 1
            else:
                document_id = existing.id
                number = self._next_version(conn, document_id)
                conn.execute(
                    update(docs)
                    .where(docs.c.id == document_id)
                    .values(current_version=number, **_field_values(fields), **file_values)
                )
            version_id = conn.execute(
                insert(DocumentVersion.__table__).values(
                    document_id=document_id,
                    version=number,
                    created_at=now,
                    **version.model_dump(),
                )
            ).inserted_primary_key[0]
            chunks_table = DocumentChunk.__table__
            conn.execute(delete(chunks_table).where(chunks_table.c.document_id == document_id))
            _insert_chunks(conn, document_id, version_id, number, chunks)
        return document_id, number

    @staticmethod
    def _next_version(conn: Connection, document_id: int) -> int:
        versions = DocumentVersion.__table__
        highest = conn.execute(
            select(func.max(versions.c.version)).where(versions.c.document_id == document_id)
        ).scalar_one()
        return (highest or 0) + 1

    def update_fields(self, document_id: int, fields: DocumentFields) -> None:
        """Change title, type or access without a new version."""
        docs = Document.__table__
        with self.engine.begin() as conn:
            conn.execute(
                update(docs)
                .where(docs.c.id == document_id)
                .values(updated_at=_now(), **_field_values(fields))
            )

    def restore(self, before: Snapshot, document_id: int) -> None:
        """Put a document back as `before` found it (used when the index refused a change)."""
        docs, versions = Document.__table__, DocumentVersion.__table__
        chunks = DocumentChunk.__table__
        with self.engine.begin() as conn:
            conn.execute(delete(chunks).where(chunks.c.document_id == document_id))
            record = before.record
            if record is None:
                conn.execute(delete(versions).where(versions.c.document_id == document_id))
                conn.execute(delete(docs).where(docs.c.id == document_id))
                return
            conn.execute(
                delete(versions).where(
                    versions.c.document_id == document_id,
                    versions.c.version > record.current_version,
                )
            )
            conn.execute(
                update(docs)
                .where(docs.c.id == document_id)
                .values(
                    filename=record.filename,
                    mime_type=record.mime_type,
                    content_hash=record.content_hash,
                    current_version=record.current_version,
                    updated_at=record.updated_at,
                    **_field_values(record),
                )
            )
            version_id = _version_id(conn, document_id, record.current_version)
            if version_id is not None:
                _insert_chunks(conn, document_id, version_id, record.current_version, before.chunks)

    def blob_keys(self, document_id: int) -> list[str]:
        versions = DocumentVersion.__table__
        with self.engine.connect() as conn:
            return list(
                conn.execute(
                    select(versions.c.blob_key)
                    .where(versions.c.document_id == document_id)
                    .distinct()
                ).scalars()
            )

    def delete(self, document_id: int) -> bool:
        """Remove the document, its versions and its chunks; False when there was none."""
        docs, versions = Document.__table__, DocumentVersion.__table__
        chunks = DocumentChunk.__table__
        with self.engine.begin() as conn:
            conn.execute(delete(chunks).where(chunks.c.document_id == document_id))
            conn.execute(delete(versions).where(versions.c.document_id == document_id))
            return conn.execute(delete(docs).where(docs.c.id == document_id)).rowcount > 0
