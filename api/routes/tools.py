"""The tool registry for other systems: the tools a caller may use, and calling one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Response

from api.deps import AssistantDep, ToolReader
from graphs.tool_calls import ToolCallOutcome, call_tool

router = APIRouter(prefix="/v1/tools", tags=["tools"])


@router.get("", summary="The tools you may call, with their JSON schemas")
async def list_tools(assistant: AssistantDep, caller: ToolReader) -> list[dict[str, Any]]:
    return assistant.tools.schemas(caller)


@router.post(
    "/{name}",
    response_model=ToolCallOutcome,
    summary="Call a tool: a read answers at once, a write waits for your yes",
    responses={202: {"description": "A write waiting for confirmation (resume the thread)."}},
)
async def call(
    assistant: AssistantDep,
    caller: ToolReader,
    response: Response,
    name: Annotated[str, Path(pattern=r"^[a-z_]{1,64}$", description="The tool's name.")],
    arguments: Annotated[dict[str, Any], Body(description="The tool's arguments.")],
    idempotency_key: Annotated[
        str | None,
        Header(max_length=100, description="A service's key for a write: a retry acts once."),
    ] = None,
) -> ToolCallOutcome:
    outcome = await call_tool(assistant, caller, name, arguments, idempotency_key)
    if outcome.pending_action is not None:
        response.status_code = 202
    return outcome
