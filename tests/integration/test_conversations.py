"""Conversations survive a restart: follow-ups see the earlier turn through the checkpointer,
on the default SQLite file and on PostgreSQL, threads are kept apart per user, and those past
the retention period are deleted at start."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from agents.sql.prompts import UNCHANGED
from graphs.assistant import Assistant
from services.llm.scripted import ScriptedChatModel
from tests.integration import postgres

FIRST = "How many orders are there in total?"
FIRST_SQL = "SELECT COUNT(*) AS orders FROM orders"
FOLLOW_UP = "and only those that were filled?"
FOLLOW_UP_SQL = "SELECT COUNT(*) AS orders FROM orders WHERE status = 'filled'"
FOLLOW_UP_REASON = "a follow-up: no request of its own, so read beside the turn before"


def responder(messages: Sequence[BaseMessage], kwargs: dict[str, Any]) -> str:
    """SQL for the two questions; the follow-up only when the earlier turn came with it."""
    if "response_format" not in kwargs:
        return "Counted."
    asked = [str(m.content) for m in messages if m.type == "human"][-1]
    if f"Follow-up question: {FOLLOW_UP}" in asked:
        assert f"Earlier question: {FIRST}" in asked and f"Earlier SQL: {FIRST_SQL}" in asked
        return json.dumps({"sql": FOLLOW_UP_SQL})
    if asked.endswith(FOLLOW_UP):  # asked without its context: a query that cannot work
        return json.dumps({"sql": "SELECT filled FROM nowhere"})
    return json.dumps({"sql": FIRST_SQL})


async def _conversation_across_restart(settings) -> None:
    first = Assistant(settings, ScriptedChatModel(responder=responder))
    answer = await first.ask(FIRST, first.caller(None), "desk-1")
    assert answer.sql.startswith(FIRST_SQL) and answer.thread_id == "desk-1"
    await first.aclose()

    # a new process: a new assistant over the same conversation store
    model = ScriptedChatModel(responder=responder)
    second = Assistant(settings, model)
    try:
        follow = await second.ask(FOLLOW_UP, second.caller(None), "desk-1")
        assert "status = 'filled'" in follow.sql
        assert follow.route == "sql"
        assert (
            "a follow-up: no request of its own, so read beside the turn before"
            in follow.routing["reasons"]
        )
        # the same thread id of another user is another conversation: no earlier turn
        customer = second.caller(1)
        events = [e async for e in second.stream(FOLLOW_UP, customer, "desk-1")]
        assert events[0].event == "route"
        assert (
            "a follow-up: no request of its own, so read beside the turn before"
            not in events[0].data["reasons"]
        )
    finally:
        await second.aclose()


async def test_follow_up_after_restart_on_sqlite(demo_settings, tmp_path, caplog):
    settings = demo_settings.model_copy(
        update={"checkpoint_url": f"sqlite:///{tmp_path / 'threads.db'}"}
    )
    await _conversation_across_restart(settings)
    assert (tmp_path / "threads.db").stat().st_size > 0
    # every class a checkpoint holds is registered: none is rebuilt on trust
    assert "unregistered type" not in caplog.text


@pytest.mark.postgres
async def test_follow_up_after_restart_on_postgres(demo_settings):
    name = postgres.create_database()
    try:
        settings = demo_settings.model_copy(update={"checkpoint_url": postgres.url(name)})
        await _conversation_across_restart(settings)
    finally:
        postgres.drop_database(name)


def _recording(seen: list[str], sentence: str):
    """A model that answers every SQL request with `FIRST_SQL`, noting the question it was
    asked in `seen`, and says `sentence` when asked for anything else."""

    def respond(messages: Sequence[BaseMessage], kwargs: dict[str, Any]) -> str:
        if "response_format" not in kwargs:
            return sentence
        seen.append([str(m.content) for m in messages if m.type == "human"][-1])
        return json.dumps({"sql": FIRST_SQL})

    return respond


async def test_a_follow_up_is_told_by_the_router_not_by_its_words(make_assistant):
    """A question the rules read on its own is asked alone, whatever words it starts with; a
    fragment the rules cannot read, in any language, is asked beside the turn before."""
    seen: list[str] = []
    assistant, _ = make_assistant(_recording(seen, "Counted."))
    operator = assistant.caller(None)
    first = await assistant.ask(FIRST, operator)
    alone = await assistant.ask("And how many users are there?", operator, first.thread_id)
    fragment = await assistant.ask("und nur die ausgeführten?", operator, first.thread_id)
    assert FOLLOW_UP_REASON not in alone.routing["reasons"]
    assert "how many users are there?" in seen[1] and "Earlier" not in seen[1]
    assert FOLLOW_UP_REASON in fragment.routing["reasons"] and fragment.route == "sql"
    assert "Earlier question: And how many users are there?" in seen[2]
    assert "Follow-up question: und nur die ausgeführten?" in seen[2]
    # what the embeddings guess of a fragment (an action: "Deposit 1000 USD by bank
    # transfer") is no reading of it; it continues the fragment before, as a data question
    seen.clear()
    again = await assistant.ask("same for bank transfers", operator, first.thread_id)
    assert FOLLOW_UP_REASON in again.routing["reasons"] and again.route == "sql"
    assert "Earlier question: und nur die ausgeführten?" in seen[0]
    assert "Follow-up question: same for bank transfers" in seen[0]
    # two fragments on, the words alone read as public: the conversation stays as sensitive
    assert again.routing["sensitivity"] == first.routing["sensitivity"] == "confidential"


async def test_a_follow_up_answered_with_the_earlier_result_is_asked_again(make_assistant):
    """The earlier query's rows again mean the follow-up changed nothing: the model is told
    so, and the query it writes then stands."""
    seen: list[str] = []

    def respond(messages: Sequence[BaseMessage], kwargs: dict[str, Any]) -> str:
        if "response_format" not in kwargs:
            return "Counted."
        seen.append([str(m.content) for m in messages if m.type == "human"][-1])
        changed = UNCHANGED in seen[-1]
        return json.dumps({"sql": FOLLOW_UP_SQL if changed else FIRST_SQL})

    assistant, _ = make_assistant(respond)
    operator = assistant.caller(None)
    first = await assistant.ask(FIRST, operator)
    follow = await assistant.ask(FOLLOW_UP, operator, first.thread_id)
    assert "status = 'filled'" in follow.sql and FOLLOW_UP_REASON in follow.routing["reasons"]
    assert len(seen) == 3 and f"Follow-up question: {FOLLOW_UP}" in seen[2]
    # a question of its own is not held against the turn before it
    alone = await assistant.ask(FIRST, operator, first.thread_id)
    assert alone.sql.startswith(FIRST_SQL) and len(seen) == 4


async def test_a_follow_up_continues_the_turn_as_it_was_routed(make_assistant):
    """A turn keeps how it was routed: a follow-up, and a follow-up of that, continue it
    without routing the earlier words again, and give each reason once."""
    assistant, _ = make_assistant(_recording([], "Counted."))
    routed: list[str] = []
    route = assistant.router.route

    def recorded(question: str, *args: Any, **kwargs: Any):
        routed.append(question)
        return route(question, *args, **kwargs)

    assistant.router.route = recorded
    operator = assistant.caller(None)
    first = await assistant.ask(FIRST, operator)
    await assistant.ask("und nur die ausgeführten?", operator, first.thread_id)
    again = await assistant.ask("same for bank transfers", operator, first.thread_id)
    assert routed == [FIRST, "und nur die ausgeführten?", "same for bank transfers"]
    assert again.routing["reasons"].count(FOLLOW_UP_REASON) == 1
    assert again.routing["complexity"] == first.routing["complexity"]
    assert again.routing["parts"][0]["tables"] == first.routing["parts"][0]["tables"]


async def test_thanks_after_a_data_answer_is_small_talk_not_a_follow_up(make_assistant):
    """Thanks of several words, in any of the customers' languages, are read as small talk and
    answered as such: not asked as a follow-up of the data question before them."""
    asked_sql: list[str] = []
    assistant, _ = make_assistant(_recording(asked_sql, "You're welcome."))
    operator = assistant.caller(None)
    first = await assistant.ask(FIRST, operator)
    for thanks in ("great, thank you!", "super, danke!", "parfait, merci beaucoup"):
        reply = await assistant.ask(thanks, operator, first.thread_id)
        assert reply.route == "general" and FOLLOW_UP_REASON not in reply.routing["reasons"]
    assert len(asked_sql) == 1


async def test_a_conversation_kept_before_its_classes_moved_is_still_read(make_assistant, tmp_path):
    """A checkpoint names each stored class by its module: one written while `Turn` lived in
    `agents.followup` is listed, read and continued after the move."""
    from langgraph.checkpoint.base import empty_checkpoint

    from agents.routing.followup import Turn
    from graphs.chat.state import stored_types
    from graphs.checkpointer import open_checkpointer

    class Moved(Turn):
        pass

    Moved.__module__, Moved.__name__, Moved.__qualname__ = "agents.followup", "Turn", "Turn"
    url = f"sqlite:///{tmp_path / 'threads.db'}"
    kept = empty_checkpoint()
    kept["channel_values"] = {
        "history": [Moved(question=FIRST, route="sql", answer="12", sql=FIRST_SQL)]
    }
    async with open_checkpointer(url, stored_types()) as saver:
        config = {"configurable": {"thread_id": "operator/old-desk", "checkpoint_ns": ""}}
        await saver.aput(config, kept, {"source": "loop", "step": 1, "parents": {}}, {})
    assistant, _ = make_assistant(responder, checkpoint_url=url)
    operator = assistant.caller(None)
    assert [(t.thread_id, t.last_question) for t in await assistant.threads(operator)] == [
        ("old-desk", FIRST)
    ]
    assert (await assistant.thread(operator, "old-desk")).messages[0]["sql"] == FIRST_SQL
    follow = await assistant.ask(FOLLOW_UP, operator, "old-desk")
    assert "status = 'filled'" in follow.sql


async def test_without_a_thread_each_question_starts_a_conversation(make_assistant):
    assistant, model = make_assistant(responder)
    one = await assistant.ask(FIRST, assistant.caller(None))
    two = await assistant.ask(FIRST, assistant.caller(None))
    assert one.thread_id != two.thread_id and len(one.thread_id) == 32


async def _aged_threads(settings) -> None:
    """A thread last touched five years ago is gone once the platform starts with a retention
    period; one touched today, through the graph, is kept with every turn."""
    from langgraph.checkpoint.base import empty_checkpoint

    from graphs.chat.state import stored_types
    from graphs.checkpointer import open_checkpointer

    stale = empty_checkpoint()
    stale["ts"] = "2021-01-01T00:00:00+00:00"
    async with open_checkpointer(settings.checkpoint_url, stored_types()) as saver:
        config = {"configurable": {"thread_id": "operator/old-desk", "checkpoint_ns": ""}}
        await saver.aput(config, stale, {}, {})
    fresh = Assistant(settings, ScriptedChatModel(responder=responder))
    await fresh.ask(FIRST, fresh.caller(None), "desk-1")
    await fresh.aclose()

    restarted = Assistant(
        settings.model_copy(update={"conversation_retention_days": 30}),
        ScriptedChatModel(responder=responder),
    )
    try:
        follow = await restarted.ask(FOLLOW_UP, restarted.caller(None), "desk-1")
        assert "status = 'filled'" in follow.sql  # today's conversation kept
    finally:
        await restarted.aclose()
    async with open_checkpointer(settings.checkpoint_url, stored_types()) as saver:
        kept = {c.config["configurable"]["thread_id"] async for c in saver.alist(None)}
    assert "operator/old-desk" not in kept and any(t.endswith("/desk-1") for t in kept)


async def test_old_conversations_are_deleted_at_start_on_sqlite(demo_settings, tmp_path):
    url = f"sqlite:///{tmp_path / 'threads.db'}"
    await _aged_threads(demo_settings.model_copy(update={"checkpoint_url": url}))


@pytest.mark.postgres
async def test_old_conversations_are_deleted_at_start_on_postgres(demo_settings):
    name = postgres.create_database()
    try:
        await _aged_threads(demo_settings.model_copy(update={"checkpoint_url": postgres.url(name)}))
    finally:
        postgres.drop_database(name)


async def test_a_store_it_cannot_read_is_kept_and_the_platform_answers(
    demo_settings, tmp_path, caplog
):
    path = tmp_path / "threads.db"
    settings = demo_settings.model_copy(update={"checkpoint_url": f"sqlite:///{path}"})
    first = Assistant(settings, ScriptedChatModel(responder=responder))
    await first.ask(FIRST, first.caller(None), "desk-1")
    await first.aclose()
    with sqlite3.connect(path) as conn:  # a checkpoint no serializer can read
        conn.execute("UPDATE checkpoints SET type = 'no-such-type', checkpoint = x'00'")
    restarted = Assistant(settings, ScriptedChatModel(responder=responder))
    try:
        answer = await restarted.ask(FIRST, restarted.caller(None), "desk-2")
        assert answer.sql.startswith(FIRST_SQL)
    finally:
        await restarted.aclose()
    assert "old conversations could not be deleted" in caplog.text
    with sqlite3.connect(path) as conn:
        (unread,) = conn.execute(
            "SELECT COUNT(*) FROM checkpoints WHERE type = 'no-such-type'"
        ).fetchone()
    assert unread > 0
