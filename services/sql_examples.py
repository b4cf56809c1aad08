"""Storage of verified question -> SQL pairs (the SQL agent's memory)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select

from services.db.models import SqlExample


def load_examples(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(q, s) for q, s in conn.execute(select(SqlExample.question, SqlExample.sql))]


def add_example(engine: Engine, question: str, sql: str, source: str = "feedback") -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(SqlExample).values(
                question=question,
                sql=sql,
                source=source,
                created_at=datetime.now(UTC).replace(tzinfo=None),
            )
        )


def ensure_seeded(engine: Engine, seeds: list[dict]) -> int:
    """Add the shipped examples to a database that has none (one migrated from before the
    memory existed); return how many were added."""
    with engine.begin() as conn:
        if conn.execute(select(SqlExample.id).limit(1)).first() is not None:
            return 0
        conn.execute(insert(SqlExample), [{k: v for k, v in s.items() if k != "id"} for s in seeds])
    return len(seeds)
