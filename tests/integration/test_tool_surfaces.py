"""The tool registry as other systems reach it, on a private copy of the demo database: REST
(`/v1/tools`) and MCP over streamable HTTP (a real server and the official client) and over
stdio (`trading-assist mcp`). The same role and scope checks, audit and confirmation as in the
chat: a read answers, a person's write waits for their yes, a service key's write acts once
with its idempotency key."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy import func, select

from api.main import create_app
from graphs.assistant import Assistant
from retrieval.embeddings import Embedder
from retrieval.factory import open_document_index
from services.auth import api_keys
from services.db.models import Document, PriceAlert
from services.identity import Role, Scope
from services.llm.scripted import ScriptedChatModel, replies
from tests.conftest import private_copy
from tests.integration.live_server import live_server

CUSTOMER = 16


@pytest.fixture(scope="module")
def settings(demo_settings, tmp_path_factory):
    return private_copy(demo_settings, tmp_path_factory.mktemp("tool-surfaces") / "var")


@pytest.fixture
async def assistant(settings):
    index = open_document_index(settings, Embedder())
    made = Assistant(settings, ScriptedChatModel(responder=replies("unused")), index=index)
    yield made
    await made.aclose()


def _count(assistant: Assistant, model, **where) -> int:
    query = select(func.count()).select_from(model)
    for column, value in where.items():
        query = query.where(getattr(model, column) == value)
    with assistant.engine.connect() as conn:
        return conn.execute(query).scalar_one()


async def test_rest_reads_answer_and_a_persons_write_waits_for_yes(assistant):
    transport = httpx.ASGITransport(app=create_app(assistant))
    headers = {"X-User-Id": str(CUSTOMER)}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        listed = (await client.get("/v1/tools", headers=headers)).json()
        names = {t["name"] for t in listed}
        assert {"get_quote", "place_order", "create_price_alert"} <= names
        assert "ingest_document" not in names  # a staff tool is not offered to a customer

        quote = await client.post("/v1/tools/get_quote", json={"symbol": "AAPL"}, headers=headers)
        assert quote.status_code == 200 and quote.json()["result"]["output"]["quote"]["price"] > 0

        before = _count(assistant, PriceAlert, user_id=CUSTOMER)
        alert = {"symbol": "AAPL", "direction": "below", "threshold": 1}
        waiting = await client.post("/v1/tools/create_price_alert", json=alert, headers=headers)
        assert waiting.status_code == 202
        body = waiting.json()
        assert body["pending_action"]["tool"] == "create_price_alert"
        assert _count(assistant, PriceAlert, user_id=CUSTOMER) == before
        done = await client.post(
            f"/v1/threads/{body['thread_id']}/resume",
            json={"approve": True, "action_id": body["pending_action"]["id"]},
            headers=headers,
        )
        assert done.status_code == 200
        assert _count(assistant, PriceAlert, user_id=CUSTOMER) == before + 1

        spoof = await client.post(
            "/v1/tools/get_quote", json={"symbol": "AAPL", "user_id": 3}, headers=headers
        )
        assert spoof.status_code == 422 and "sign-in" in spoof.json()["error"]["message"]
        missing = await client.post("/v1/tools/no_such_tool", json={}, headers=headers)
        assert missing.status_code == 404


async def test_a_service_key_writes_once_with_its_idempotency_key(assistant):
    created = api_keys.create(
        assistant.engine, "doc-sync", Role.SERVICE, frozenset({Scope.TOOLS_READ, Scope.TOOLS_WRITE})
    )
    reader = api_keys.create(
        assistant.engine, "doc-reader", Role.SERVICE, frozenset({Scope.TOOLS_READ})
    )
    transport = httpx.ASGITransport(app=create_app(assistant))
    note = {"filename": "sync-note.md", "content": "# Sync\n\nThe feed refreshes hourly."}
    before = _count(assistant, Document)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        key = {"X-API-Key": created.key}
        no_key = await client.post("/v1/tools/ingest_document", json=note, headers=key)
        assert no_key.status_code == 400
        assert no_key.json()["error"]["code"] == "idempotency_key_required"
        for _ in range(2):  # the retry acts on the same document, adds nothing
            done = await client.post(
                "/v1/tools/ingest_document",
                json=note,
                headers={**key, "Idempotency-Key": "sync-1"},
            )
            assert done.status_code == 200, done.text
        read_only = await client.post(
            "/v1/tools/ingest_document",
            json=note,
            headers={"X-API-Key": reader.key, "Idempotency-Key": "sync-2"},
        )
        assert read_only.status_code == 403
        nobody = await client.post("/v1/tools/get_quote", json={"symbol": "AAPL"})
        assert nobody.status_code in (200, 401)  # the local operator, on a loopback host
    assert _count(assistant, Document) == before + 1


async def test_an_mcp_client_lists_and_calls_tools_over_http(assistant):
    app = create_app(assistant)
    with live_server(app) as base:
        headers = {"X-User-Id": str(CUSTOMER)}
        async with (
            httpx.AsyncClient(headers=headers, timeout=30) as http,
            streamable_http_client(f"{base}/mcp", http_client=http) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = {t.name for t in (await session.list_tools()).tools}
            assert {"get_quote", "place_order", "confirm_action"} <= tools
            quote = await session.call_tool("get_quote", {"symbol": "AAPL"})
            assert not quote.isError and quote.structuredContent["quote"]["symbol"] == "AAPL"

            alert = {"symbol": "AAPL", "direction": "below", "threshold": 2}
            before = _count(assistant, PriceAlert, user_id=CUSTOMER)
            waiting = await session.call_tool("create_price_alert", alert)
            pending = waiting.structuredContent
            assert pending["pending_action"]["tool"] == "create_price_alert"
            assert _count(assistant, PriceAlert, user_id=CUSTOMER) == before
            confirm = {
                "thread_id": pending["thread_id"],
                "action_id": pending["pending_action"]["id"],
                "approve": True,
            }
            done = await session.call_tool("confirm_action", confirm)
            assert not done.isError
            assert _count(assistant, PriceAlert, user_id=CUSTOMER) == before + 1
            again = await session.call_tool("confirm_action", confirm)
            assert again.isError and "not waiting" in again.content[0].text
        refused = httpx.post(f"{base}/mcp", json={}, headers={"Authorization": "Bearer nope"})
        assert refused.status_code == 401


async def test_an_mcp_client_over_stdio(settings):
    env = {
        **os.environ,
        "VAR_DIR": str(settings.var_dir),
        "PYTHONPATH": str(Path(__file__).parents[2]),
    }
    server = StdioServerParameters(
        command=sys.executable,
        args=["-m", "cli.main", "mcp", "--user-id", str(CUSTOMER)],
        env=env,
    )
    async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        tools = {t.name for t in (await session.list_tools()).tools}
        assert "place_order" in tools and "ingest_document" not in tools
        result = await session.call_tool("get_quote", {"symbol": "BTCUSD"})
        assert not result.isError
        assert json.loads(result.content[0].text)["quote"]["symbol"] == "BTCUSD"
