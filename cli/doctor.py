"""What `trading-assist doctor` checks: each configured part, and whether it answers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from services.db.engines import make_engine, make_replica_engine
from services.db.migrate import is_current
from services.llm.health import provider_health
from services.settings import Settings


@dataclass(frozen=True)
class Check:
    part: str
    configured: str
    ok: bool
    status: str


def _database(settings: Settings) -> Check:
    engine = make_engine(settings.database_url)
    try:
        ok = is_current(engine)
        return Check(
            "database",
            engine.url.render_as_string(),
            ok,
            "ok" if ok else "no schema: run `trading-assist demo-data`",
        )
    except Exception as exc:  # any driver error means: not reachable
        return Check("database", settings.database_url, False, str(exc).splitlines()[0])
    finally:
        engine.dispose()


def _replica(settings: Settings) -> Check:
    engine = make_replica_engine(settings.read_replica_url, settings.sql_timeout_s)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            if (
                conn.dialect.name == "postgresql"
                and conn.execute(
                    text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                ).scalar()
            ):
                return Check(
                    "read replica",
                    settings.read_replica_url,
                    False,
                    "connects as a superuser: use a SELECT-only role",
                )
        return Check("read replica", settings.read_replica_url, True, "ok")
    except Exception as exc:  # any driver error means: not reachable
        return Check("read replica", settings.read_replica_url, False, str(exc).splitlines()[0])
    finally:
        engine.dispose()


def _models(settings: Settings) -> list[Check]:
    return [
        Check(f"model: {h.provider}", h.model, h.ok, h.detail) for h in provider_health(settings)
    ]


def _unconfigured(part: str, value: str | None, embedded: str) -> Check:
    return Check(part, value or embedded, True, "ok" if value else "embedded default")


def diagnose(settings: Settings) -> list[Check]:
    return [
        _database(settings),
        _replica(settings),
        *_models(settings),
        _unconfigured("vector store", settings.qdrant_url, f"{settings.vector_store} on disk"),
        _unconfigured("cache and rate limits", settings.redis_url, "in memory"),
        Check("blob storage", settings.blob_storage_url, True, "ok"),
        Check("message bus", settings.message_bus_url, True, "ok"),
    ]
