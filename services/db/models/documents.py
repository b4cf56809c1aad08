"""The firm's documents, their ingested versions and the passages indexed from them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped

from services.db.models.base import Base, col


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = {"comment": "The firm's documents: policies, fee schedules, handbooks."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Document id.")
    title: Mapped[str] = col(String(200), comment="Human title.")
    filename: Mapped[str] = col(String(255), comment="Original file name of the current version.")
    doc_type: Mapped[str] = col(
        String(20), comment="fee_schedule, policy, handbook, terms, faq or other."
    )
    visibility: Mapped[str] = col(
        String(20),
        comment="public (everyone), internal (staff only) or restricted (only the roles and "
        "users listed in access_roles and access_user_ids).",
    )
    mime_type: Mapped[str] = col(String(100), comment="Media type of the current version's file.")
    content_hash: Mapped[str] = col(
        String(64), internal=True, comment="sha256 of the current version's bytes."
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When it was added (UTC).")
    source: Mapped[str] = col(
        String(500),
        unique=True,
        comment="Where it comes from: the path it was ingested from, upload:<file name>, or "
        "demo:<file name>. Ingesting the same source again makes a new version.",
    )
    current_version: Mapped[int] = col(
        Integer, comment="Version number now served (1 for the first); 0 before any ingestion."
    )
    updated_at: Mapped[datetime] = col(
        DateTime, comment="When the current version or the access rules last changed (UTC)."
    )
    access_roles: Mapped[str] = col(
        String(100),
        comment="Comma-separated roles that may read a restricted document; empty otherwise.",
    )
    access_user_ids: Mapped[str] = col(
        Text, comment="Comma-separated user ids that may read a restricted document."
    )


class DocumentVersion(Base):
    __tablename__ = "document_versions"
    __table_args__ = (
        Index("ix_document_versions_document_version", "document_id", "version", unique=True),
        {"comment": "Every ingested version of a document: its file, its text, how it was read."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Version row id.")
    document_id: Mapped[int] = col(
        ForeignKey("documents.id", ondelete="CASCADE"), comment="Document (documents.id)."
    )
    version: Mapped[int] = col(Integer, comment="Version number within the document, from 1.")
    filename: Mapped[str] = col(String(255), comment="File name as ingested.")
    mime_type: Mapped[str] = col(String(100), comment="Media type of the file.")
    size_bytes: Mapped[int] = col(Integer, comment="Size of the file in bytes.")
    content_hash: Mapped[str] = col(String(64), comment="sha256 of the file's bytes.")
    blob_key: Mapped[str] = col(String(500), comment="Key of the original file in the blob store.")
    page_count: Mapped[int | None] = col(Integer, comment="Pages, for PDFs; empty otherwise.")
    method: Mapped[str] = col(
        String(60), comment="How the text was read, e.g. docling, docling+ocr:rapidocr, text."
    )
    text: Mapped[str] = col(Text, comment="Extracted text (Markdown); chunk offsets refer to it.")
    ingested_by: Mapped[int | None] = col(
        Integer, comment="User id that ingested it; empty for the operator or the system."
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When it was ingested (UTC).")


class DocumentChunk(Base):
    __tablename__ = "document_chunks"
    __table_args__ = {"comment": "Passages of each document's current version, as indexed."}

    id: Mapped[str] = col(
        String(80), primary_key=True, comment="Chunk id: document_id:version:ordinal."
    )
    document_id: Mapped[int] = col(
        ForeignKey("documents.id", ondelete="CASCADE"),
        index=True,
        comment="Document (documents.id).",
    )
    version_id: Mapped[int] = col(
        ForeignKey("document_versions.id", ondelete="CASCADE"),
        index=True,
        comment="Version it was cut from (document_versions.id).",
    )
    ordinal: Mapped[int] = col(Integer, comment="Position in the version, from 0.")
    section: Mapped[str | None] = col(
        String(500), comment="Heading path, e.g. 'Fees > Withdrawals'."
    )
    page: Mapped[int | None] = col(Integer, comment="First page it comes from (PDF), from 1.")
    start_char: Mapped[int] = col(Integer, comment="Start offset in the version's text.")
    end_char: Mapped[int] = col(Integer, comment="End offset (exclusive) in the version's text.")
    text: Mapped[str] = col(Text, comment="The passage: the version's text from start to end.")
