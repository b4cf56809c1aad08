"""Priming the local model's prompt cache is allowed longer than a request."""

from __future__ import annotations

import openai
import pytest
from langchain_core.messages import SystemMessage

from services.llm.scripted_server import Reply
from tests.integration.providers.helpers import TIMEOUT_S, embedded_local


async def test_priming_outlasts_the_request_timeout_that_bounds_questions(settings, server):
    """A cold schema prompt took longer to process than a question may wait on a slow day; a
    warm-up bounded like a question gave up and left nothing processed."""
    local = embedded_local(settings, server)
    chat = local.start()
    slow = 2 * TIMEOUT_S
    server.play(Reply("x", delay_s=slow), Reply("x", delay_s=slow))
    with pytest.raises(openai.APITimeoutError):
        await chat.ainvoke("a question")
    server.clear()
    await local.prime([SystemMessage("the schema")], slot=1)
    (primed,) = server.recorded("openai")
    assert primed.body["max_completion_tokens"] == 1 and primed.body["id_slot"] == 1
