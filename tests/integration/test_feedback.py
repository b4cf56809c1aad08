"""Feedback turns a confirmed answer into a verified example that is reused next time."""

import httpx
import pytest

from api.main import create_app
from retrieval.embeddings import Embedder
from services.llm.scripted import ScriptedChatModel
from tests.conftest import scripted_sql

QUESTION = "How many positions are held in SPY by everyone together?"
SQL = "SELECT COUNT(*) AS spy_positions FROM positions WHERE symbol = 'SPY'"


@pytest.fixture(scope="module")
def embedder():
    return Embedder()


async def test_confirmed_answer_is_reused_without_the_model(demo_settings, embedder):
    from graphs.assistant import Assistant

    model = ScriptedChatModel(responder=scripted_sql({QUESTION: SQL}))
    assistant = Assistant(demo_settings, model, embedder=embedder)
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        first = (await client.post("/v1/chat", json={"message": QUESTION})).json()
        assert first["answer_id"] > 0
        sql_calls = sum("response_format" in c["kwargs"] for c in model.calls)
        assert sql_calls == 1

        # someone else cannot confirm (or learn from) this answer
        other = await client.post(
            "/v1/chat/feedback",
            json={"answer_id": first["answer_id"], "helpful": True},
            headers={"X-User-Id": "20"},
        )
        assert other.status_code == 404 and other.json()["error"]["code"] == "unknown_answer"

        receipt = await client.post(
            "/v1/chat/feedback", json={"answer_id": first["answer_id"], "helpful": True}
        )
        assert receipt.json() == {"remembered": True}

        again = (await client.post("/v1/chat", json={"message": QUESTION + " "})).json()
    assert again["rows"] == first["rows"]
    assert sum("response_format" in c["kwargs"] for c in model.calls) == sql_calls  # no new SQL
    assistant.close()


async def test_unhelpful_feedback_teaches_nothing(make_assistant):
    assistant, _ = make_assistant(scripted_sql({QUESTION: SQL}))
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        first = (await client.post("/v1/chat", json={"message": QUESTION})).json()
        receipt = await client.post(
            "/v1/chat/feedback", json={"answer_id": first["answer_id"], "helpful": False}
        )
    assert receipt.json() == {"remembered": False}
