"""What `trading-assist doctor` checks: each configured part, and whether it answers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
from sqlalchemy import text

from services.db.engines import make_engine, make_replica_engine
from services.db.migrate import is_current
from services.llm.health import provider_health
from services.notifications.smtp_email import email_health
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


def _message_bus(settings: Settings) -> Check:
    """The bus MESSAGE_BUS_URL picks, asked to answer (a broker connection, a sender link)."""
    from services.errors import AssistantError
    from services.events.bus import open_bus

    try:
        bus = open_bus(settings)
    except AssistantError as exc:
        return Check("message bus", settings.message_bus_url.split(";")[0], False, exc.message)

    async def probe() -> str:
        try:
            return await asyncio.wait_for(bus.ping(), settings.events_publish_timeout_s)
        finally:
            await bus.close()

    try:
        return Check("message bus", bus.description, True, asyncio.run(probe()))
    except Exception as exc:  # any driver error means: not reachable
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return Check("message bus", bus.description, False, detail)


def _outbox(settings: Settings) -> Check:
    """Events waiting for the bus: a growing number means no dispatcher runs, or the bus
    refuses them (the last error says which)."""
    from services.events.status import outbox_status

    engine = make_engine(settings.database_url)
    try:
        status = outbox_status(engine)
    except Exception as exc:  # no schema yet, or the database is unreachable
        return Check("event outbox", "outbox_events", False, str(exc).splitlines()[0])
    finally:
        engine.dispose()
    detail = f"{status.pending} pending ({status.retrying} backing off)"
    if status.oldest_pending_age_s is not None:
        detail += f", oldest {status.oldest_pending_age_s:,.0f} s"
    if status.last_error:
        detail += f"; last error: {status.last_error.splitlines()[0][:200]}"
    return Check("event outbox", "outbox_events", True, detail)


def _unconfigured(part: str, value: str | None, embedded: str) -> Check:
    return Check(part, value or embedded, True, "ok" if value else "embedded default")


def _email(settings: Settings) -> Check:
    where = f"{settings.smtp_host}:{settings.smtp_port}" if settings.smtp_host else "log only"
    ok, status = email_health(settings)
    return Check("email (notifications)", where, ok, status)


def _traces(settings: Settings) -> list[Check]:
    """Where spans go; an OTLP collector is asked to accept an empty export. Nothing to say
    when tracing is off."""
    from services.settings import TracesExporter
    from services.telemetry import azure_ingestion_endpoint, otlp_traces_url

    exporter = settings.otel_traces_exporter
    if exporter is TracesExporter.NONE:
        return []
    if exporter is TracesExporter.CONSOLE:
        return [Check("traces", "console (standard output)", True, "ok")]
    if exporter is TracesExporter.AZURE_MONITOR:
        # the ingestion API takes only signed telemetry: any HTTP answer means it is reachable
        endpoint = azure_ingestion_endpoint(settings)
        try:
            httpx.get(endpoint, timeout=5)
        except httpx.HTTPError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else "unreachable"
            return [Check("traces", f"azure monitor {endpoint}", False, reason)]
        return [Check("traces", f"azure monitor {endpoint}", True, "ok")]
    url = otlp_traces_url(settings.otel_exporter_otlp_endpoint)
    try:
        answer = httpx.post(
            url, content=b"", headers={"Content-Type": "application/x-protobuf"}, timeout=5
        )
    except httpx.HTTPError as exc:
        return [Check("traces", f"otlp {url}", False, str(exc).splitlines()[0] or "unreachable")]
    ok = answer.status_code == 200
    return [Check("traces", f"otlp {url}", ok, "ok" if ok else f"HTTP {answer.status_code}")]


def diagnose(settings: Settings) -> list[Check]:
    return [
        _database(settings),
        _replica(settings),
        *_models(settings),
        _unconfigured("vector store", settings.qdrant_url, f"{settings.vector_store} on disk"),
        _unconfigured("cache and rate limits", settings.redis_url, "in memory"),
        Check("blob storage", settings.blob_storage_url, True, "ok"),
        _message_bus(settings),
        _outbox(settings),
        _email(settings),
        *_traces(settings),
    ]
