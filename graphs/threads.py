"""The caller's conversations as the checkpointer keeps them: listed, read, deleted, and old
ones pruned.

A thread is kept under its owner's key, so nobody continues (or reads) another's conversation;
everything here goes through that key. Kept apart from the facade (`graphs.assistant`), which
checks who may do what and writes the audit trail.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from graphs.answers import ThreadDetail, ThreadSummary
from graphs.chat.state import read_state
from graphs.checkpointer import prune
from services import clock
from services.errors import AssistantError
from services.identity import Caller

log = logging.getLogger(__name__)


def thread_key(caller: Caller, thread_id: str) -> str:
    """Threads are kept per user, so nobody continues (or reads) another's conversation."""
    owner = "operator" if caller.user_id is None else f"user-{caller.user_id}"
    return f"{owner}/{thread_id}"


async def summaries(checkpointer: BaseCheckpointSaver, caller: Caller) -> list[ThreadSummary]:
    """The caller's conversations, the latest first."""
    owner = thread_key(caller, "")
    latest: dict[str, Any] = {}
    async for stored in checkpointer.alist(None):
        key = stored.config["configurable"]["thread_id"]
        if not key.startswith(owner):
            continue
        when = stored.checkpoint["ts"]
        if key not in latest or when > latest[key].checkpoint["ts"]:
            latest[key] = stored
    found = []
    for key, stored in latest.items():
        history = read_state(stored.checkpoint["channel_values"]).get("history") or []
        found.append(
            ThreadSummary(
                thread_id=key.removeprefix(owner),
                updated_at=stored.checkpoint["ts"],
                turns=len(history),
                last_question=history[-1].question if history else None,
            )
        )
    return sorted(found, key=lambda t: t.updated_at, reverse=True)


async def detail(graph, caller: Caller, thread_id: str) -> ThreadDetail:
    """One of the caller's conversations: its turns (question, route, answer, SQL) and the
    action it waits on, if any; another user's thread is "not found", as a missing one."""
    config = {"configurable": {"thread_id": thread_key(caller, thread_id)}}
    snapshot = await graph.aget_state(config)
    if not snapshot.values:
        raise AssistantError("not_found", f"there is no conversation {thread_id} of yours")
    history = read_state(snapshot.values).get("history") or []
    return ThreadDetail(
        thread_id=thread_id,
        updated_at=snapshot.created_at or "",
        turns=len(history),
        last_question=history[-1].question if history else None,
        messages=[turn.model_dump() for turn in history],
        pending_action=snapshot.interrupts[0].value if snapshot.interrupts else None,
    )


async def delete(checkpointer: BaseCheckpointSaver, caller: Caller, thread_id: str) -> None:
    """Forget one of the caller's conversations, whole (the caller checks it is theirs)."""
    await checkpointer.adelete_thread(thread_key(caller, thread_id))


async def prune_old(checkpointer: BaseCheckpointSaver, days: int) -> None:
    """Delete the conversations untouched for `days`. It runs beside the first answer, and a
    failure is logged, never raised."""
    try:
        await prune(checkpointer, clock.now() - timedelta(days=days))
    except Exception:  # a store it cannot read keeps its data, and the platform runs
        log.exception("old conversations could not be deleted")
