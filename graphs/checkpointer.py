"""Where conversations are kept between requests and restarts: LangGraph's checkpointer.

SQLite (a file under var/) by default, PostgreSQL when CHECKPOINT_URL is a postgresql:// URL.
Both keep every turn's graph state per thread, so a follow-up asked after a restart still sees
the conversation.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from sqlalchemy.engine import make_url


@asynccontextmanager
async def open_checkpointer(url: str, types: Iterable[type]) -> AsyncIterator[BaseCheckpointSaver]:
    """`types` are the classes a checkpoint may hold; the store rebuilds those and no others,
    so a tampered checkpoint cannot make it instantiate anything else."""
    serde = JsonPlusSerializer(allowed_msgpack_modules=list(types))
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

        # psycopg takes a libpq URL; drop SQLAlchemy's "+driver" part
        libpq = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        async with AsyncPostgresSaver.from_conn_string(libpq, serde=serde) as saver:
            await saver.setup()
            yield saver
    elif backend == "sqlite":
        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        path = Path(parsed.database or "checkpoints.db")
        path.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(str(path)) as conn:
            yield AsyncSqliteSaver(conn, serde=serde)
    else:
        raise ValueError(f"CHECKPOINT_URL must be a sqlite or postgresql URL, not {backend}")
