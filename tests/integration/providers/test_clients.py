"""Chat and streaming through each real client (langchain-ollama, langchain-openai)."""

from __future__ import annotations

import openai
import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, Field

from services.llm.privacy import ProviderKind, Sensitivity
from services.llm.providers import ModelTask
from services.llm.scripted_server import Reply
from tests.integration.providers.helpers import (
    CLOUD_MODEL,
    EMBEDDED_MODEL,
    FALLBACK,
    GENERAL_MODEL,
    KEY,
    SQL_MODEL,
    TIMEOUT_S,
    chats,
    collect,
    embedded_local,
)

# -- chat and streaming through each real client ----------------------------------------------


async def test_ollama_chat_uses_the_model_of_each_task(provider, server):
    handle = provider("ollama")
    server.play(Reply("SELECT 1"), Reply("one user"))
    sql = await handle.for_request(Sensitivity.CONFIDENTIAL, ModelTask.SQL).ainvoke("count")
    answer = await handle.for_request(Sensitivity.CONFIDENTIAL).ainvoke("say it")
    assert (sql.content, answer.content) == ("SELECT 1", "one user")
    sent = chats(server, "ollama")
    assert [r.model for r in sent] == [SQL_MODEL, GENERAL_MODEL]
    assert sent[0].path == "/api/chat" and sent[0].last_user_text() == "count"
    assert handle.kind is ProviderKind.LOCAL and handle.model(ModelTask.SQL) == SQL_MODEL


async def test_ollama_non_streaming_request(provider, server):
    chat = provider("ollama").for_request("public")
    server.play(Reply("whole answer at once"))
    message = await chat.ainvoke("hi", stream=False)
    assert message.content == "whole answer at once"
    assert chats(server, "ollama")[0].stream is False
    assert message.usage_metadata["input_tokens"] == 11


async def test_ollama_streams_chunk_by_chunk(provider, server):
    chat = provider("ollama").for_request("public")
    server.play(Reply("rows are coming in pieces"))
    pieces = [chunk.content async for chunk in chat.astream("hi")]
    assert len([p for p in pieces if p]) == 5
    assert "".join(pieces) == "rows are coming in pieces"
    assert chats(server, "ollama")[0].stream is True


async def test_openrouter_sends_headers_preferences_and_fallbacks(provider, server):
    chat = provider("openrouter").for_request("public")
    server.play(Reply("from the cloud", cost_usd=0.0042))
    assert (await chat.ainvoke("hi")).content == "from the cloud"
    [sent] = chats(server, "openrouter")
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["http-referer"] == "https://assist.example"
    assert sent.headers["x-title"] == "Trading AI Assist"
    assert sent.body["model"] == CLOUD_MODEL
    assert sent.body["models"] == [CLOUD_MODEL, FALLBACK]
    assert sent.body["provider"]["data_collection"] == "deny"


async def test_openrouter_streams_server_sent_events(provider, server):
    chat = provider("openrouter").for_request(Sensitivity.INTERNAL)
    server.play(Reply("streamed from the cloud", cost_usd=0.001))
    pieces = [chunk.content async for chunk in chat.astream("hi")]
    assert "".join(pieces) == "streamed from the cloud"
    assert len([p for p in pieces if p]) == 4
    [sent] = chats(server, "openrouter")
    assert sent.stream and sent.body["stream_options"] == {"include_usage": True}


async def test_embedded_provider_wraps_the_local_model(provider, server):
    handle = provider("embedded")
    chat = handle.for_request(Sensitivity.CONFIDENTIAL, ModelTask.SQL)
    server.play(Reply("SELECT 2"), Reply("streamed locally"))
    assert (await chat.ainvoke("hi")).content == "SELECT 2"
    assert (await collect(chat)).content == "streamed locally"
    assert [r.model for r in chats(server, "embedded")] == [EMBEDDED_MODEL, EMBEDDED_MODEL]
    assert handle.kind is ProviderKind.LOCAL


def test_sync_calls_retry_too(provider, server):
    chat = provider("openrouter").for_request("public")
    server.play(Reply(status=502), Reply("second time lucky"))
    assert chat.invoke("hi").content == "second time lucky"
    server.play(Reply(status=503), Reply("streamed in sync"))
    assert "".join(c.content for c in chat.stream("hi")) == "streamed in sync"
    assert len(chats(server, "openrouter")) == 4


async def test_tools_are_bound_through_the_wrapper(provider, server):
    class LookupOrder(BaseModel):
        """Look up one order."""

        order_id: int = Field(description="The order's id.")

    chat = provider("openrouter").for_request("public").bind_tools([LookupOrder])
    await chat.ainvoke("where is order 7?")
    [sent] = chats(server, "openrouter")
    assert sent.body["tools"][0]["function"]["name"] == "LookupOrder"


async def test_priming_a_slot_can_take_a_longer_bound_than_a_request(settings, server):
    local = embedded_local(settings, server)
    local.start()
    prompt = [HumanMessage("the schema, processed once")]
    server.play(Reply("x", delay_s=2 * TIMEOUT_S), Reply("x", delay_s=2 * TIMEOUT_S))
    with pytest.raises(openai.APITimeoutError):
        await local.prime(prompt, slot=1)
    await local.prime(prompt, slot=1, timeout_s=5 * TIMEOUT_S)
    sent = chats(server, "embedded")
    assert [(r.body["id_slot"], r.body["max_completion_tokens"]) for r in sent] == [(1, 1), (1, 1)]
