from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from api.deps import AssistantDep, CallerDep
from graphs.assistant import ChatAnswer

router = APIRouter(prefix="/v1/chat", tags=["chat"])


class ChatRequest(BaseModel):
    message: str = Field(max_length=100_000, description="The question, in plain language.")
    thread_id: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9_.:-]{1,100}$",
        description="Continue this conversation (from an earlier answer); omit to start one.",
    )


@router.post("", response_model=ChatAnswer, summary="Ask a question, get the whole answer")
async def chat(body: ChatRequest, assistant: AssistantDep, caller: CallerDep) -> ChatAnswer:
    return await assistant.ask(body.message, caller, body.thread_id)


@router.post(
    "/stream",
    summary="Ask a question, follow the answer as server-sent events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def chat_stream(body: ChatRequest, assistant: AssistantDep, caller: CallerDep):
    async def events() -> AsyncIterator[str]:
        async for event in assistant.stream(body.message, caller, body.thread_id):
            yield f"event: {event.event}\ndata: {json.dumps(event.data)}\n\n"

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )


class Feedback(BaseModel):
    answer_id: int = Field(description="The answer_id of the answer being rated.")
    helpful: bool = Field(description="Did the answer answer the question?")


class FeedbackReceipt(BaseModel):
    remembered: bool = Field(description="True when the answer became a verified example.")


@router.post("/feedback", response_model=FeedbackReceipt, summary="Say whether an answer was right")
async def feedback(body: Feedback, assistant: AssistantDep, caller: CallerDep) -> FeedbackReceipt:
    """A helpful answer's question and SQL become a verified example the SQL agent reuses."""
    if not body.helpful:
        return FeedbackReceipt(remembered=False)
    return FeedbackReceipt(remembered=await assistant.remember(body.answer_id, caller))
