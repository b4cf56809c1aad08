"""`POST /v1/chat/completions`: the assistant behind OpenAI's chat completions API, so any
OpenAI client (the official SDKs included) can embed it unchanged.

The last user message is the question. A conversation continues in a thread named by the
`X-Thread-Id` header or the `user` field; without one, the earlier messages become the new
thread's history. The answer is the assistant's own (SQL, citations and a pending action ride
along under `trading_assist`); `usage` counts the model tokens the turn spent.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from agents.routing.followup import Turn
from api.deps import AssistantDep, ChatCaller
from graphs.answers import ChatAnswer, final_answer
from services.errors import AssistantError

router = APIRouter(prefix="/v1", tags=["openai-compatible"])
MODEL = "trading-assist"
THREAD = r"^[A-Za-z0-9_.:-]{1,100}$"


class Message(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None

    @property
    def text(self) -> str:
        if isinstance(self.content, list):  # content parts: the text ones, in order
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class CompletionRequest(BaseModel):
    model: str = Field(MODEL, description=f"Always {MODEL}.")
    messages: list[Message] = Field(min_length=1, max_length=200)
    stream: bool = False
    user: str | None = Field(None, pattern=THREAD, description="Continues this thread.")


def _history(messages: list[Message]) -> list[Turn]:
    """Earlier user and assistant messages as the thread's turns, oldest first."""
    turns, asked = [], None
    for message in messages:
        if message.role == "user":
            asked = message.text
        elif message.role == "assistant" and asked is not None:
            turns.append(Turn(question=asked, route="general", answer=message.text))
            asked = None
    return turns


def _question(body: CompletionRequest) -> str:
    if body.messages[-1].role != "user" or not body.messages[-1].text.strip():
        raise AssistantError("invalid_request", "the last message must be the user's question")
    return body.messages[-1].text


def _extras(answer: ChatAnswer) -> dict[str, Any]:
    return {
        "thread_id": answer.thread_id,
        "sql": answer.sql,
        "citations": answer.citations,
        "pending_action": answer.pending_action,
    }


def _usage(answer: ChatAnswer | None) -> dict[str, int]:
    usage = answer.usage if answer else None
    prompt = usage.prompt_tokens if usage else 0
    completion = usage.completion_tokens if usage else 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


@router.post("/chat/completions", summary="OpenAI-compatible chat completions")
async def completions(
    body: CompletionRequest,
    assistant: AssistantDep,
    caller: ChatCaller,
    x_thread_id: Annotated[
        str | None, Header(pattern=THREAD, description="Continues this thread.")
    ] = None,
):
    question = _question(body)
    thread = x_thread_id or body.user
    history = [] if thread else _history(body.messages[:-1])
    events = assistant.stream(question, caller, thread, history=history)
    created, ident = int(time.time()), f"chatcmpl-{uuid.uuid4().hex}"
    if not body.stream:
        answer = await final_answer(events)
        return {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer.answer},
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(answer),
            "trading_assist": _extras(answer),
        }

    async def chunks() -> AsyncIterator[str]:
        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            data = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": MODEL,
                "choices": [choice],
                **extra,
            }
            return f"data: {json.dumps(data, default=str)}\n\n"

        yield chunk({"role": "assistant", "content": ""})
        async for event in events:
            if event.event == "error":
                error = {"message": event.data["message"], "code": event.data["code"]}
                yield f"data: {json.dumps({'error': error})}\n\n"
                break
            if event.event == "done":
                answer = ChatAnswer.model_validate(event.data)
                yield chunk({"content": answer.answer})
                yield chunk({}, "stop", usage=_usage(answer), trading_assist=_extras(answer))
        yield "data: [DONE]\n\n"

    return StreamingResponse(
        chunks(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
