"""Probes: /healthz (the process answers, with what it runs on) and /readyz (every backing
service it needs answers, and the model is warm). Open to everyone: they say nothing secret."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from api.deps import AssistantDep
from services.errors import AssistantError

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    model: str


@router.get("/healthz", response_model=Health, summary="Is the platform able to answer?")
def health(assistant: AssistantDep) -> Health:
    try:
        assistant.ensure_database()
        database = "ok"
    except AssistantError as exc:
        database = exc.message
    return Health(
        status="ok" if database == "ok" else "degraded",
        database=database,
        model=assistant.model_description,
    )


class Readiness(BaseModel):
    ready: bool
    parts: dict[str, str] = Field(description="Each backing service: ok, or why it is not.")


def _answers(engine: Engine) -> str:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except SQLAlchemyError as exc:
        return f"not answering: {type(exc).__name__}"


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Can this process take traffic? 503 naming the parts that are not ready",
    responses={503: {"model": Readiness}},
)
async def ready(request: Request, response: Response, assistant: AssistantDep) -> Readiness:
    """For a load balancer or orchestrator: the database and its replica answer, Redis answers
    when it is configured, and the model's warm-up has finished (when one was started)."""
    database, replica = await asyncio.gather(
        asyncio.to_thread(_answers, assistant.engine),
        asyncio.to_thread(_answers, assistant.replica),
    )
    parts = {"database": database, "replica": replica}
    if assistant.settings.redis_url:
        try:
            parts["redis"] = (
                "ok" if await request.app.state.rate_limiter.ping() else "not answering"
            )
        except Exception as exc:  # noqa: BLE001 - any failure to reach it means not ready
            parts["redis"] = f"not answering: {type(exc).__name__}"
    if request.app.state.warm_up:
        parts["model"] = "ok" if assistant.warmed else "warming up"
    is_ready = all(status == "ok" for status in parts.values())
    if not is_ready:
        response.status_code = 503
    return Readiness(ready=is_ready, parts=parts)
