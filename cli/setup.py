"""Getting a machine ready to answer: schema, demo data, model weights."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from sqlalchemy import Engine, func, select

from retrieval.chunks import ChunkIndex, DocumentAccess
from retrieval.ingest import IngestRequest, IngestResult
from retrieval.library import DocumentLibrary
from services import clock
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import User
from services.demo_data.company_docs import write_company_docs
from services.demo_data.generator import DemoSummary, load_demo_data, seed_examples
from services.documents import DocumentRecord, DocumentStore
from services.identity import Caller, Role
from services.llm.model_files import MODELS, model_path, prepare
from services.settings import LLMProvider, Settings
from services.sql_examples import ensure_seeded

MARKET_SAMPLE = (
    Path(__file__).resolve().parents[2] / "shared/eval-data/market/trading_sample.sqlite"
)


def demo_docs_dir(settings: Settings) -> Path:
    return settings.var_dir / "demo_docs"


def build_demo_data(
    settings: Settings,
    *,
    seed: int = 7,
    users: int = 300,
    as_of: date | None = None,
    index: ChunkIndex | None = None,
) -> DemoSummary:
    """(Re)load the demo tables and ingest the demo documents into the database, the blob store
    and the search index (`index`, default the platform's own)."""
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        as_of = as_of or clock.today()
        docs = write_company_docs(demo_docs_dir(settings), datetime(as_of.year, 1, 1))
        sample = MARKET_SAMPLE if MARKET_SAMPLE.exists() else None
        library = _library(settings, engine, index)
        library.remove_all()  # the reload empties every table: vectors and blobs go with them
        summary = load_demo_data(
            engine, seed=seed, as_of=as_of, users=users, market_sample=sample, documents=docs
        )
        results = ingest_demo_documents(settings, library)
        summary.rows["document_versions"] = len(results)
        summary.rows["document_chunks"] = sum(r.chunks for r in results)
        return summary
    finally:
        engine.dispose()


def _library(settings: Settings, engine: Engine, index: ChunkIndex | None) -> DocumentLibrary:
    from retrieval.factory import open_document_index

    return DocumentLibrary.from_settings(settings, engine, index or open_document_index(settings))


def _unread_demo_documents(store: DocumentStore) -> list[DocumentRecord]:
    return [r for r in store.all() if r.current_version == 0 and r.source.startswith("demo:")]


def ingest_demo_documents(settings: Settings, library: DocumentLibrary) -> list[IngestResult]:
    """Ingest the demo documents listed but never read (version 0), under their front matter's
    title, type and visibility; the files are written again if they are missing."""
    pending = _unread_demo_documents(library.store)
    folder = demo_docs_dir(settings)
    if any(not (folder / r.filename).exists() for r in pending):
        write_company_docs(folder, min(r.created_at for r in pending))
    operator = Caller(user_id=None, role=Role.ADMIN)
    return [
        library.add(
            (folder / record.filename).read_bytes(),
            IngestRequest(
                filename=record.filename,
                source=record.source,
                title=record.title,
                doc_type=record.doc_type,
                access=DocumentAccess(visibility=record.visibility),
            ),
            operator,
        )
        for record in pending
    ]


def ensure_database(settings: Settings, console: Console) -> None:
    """Migrate; load the demo data only when the database has no users yet."""
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            users = conn.execute(select(func.count()).select_from(User)).scalar_one()
        if users:
            ensure_seeded(engine, seed_examples(clock.utcnow()))
    finally:
        engine.dispose()
    if users:
        engine = make_engine(settings.database_url)
        try:  # a database from before document ingestion lists the demo documents unread
            if _unread_demo_documents(DocumentStore(engine)):
                done = ingest_demo_documents(settings, _library(settings, engine, None))
                console.print(f"demo documents ingested: {len(done)}")
        finally:
            engine.dispose()
        console.print(f"database ready ({users} users)")
        return
    summary = build_demo_data(settings)
    console.print(f"demo data loaded: {sum(summary.rows.values())} rows")


def ensure_model(settings: Settings, console: Console) -> None:
    if settings.llm_provider is not LLMProvider.EMBEDDED:
        return
    spec = MODELS[settings.embedded_model]
    verb = "verifying" if model_path(spec, settings.model_cache_dir).exists() else "preparing"
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(f"{verb} {spec.name.value}", total=None)
        path = prepare(
            spec,
            settings.model_cache_dir,
            lambda done, total: progress.update(task, completed=done, total=total),
        )
    console.print(f"model ready: {path}")
