from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

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
