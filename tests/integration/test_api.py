"""The HTTP surface through httpx, on the real demo database, with a scripted model."""

import json

import httpx
import pytest
from sqlalchemy import text

from api.main import create_app
from cli.server import build_server_app
from services.llm.scripted import replies
from tests.conftest import scripted_sql

QUESTION = "How many users are there?"


@pytest.fixture
async def client(make_assistant):
    assistant, _ = make_assistant(scripted_sql({QUESTION: "SELECT COUNT(*) AS users FROM users"}))
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


def _user_count(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM users")).scalar_one()


async def test_docs_and_chat_ui_are_served(make_assistant):
    # Chainlit is a process-wide singleton: the UI can be mounted once per process
    assistant, _ = make_assistant(replies("unused"))
    transport = httpx.ASGITransport(app=build_server_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        assert (await client.get("/docs")).status_code == 200
        ui = await client.get("/chat")
        assert ui.status_code == 200 and "/chat/assets/" in ui.text
        spec = (await client.get("/openapi.json")).json()
        # the UI's socket answers its own page, not a page of another site the browser shows
        handshake = "/chat/ws/socket.io/?EIO=4&transport=polling"
        own = await client.get(handshake, headers={"Origin": "http://127.0.0.1"})
        foreign = await client.get(handshake, headers={"Origin": "https://evil.example"})
        cors = await client.get(
            "/chat/project/settings", headers={"Origin": "https://evil.example"}
        )
        metrics = (await client.get("/metrics")).text
    assert {"/v1/chat", "/v1/chat/stream", "/healthz"} <= spec["paths"].keys()
    assert own.status_code == 200 and own.text.startswith("0{")
    assert foreign.status_code == 400 and "not an accepted origin" in foreign.text
    assert "access-control-allow-origin" not in cors.headers
    # the UI's requests counted under its routes' templates, not each path
    assert 'route="/chat/project/settings",status="401"' in metrics
    assert 'route="/chat/{full_path:path}",status="200"' in metrics


async def test_chat_answers_with_sql_and_rows(client, demo_engine):
    response = await client.post("/v1/chat", json={"message": QUESTION})
    assert response.status_code == 200
    body = response.json()
    assert {"answer", "sql", "rows"} <= body.keys()
    assert body["rows"] == [[_user_count(demo_engine)]]
    assert body["columns"] == [{"name": "users", "type": "number"}]


async def test_chat_as_a_customer_is_scoped(client):
    response = await client.post(
        "/v1/chat", json={"message": QUESTION}, headers={"X-User-Id": "20"}
    )
    assert response.status_code == 200
    assert response.json()["rows"] == [[1]]  # a customer sees only their own user row


async def test_stream_sends_each_step(client, demo_engine):
    async with client.stream("POST", "/v1/chat/stream", json={"message": QUESTION}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        raw = "".join([chunk async for chunk in response.aiter_text()])
    events = [
        (block.split("\n")[0].removeprefix("event: "), json.loads(block.split("\n")[1][6:]))
        for block in raw.strip().split("\n\n")
    ]
    assert [name for name, _ in events] == ["route", "sql", "rows", "answer", "done"]
    assert events[2][1]["rows"] == [[_user_count(demo_engine)]]
    assert events[-1][1]["answer"] == events[3][1]["answer"]


@pytest.mark.parametrize(
    ("payload", "headers", "status", "code"),
    [
        ({"message": ""}, {}, 422, "empty_question"),
        ({"message": "x" * 3000}, {}, 422, "question_too_long"),
        ({"question": "wrong field"}, {}, 422, "invalid_request"),
        ({"message": QUESTION}, {"X-User-Id": "424242"}, 404, "unknown_user"),
        ({"message": QUESTION}, {"X-User-Id": "abc"}, 422, "invalid_request"),
    ],
)
async def test_bad_requests_get_a_specific_error(client, payload, headers, status, code):
    response = await client.post("/v1/chat", json=payload, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


async def test_malformed_json_is_refused(client):
    response = await client.post(
        "/v1/chat", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


async def test_stream_reports_errors_as_an_event(make_assistant):
    assistant, _ = make_assistant(replies("nothing useful"), sql_max_retries=0)
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        response = await client.post("/v1/chat/stream", json={"message": QUESTION})
    assert response.status_code == 200
    assert "event: error" in response.text and "model_no_sql" in response.text


async def test_health_reports_the_parts(client):
    body = (await client.get("/healthz")).json()
    assert body == {"status": "ok", "database": "ok", "model": "ScriptedChatModel"}


def _embedded_calls(metrics: httpx.Response) -> float:
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    prefix = 'trading_assist_llm_calls_total{provider="embedded"} '
    return sum(
        float(line[len(prefix) :]) for line in metrics.text.splitlines() if line.startswith(prefix)
    )


async def test_metrics_count_the_model_calls_of_a_chat(client):
    before = _embedded_calls(await client.get("/metrics"))
    assert (await client.post("/v1/chat", json={"message": QUESTION})).status_code == 200
    metrics = await client.get("/metrics")
    assert "# TYPE trading_assist_llm_calls_total counter" in metrics.text
    assert _embedded_calls(metrics) >= before + 1  # the SQL draft (one value: no sentence call)
