"""Ingestion end to end on real files: every format, OCR, versions, deletion, and bad input
that must leave nothing behind. The database, blob folder and converter are real; the index is
a recorder (the real index has its own test at the end)."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from retrieval.chunks import DocumentAccess
from retrieval.convert import Converter
from retrieval.ingest import Ingestor, IngestRequest, IngestStatus
from retrieval.library import DocumentLibrary
from services.blob_store import LocalBlobStore
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import AuditLog, Document, DocumentChunk, DocumentVersion
from services.documents import DocumentError
from services.identity import Caller, Role
from tests.integration.ingest_files import (
    FACT,
    RecordingIndex,
    docx_bytes,
    html_bytes,
    markdown_bytes,
    pdf_bytes,
    png_bytes,
    scanned_pdf_bytes,
    text_bytes,
)

ADMIN = Caller(role=Role.ADMIN)
SUPPORT = Caller(user_id=2, role=Role.SUPPORT)
CUSTOMER = Caller(user_id=30, role=Role.CUSTOMER)


@pytest.fixture(scope="module")
def converter() -> Converter:
    return Converter("rapidocr")


@pytest.fixture
def engine(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'docs.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def index() -> RecordingIndex:
    return RecordingIndex()


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def library(engine, blobs, index, converter) -> DocumentLibrary:
    return DocumentLibrary(
        Ingestor(
            engine,
            blobs,
            index,
            converter,
            max_chars=400,
            overlap_chars=60,
            max_bytes=200_000,
        )
    )


def count(engine, model) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model)).scalar_one()


def request(filename: str, source: str | None = None, **kwargs) -> IngestRequest:
    return IngestRequest(filename=filename, source=source or f"test:{filename}", **kwargs)


FORMATS = {
    "guide.pdf": pdf_bytes,
    "guide.docx": docx_bytes,
    "guide.html": html_bytes,
    "guide.md": markdown_bytes,
    "guide.txt": text_bytes,
}


@pytest.mark.parametrize("filename", sorted(FORMATS))
def test_every_format_is_ingested(filename, library, index, blobs, engine):
    data = FORMATS[filename]()
    result = library.add(data, request(filename), ADMIN)

    assert (result.status, result.version) == (IngestStatus.ADDED, 1)
    chunks = index.documents[result.document_id]
    assert len(chunks) == result.chunks >= 1
    version_text = library.store.version_text(result.document_id, 1)
    assert all(version_text[c.start : c.end] == c.text for c in chunks)
    with_fact = [c for c in chunks if FACT in c.text]
    assert with_fact, [c.text for c in chunks]
    assert blobs.get(blobs.list()[0]) == data  # the original bytes are kept
    record = library.store.get(result.document_id)
    title = "Guide" if filename == "guide.txt" else "Fee Guide"  # no heading: the file's name
    assert (record.title, record.visibility, record.current_version) == (title, "internal", 1)
    if filename == "guide.txt":
        assert "fee_code_7 stays *as written*" in version_text  # not read as Markdown
        return
    assert with_fact[0].section == "Fee Guide > Withdrawals"
    table = [c for c in chunks if "| Gold | $1.50 |" in c.text]
    assert table and "| Standard | $4.00 |" in table[0].text  # the table stays in one piece
    if filename == "guide.pdf":
        assert result.pages == 2
        margin = [c for c in chunks if "charged monthly" in c.text]
        assert (margin[0].page, margin[0].section) == (2, "Fee Guide > Margin")


@pytest.mark.parametrize("engine_name", ["rapidocr", "tesseract"])
def test_ocr_reads_a_rendered_image(engine_name, engine, blobs, index):
    library = DocumentLibrary(
        Ingestor(
            engine,
            blobs,
            index,
            Converter(engine_name),
            max_chars=400,
            overlap_chars=0,
            max_bytes=2_000_000,
        )
    )
    image = png_bytes(["Withdrawal limit 5000 USD", "Contact the compliance desk"])
    result = library.add(image, request("limits.png"), ADMIN)

    words = " ".join(c.text for c in index.documents[result.document_id]).lower()
    assert {"withdrawal", "limit", "5000", "compliance", "desk"} <= set(words.split())
    assert result.method == f"ocr:{engine_name}"


def test_scanned_pdf_is_read_by_ocr(library, index, tmp_path):
    lines = ["Card Policy", "Chargebacks freeze the account", "until the payments team reviews"]
    result = library.add(scanned_pdf_bytes(lines, tmp_path), request("scan.pdf"), ADMIN)

    chunks = index.documents[result.document_id]
    words = " ".join(c.text for c in chunks).lower()
    assert "chargebacks freeze the account" in words and "payments team" in words
    assert result.method == "docling+ocr:rapidocr"
    assert {c.page for c in chunks} == {1}
    assert chunks[0].section == "Card Policy"  # the large first line became the heading


def test_unchanged_file_is_a_no_op(library, index, blobs, engine):
    first = library.add(markdown_bytes(), request("guide.md"), ADMIN)
    calls = len(index.calls)
    again = library.add(markdown_bytes(), request("guide.md"), ADMIN)

    assert again.status is IngestStatus.UNCHANGED
    assert (again.document_id, again.version, again.chunks) == (first.document_id, 1, first.chunks)
    assert len(index.calls) == calls  # the index was not touched
    assert count(engine, DocumentVersion) == 1 and len(blobs.list()) == 1


def test_changed_file_becomes_a_new_version_whose_chunks_replace_the_old(
    library, index, blobs, engine
):
    first = library.add(markdown_bytes(), request("guide.md"), ADMIN)
    second = library.add(
        markdown_bytes("Card withdrawals cost 3.5 percent"), request("guide.md"), ADMIN
    )

    assert (second.status, second.document_id, second.version) == (
        IngestStatus.NEW_VERSION,
        first.document_id,
        2,
    )
    chunks = index.documents[first.document_id]
    assert all(c.id.startswith(f"{first.document_id}:2:") for c in chunks)
    assert any("3.5 percent" in c.text for c in chunks)
    assert not any(FACT in c.text for c in chunks)
    stored = library.store.chunks(first.document_id)
    assert {c.version for c in stored} == {2} and len(stored) == second.chunks
    assert count(engine, DocumentVersion) == 2 and count(engine, Document) == 1
    assert len(blobs.list()) == 2  # every version's file is kept until the document goes


def test_new_access_rules_apply_without_a_new_version(library, index):
    first = library.add(markdown_bytes(), request("guide.md"), ADMIN)
    public = DocumentAccess(visibility="public")
    again = library.add(markdown_bytes(), request("guide.md", access=public), ADMIN)

    assert (again.status, again.version) == (IngestStatus.UPDATED, 1)
    assert {c.access for c in index.documents[first.document_id]} == {public}
    assert [d.id for d in library.visible(CUSTOMER)] == [first.document_id]


def test_listing_follows_each_documents_access_rules(library):
    public = library.add(
        b"public text", request("a.txt", access=DocumentAccess(visibility="public")), ADMIN
    )
    internal = library.add(b"internal text", request("b.txt"), ADMIN)
    restricted = library.add(
        b"board text",
        request("c.txt", access=DocumentAccess(visibility="restricted", user_ids={30})),
        ADMIN,
    )

    def seen(caller):
        return {d.id for d in library.visible(caller)}

    assert seen(CUSTOMER) == {public.document_id, restricted.document_id}
    assert seen(Caller(user_id=31, role=Role.CUSTOMER)) == {public.document_id}
    assert seen(SUPPORT) == {public.document_id, internal.document_id}


def test_only_staff_add_and_only_admins_delete(library, engine):
    with pytest.raises(DocumentError) as refused:
        library.add(markdown_bytes(), request("guide.md"), CUSTOMER)
    assert (refused.value.code, refused.value.status) == ("forbidden", 403)
    added = library.add(markdown_bytes(), request("guide.md"), SUPPORT)
    with pytest.raises(DocumentError) as refused:
        library.delete(added.document_id, SUPPORT)
    assert refused.value.code == "forbidden" and count(engine, Document) == 1


def test_delete_removes_rows_chunks_vectors_and_blobs(library, index, blobs, engine):
    first = library.add(markdown_bytes(), request("guide.md"), ADMIN)
    library.add(markdown_bytes("Card withdrawals cost 3.5 percent"), request("guide.md"), ADMIN)
    kept = library.add(b"another document", request("other.txt"), ADMIN)

    deleted = library.delete(first.document_id, ADMIN)

    assert (deleted.blobs, deleted.chunks > 0) == (2, True)
    assert first.document_id not in index.documents and kept.document_id in index.documents
    assert count(engine, Document) == 1 and count(engine, DocumentVersion) == 1
    assert {c.document_id for c in _all_chunks(engine)} == {kept.document_id}
    assert len(blobs.list()) == 1
    with pytest.raises(DocumentError) as gone:
        library.delete(first.document_id, ADMIN)
    assert (gone.value.code, gone.value.status) == ("unknown_document", 404)


def _all_chunks(engine):
    with engine.connect() as conn:
        return conn.execute(select(DocumentChunk.__table__)).all()


BAD_INPUT = [
    ("sheet.xlsx", b"PK\x03\x04 not really", "unsupported_type", "not supported"),
    ("README", b"no extension", "unsupported_type", "without an extension"),
    ("broken.pdf", b"%PDF-1.7\n1 0 obj <<>> garbage\n%%EOF", "corrupt_file", "damaged"),
    ("fake.pdf", b"<html>not a pdf</html>", "corrupt_file", "not a PDF"),
    ("fake.docx", b"plain words", "corrupt_file", "not a Word document"),
    ("fake.png", b"\x89PNG\r\n\x1a\n truncated", "corrupt_file", "not a readable image"),
    ("blank.png", png_bytes([]), "no_text", "no text could be read"),
    ("empty.md", b"", "empty_file", "is empty"),
    ("spaces.txt", b" \n\n \n", "empty_file", "is empty"),
    ("huge.txt", b"x" * 200_001, "file_too_large", "the limit is 200,000"),
]


@pytest.mark.parametrize(("filename", "data", "code", "message"), BAD_INPUT)
def test_bad_input_is_refused_and_leaves_nothing(
    filename, data, code, message, library, index, blobs, engine, caplog
):
    with caplog.at_level(logging.WARNING), pytest.raises(DocumentError) as refused:
        library.add(data, request(filename), SUPPORT)

    assert refused.value.code == code and message in refused.value.message
    assert filename in refused.value.message
    assert any(code in r.getMessage() for r in caplog.records)  # a log line names it
    assert [count(engine, m) for m in (Document, DocumentVersion, DocumentChunk)] == [0, 0, 0]
    assert blobs.list() == [] and index.calls == []
    with engine.connect() as conn:
        audit = conn.execute(
            select(AuditLog.outcome, AuditLog.detail).order_by(AuditLog.id.desc())
        ).first()
    assert audit.outcome == "rejected" and code in audit.detail


def test_bad_new_version_keeps_the_old_one(library, index):
    first = library.add(pdf_bytes(), request("guide.pdf"), ADMIN)
    with pytest.raises(DocumentError):
        library.add(b"%PDF-1.4 broken", request("guide.pdf"), ADMIN)

    record = library.store.get(first.document_id)
    assert record.current_version == 1
    assert any(FACT in c.text for c in index.documents[first.document_id])


def test_index_failure_puts_everything_back(library, index, blobs, engine):
    first = library.add(markdown_bytes(), request("guide.md"), ADMIN)
    before_chunks = library.store.chunks(first.document_id)
    index.fail = True

    with pytest.raises(DocumentError) as refused:
        library.add(markdown_bytes("Card withdrawals cost 9 percent"), request("guide.md"), ADMIN)
    with pytest.raises(DocumentError):
        library.add(b"brand new", request("new.txt"), ADMIN)

    assert (refused.value.code, refused.value.status) == ("index_failed", 503)
    record = library.store.get(first.document_id)
    assert (record.current_version, count(engine, Document)) == (1, 1)
    assert library.store.chunks(first.document_id) == before_chunks
    assert count(engine, DocumentVersion) == 1 and len(blobs.list()) == 1


def test_restricted_without_anyone_named_is_refused(library, engine):
    with pytest.raises(DocumentError) as refused:
        library.add(
            markdown_bytes(),
            request("guide.md", access=DocumentAccess(visibility="restricted")),
            ADMIN,
        )
    assert refused.value.code == "invalid_access" and count(engine, Document) == 0


def test_demo_documents_are_ingested_with_the_demo_data(demo_engine, demo_settings):
    with demo_engine.connect() as conn:
        documents = conn.execute(
            text("SELECT source, current_version, visibility FROM documents ORDER BY id")
        ).all()
        chunks = conn.execute(text("SELECT COUNT(*) FROM document_chunks")).scalar_one()
    assert len(documents) == 5 and chunks >= 5
    assert all(d.source.startswith("demo:") and d.current_version == 1 for d in documents)
    assert len(LocalBlobStore(demo_settings.var_dir / "blobs").list()) == 5


def test_real_index_serves_what_was_ingested(engine, blobs, converter, tmp_path):
    from retrieval.factory import open_document_index
    from tests.conftest import make_settings

    index = open_document_index(make_settings(tmp_path / "var"))
    library = DocumentLibrary(
        Ingestor(engine, blobs, index, converter, max_chars=400, overlap_chars=60, max_bytes=10**6)
    )
    access = DocumentAccess(visibility="public")
    first = library.add(pdf_bytes(), request("guide.pdf", access=access), ADMIN)

    hits = index.search("How much do card withdrawals cost?", CUSTOMER, k=3)
    assert hits and FACT in hits[0].chunk.text and hits[0].chunk.page == 1

    library.add(
        pdf_bytes("Card withdrawals cost 3.5 percent"), request("guide.pdf", access=access), ADMIN
    )
    texts = [h.chunk.text for h in index.search("card withdrawals cost", CUSTOMER, k=10)]
    assert any("3.5 percent" in t for t in texts) and not any(FACT in t for t in texts)

    library.delete(first.document_id, ADMIN)
    assert index.search("card withdrawals cost", CUSTOMER, k=10) == []


def test_documents_listed_before_0003_become_version_1_with_their_ids(tmp_path, converter):
    from alembic import command

    from cli.setup import demo_docs_dir, ingest_demo_documents
    from services.db.migrate import alembic_config
    from services.demo_data.company_docs import write_company_docs
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "var")
    engine = make_engine(settings.database_url)
    config = alembic_config(settings.database_url)
    rows = write_company_docs(demo_docs_dir(settings), datetime(2026, 1, 1))
    legacy = [{k: v for k, v in r.items() if k in LEGACY_COLUMNS} for r in rows]
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        for row in legacy:
            conn.execute(
                text(
                    "INSERT INTO documents (id, title, filename, doc_type, visibility, mime_type, "
                    "content_hash, created_at) VALUES (:id, :title, :filename, :doc_type, "
                    ":visibility, :mime_type, :content_hash, :created_at)"
                ),
                row,
            )
    upgrade(engine)
    index = RecordingIndex()
    library = DocumentLibrary(
        Ingestor(
            engine,
            LocalBlobStore(tmp_path / "blobs"),
            index,
            converter,
            max_chars=1200,
            overlap_chars=150,
            max_bytes=10**6,
        )
    )
    results = ingest_demo_documents(settings, library)

    assert [r.status for r in results] == [IngestStatus.ADDED] * 5
    assert sorted(r.document_id for r in results) == [r["id"] for r in rows]
    assert sorted(index.documents) == [1, 2, 3, 4, 5]
    assert {d.visibility for d in library.visible(Caller(role=Role.SUPPORT))} == {
        "public",
        "internal",
    }
    assert ingest_demo_documents(settings, library) == []  # nothing left unread
    engine.dispose()


LEGACY_COLUMNS = {
    "id",
    "title",
    "filename",
    "doc_type",
    "visibility",
    "mime_type",
    "content_hash",
    "created_at",
}
