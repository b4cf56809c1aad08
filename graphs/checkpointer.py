"""Where conversations are kept between requests and restarts: LangGraph's checkpointer.

SQLite (a file under var/) by default, PostgreSQL when CHECKPOINT_URL is a postgresql:// URL.
Both keep every turn's graph state per thread, so a follow-up asked after a restart still sees
the conversation. Every turn adds to the store, so conversations nobody has touched for the
retention period are deleted when the platform starts (`prune`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


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
            # the operational database's durability (services/db/engines.py): WAL, synced at
            # checkpoints rather than at every commit; a crash of the process loses nothing,
            # a power cut at most the last turns, and a turn no longer waits for an fsync
            # (bench api: 6 ms of a turn's 19)
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            yield AsyncSqliteSaver(conn, serde=serde)
    else:
        raise ValueError(f"CHECKPOINT_URL must be a sqlite or postgresql URL, not {backend}")


async def prune(saver: BaseCheckpointSaver, before: datetime) -> int:
    """Delete every conversation whose latest turn is older than `before`; how many went.
    A thread's turns go together (the saver's own `adelete_thread`), so none is left half
    deleted."""
    latest: dict[str, datetime] = {}
    async for stored in saver.alist(None):
        thread = stored.config["configurable"]["thread_id"]
        when = datetime.fromisoformat(stored.checkpoint["ts"])
        latest[thread] = max(when, latest.get(thread, when))
    stale = [thread for thread, when in latest.items() if when < before]
    for thread in stale:
        await saver.adelete_thread(thread)
    if stale:
        log.info("deleted %d conversations untouched since %s", len(stale), before.isoformat())
    return len(stale)
