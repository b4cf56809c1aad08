"""A SQL reply cut off at the token limit is a draft to retry, not a crash: through OpenAI's
real client (which raises on a JSON reply it cannot finish) against the scripted server."""

import json

import pytest

from services.errors import AssistantError
from services.identity import Caller, Role
from services.llm.scripted_server import Reply, ScriptedModelServer
from tests.integration.providers.helpers import embedded_chat

GOOD = "SELECT COUNT(*) FROM orders WHERE status = 'filled'"


async def test_a_cut_off_reply_is_retried_with_its_reason(settings, server, demo_sql_agent):
    server.play(
        Reply('{"sql": "SELECT symbol, symbol, symbol, symbol', finish_reason="length"),
        Reply(json.dumps({"sql": GOOD})),
    )
    agent = demo_sql_agent(embedded_chat(settings, server), max_retries=2)
    outcome = await agent.answer("How many filled orders are there?", Caller(role=Role.ADMIN))
    assert outcome.draft == GOOD and outcome.attempts == 2 and outcome.result.rows
    retry = server.recorded("openai")[-1].last_user_text()
    assert "ran past 400 tokens" in retry


async def test_only_cut_off_replies_leave_no_answer(
    settings, server: ScriptedModelServer, demo_sql_agent
):
    server.play(*[Reply('{"sql": "SELECT', finish_reason="length")] * 3)
    agent = demo_sql_agent(embedded_chat(settings, server), max_retries=2)
    with pytest.raises(AssistantError, match="ran past 400 tokens"):
        await agent.answer("How many filled orders are there?", Caller(role=Role.ADMIN))
    assert len(server.recorded("openai")) == 3
