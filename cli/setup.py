"""Getting a machine ready to answer: schema, demo data, model weights."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn
from sqlalchemy import func, select

from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import User
from services.demo_data.company_docs import write_company_docs
from services.demo_data.generator import DemoSummary, load_demo_data, seed_examples
from services.llm.model_files import MODELS, model_path, prepare
from services.settings import LLMProvider, Settings
from services.sql_examples import ensure_seeded

MARKET_SAMPLE = (
    Path(__file__).resolve().parents[2] / "shared/eval-data/market/trading_sample.sqlite"
)


def demo_docs_dir(settings: Settings) -> Path:
    return settings.var_dir / "demo_docs"


def build_demo_data(
    settings: Settings, *, seed: int = 7, users: int = 300, as_of: date | None = None
) -> DemoSummary:
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        as_of = as_of or date.today()
        docs = write_company_docs(demo_docs_dir(settings), datetime(as_of.year, 1, 1))
        sample = MARKET_SAMPLE if MARKET_SAMPLE.exists() else None
        return load_demo_data(
            engine, seed=seed, as_of=as_of, users=users, market_sample=sample, documents=docs
        )
    finally:
        engine.dispose()


def ensure_database(settings: Settings, console: Console) -> None:
    """Migrate; load the demo data only when the database has no users yet."""
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            users = conn.execute(select(func.count()).select_from(User)).scalar_one()
        if users:
            ensure_seeded(engine, seed_examples(datetime.now()))
    finally:
        engine.dispose()
    if users:
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
