"""Feedback turns a confirmed answer into a verified example that is reused next time: at once
when staff confirm it, after a staff review when a customer does."""

import asyncio
import json

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
        assert receipt.json() == {"outcome": "remembered", "review_id": None}

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
    assert receipt.json() == {"outcome": "ignored", "review_id": None}


CUSTOMER = {"X-User-Id": "20"}
SUPPORT_QUESTION = "How many orders did I place in total?"
CUSTOMER_SQL = "SELECT COUNT(*) AS orders_placed FROM orders"


def _sql_calls(model) -> int:
    return sum("response_format" in c["kwargs"] for c in model.calls)


async def test_a_customers_confirmation_waits_for_staff_review(demo_settings, embedder, tmp_path):
    from graphs.assistant import Assistant
    from tests.conftest import private_copy

    settings = private_copy(demo_settings, tmp_path / "var")
    model = ScriptedChatModel(responder=scripted_sql({SUPPORT_QUESTION: CUSTOMER_SQL}))
    assistant = Assistant(settings, model, embedder=embedder)
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        ask = lambda: client.post("/v1/chat", json={"message": SUPPORT_QUESTION}, headers=CUSTOMER)  # noqa: E731
        first = (await ask()).json()
        confirm = {"answer_id": first["answer_id"], "helpful": True}
        receipt = (await client.post("/v1/chat/feedback", json=confirm, headers=CUSTOMER)).json()
        assert receipt["outcome"] == "queued" and receipt["review_id"] > 0
        again = await client.post("/v1/chat/feedback", json=confirm, headers=CUSTOMER)
        assert again.json()["review_id"] == receipt["review_id"]  # one review per answer

        # until staff decide, the model is asked again: nothing was learnt
        calls = _sql_calls(model)
        await ask()
        assert _sql_calls(model) == calls + 1

        # the queue is for staff only
        forbidden = await client.get("/v1/chat/feedback/reviews", headers=CUSTOMER)
        assert forbidden.status_code == 403
        queue = (await client.get("/v1/chat/feedback/reviews")).json()
        assert [(r["id"], r["question"], r["sql"], r["proposed_by"]) for r in queue] == [
            (receipt["review_id"], SUPPORT_QUESTION, CUSTOMER_SQL, 20)
        ]
        review = f"/v1/chat/feedback/reviews/{receipt['review_id']}"
        no_reason = await client.post(review, json={"approve": False})
        assert no_reason.status_code == 422

        approved = (await client.post(review, json={"approve": True})).json()
        assert approved["status"] == "approved" and approved["reviewer_id"] is None
        twice = await client.post(review, json={"approve": False, "reason": "changed my mind"})
        assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_decided"
        assert (await client.get("/v1/chat/feedback/reviews")).json() == []

        # approved: the same question reuses the SQL without the model
        calls = _sql_calls(model)
        reused = (await ask()).json()
        assert _sql_calls(model) == calls
        assert reused["rows"] == first["rows"]
    assistant.close()


async def test_an_approval_made_with_the_cli_reaches_a_running_assistant(
    demo_settings, embedder, tmp_path, monkeypatch
):
    """The CLI approves while the assistant runs (through the database, as from another
    process): the next question uses the example."""
    from typer.testing import CliRunner

    from cli.main import app
    from graphs.assistant import Assistant
    from services.settings import get_settings
    from tests.conftest import private_copy

    settings = private_copy(demo_settings, tmp_path / "var")
    model = ScriptedChatModel(responder=scripted_sql({SUPPORT_QUESTION: CUSTOMER_SQL}))
    assistant = Assistant(settings, model, embedder=embedder)
    customer = assistant.caller(20)
    first = await assistant.ask(SUPPORT_QUESTION, customer)
    receipt = await assistant.feedback.confirm(first.answer_id, customer, helpful=True)

    monkeypatch.setenv("VAR_DIR", str(settings.var_dir))
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        listed = await asyncio.to_thread(runner.invoke, app, ["examples", "list", "--json"])
        assert listed.exit_code == 0, listed.output
        assert [r["id"] for r in json.loads(listed.stdout)] == [receipt.review_id]
        as_customer = await asyncio.to_thread(
            runner.invoke, app, ["examples", "approve", str(receipt.review_id), "--user-id", "20"]
        )
        assert as_customer.exit_code == 1 and "only support and admins" in as_customer.output
        approved = await asyncio.to_thread(
            runner.invoke, app, ["examples", "approve", str(receipt.review_id)]
        )
        assert approved.exit_code == 0, approved.output
    finally:
        get_settings.cache_clear()

    calls = _sql_calls(model)
    await assistant.ask(SUPPORT_QUESTION, customer)
    assert _sql_calls(model) == calls
    assistant.close()
