from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.deps import AssistantDep, ChatCaller
from graphs.answers import ChatAnswer

router = APIRouter(prefix="/v1/chat", tags=["chat"])


class ChatRequest(BaseModel):
    message: str = Field(max_length=100_000, description="The question, in plain language.")
    thread_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.:-]{1,100}$",
        description="Continue this conversation (from an earlier answer); omit to start one.",
    )


@router.post("", response_model=ChatAnswer, summary="Ask a question, get the whole answer")
async def chat(body: ChatRequest, assistant: AssistantDep, caller: ChatCaller) -> ChatAnswer:
    return await assistant.ask(body.message, caller, body.thread_id)


@router.post(
    "/stream",
    summary="Ask a question, follow the answer as server-sent events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def chat_stream(body: ChatRequest, assistant: AssistantDep, caller: ChatCaller):
    async def events() -> AsyncIterator[str]:
        async for event in assistant.stream(body.message, caller, body.thread_id):
            yield f"event: {event.event}\ndata: {json.dumps(event.data)}\n\n"

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
