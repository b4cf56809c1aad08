"""Conversations: the caller's threads, one thread's turns, forgetting one, and answering the
action a thread is waiting on."""

from __future__ import annotations

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.deps import AssistantDep, ChatCaller
from graphs.answers import ChatAnswer, ThreadDetail, ThreadSummary

router = APIRouter(prefix="/v1/threads", tags=["threads"])

ThreadId = Path(pattern=r"^[A-Za-z0-9_.:-]{1,100}$", description="The answer's thread_id.")


class ResumeRequest(BaseModel):
    approve: bool = Field(description="True carries the pending action out; false cancels it.")
    action_id: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{32}$",
        description="The pending action's id, so a stale approval cannot approve another.",
    )


@router.post(
    "/{thread_id}/resume",
    response_model=ChatAnswer,
    summary="Approve or reject the action a conversation is waiting on",
    responses={409: {"description": "No action (or another one) is waiting in this thread."}},
)
async def resume(
    body: ResumeRequest, assistant: AssistantDep, caller: ChatCaller, thread_id: str = ThreadId
) -> ChatAnswer:
    return await assistant.resume(thread_id, caller, approve=body.approve, action_id=body.action_id)


@router.get("", response_model=list[ThreadSummary], summary="Your conversations, latest first")
async def list_threads(assistant: AssistantDep, caller: ChatCaller) -> list[ThreadSummary]:
    return await assistant.threads(caller)


@router.get("/{thread_id}", response_model=ThreadDetail, summary="One of your conversations")
async def get_thread(
    assistant: AssistantDep, caller: ChatCaller, thread_id: str = ThreadId
) -> ThreadDetail:
    return await assistant.thread(caller, thread_id)


@router.delete("/{thread_id}", status_code=204, summary="Forget one of your conversations")
async def delete_thread(
    assistant: AssistantDep, caller: ChatCaller, thread_id: str = ThreadId
) -> None:
    await assistant.delete_thread(caller, thread_id)
