"""Tools in the chat graph on a private copy of the demo database, with a scripted model: a
tool the caller may not use is not offered, a write waits for an explicit yes (kept by the
checkpointer, so another assistant instance can answer it), and a no, a replayed yes, an expired
yes or another user's yes change nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from langchain_core.messages import BaseMessage
from sqlalchemy import func, select, text

from graphs.assistant import Assistant
from retrieval.embeddings import Embedder
from retrieval.factory import open_document_index
from services import clock
from services.db.models import AuditLog, Document
from services.errors import AssistantError
from services.llm.scripted import ScriptedChatModel
from tests.conftest import private_copy

CUSTOMER = 16  # the demo data's users 1-10 are staff
NOTE = "The trading desk opens at 9 for phone orders."


def tool_reply(tool: str, **arguments: Any):
    def respond(messages: Sequence[BaseMessage], kwargs: dict[str, Any]) -> str:
        schema = (kwargs.get("response_format") or {}).get("json_schema", {}).get("name")
        if schema == "tool_call":
            return json.dumps({"tool": tool, "arguments": arguments})
        return "ok"

    return respond


@pytest.fixture(scope="module")
def settings(demo_settings, tmp_path_factory):
    """The demo database and index copied, so added documents stay in this module."""
    return private_copy(demo_settings, tmp_path_factory.mktemp("actions") / "var")


@pytest.fixture(scope="module")
def embedder():
    return Embedder()


@pytest.fixture
async def make(settings, embedder):
    made: list[Assistant] = []

    def build(responder, **options: Any) -> Assistant:
        index = open_document_index(settings, embedder)
        model = ScriptedChatModel(responder=responder)
        assistant = Assistant(settings, model, index=index, **options)
        made.append(assistant)
        return assistant

    yield build
    for assistant in made:
        await assistant.aclose()


def _documents(assistant: Assistant) -> int:
    with assistant.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(Document)).scalar_one()


def _audit(assistant: Assistant, action: str) -> list[tuple[str, dict]]:
    with assistant.engine.connect() as conn:
        rows = conn.execute(
            select(AuditLog.outcome, AuditLog.detail)
            .where(AuditLog.action == action)
            .order_by(AuditLog.id)
        ).all()
    return [(outcome, json.loads(detail)) for outcome, detail in rows]


async def test_a_write_waits_for_yes_and_runs_once(make):
    ingest = tool_reply("ingest_document", filename="desk-hours.md", content=NOTE)
    assistant = make(ingest)
    operator = assistant.caller(None)
    before = _documents(assistant)
    asked = await assistant.ask("Add a note desk-hours.md: " + NOTE, operator)
    pending = asked.pending_action
    assert asked.route == "action" and pending is not None
    assert pending["tool"] == "ingest_document" and "confirm" in asked.answer.lower()
    assert _documents(assistant) == before  # nothing yet

    # another assistant (as another process would) answers the same thread
    other = make(ingest)
    done = await other.resume(asked.thread_id, operator, approve=True, action_id=pending["id"])
    assert done.pending_action is None and done.result["output"]["status"] == "added"
    assert _documents(assistant) == before + 1
    assert _audit(assistant, "tool.ingest_document")[-1][0] == "ok"

    with pytest.raises(AssistantError) as replay:
        await other.resume(asked.thread_id, operator, approve=True, action_id=pending["id"])
    assert replay.value.code == "no_pending_action"
    assert _documents(assistant) == before + 1


async def test_a_no_an_expired_yes_and_another_users_yes_do_nothing(make):
    assistant = make(tool_reply("ingest_document", filename="cut-off.md", content=NOTE))
    operator = assistant.caller(None)
    before = _documents(assistant)

    declined = await assistant.ask("Add a note cut-off.md: " + NOTE, operator)
    no = await assistant.resume(declined.thread_id, operator, approve=False)
    assert "nothing was done" in no.answer.lower()

    late = await assistant.ask("Add a note cut-off.md: " + NOTE, operator)
    with time_machine.travel(clock.now() + timedelta(minutes=11)):
        expired = await assistant.resume(late.thread_id, operator, approve=True)
    assert "expired" in expired.answer.lower()

    stranger = await assistant.ask("Add a note cut-off.md: " + NOTE, operator)
    customer = assistant.caller(CUSTOMER)
    with pytest.raises(AssistantError) as theirs:
        await assistant.resume(stranger.thread_id, customer, approve=True)
    assert theirs.value.code == "no_pending_action"

    assert _documents(assistant) == before
    outcomes = [d.get("code") for o, d in _audit(assistant, "tool.ingest_document")[-2:]]
    assert outcomes == ["declined", "expired"]


async def test_a_customer_cannot_use_a_staff_tool(make):
    sneaky = make(tool_reply("ingest_document", filename="x.md", content=NOTE))
    customer = sneaky.caller(CUSTOMER)
    before = _documents(sneaky)
    refused = await sneaky.ask("Add a note x.md: " + NOTE, customer)
    assert refused.pending_action is None and refused.result is None
    assert refused.answer.startswith("I can't do that here")
    assert _documents(sneaky) == before


async def test_an_argument_naming_a_user_is_refused_and_audited(make):
    spoof = make(
        tool_reply("ingest_document", filename="y.md", content=NOTE, owner="jane@example.com")
    )
    before = _documents(spoof)
    answer = await spoof.ask("Add a note y.md: " + NOTE, spoof.caller(None))
    assert "sign-in" in answer.answer and answer.pending_action is None
    rows = _audit(spoof, "tool.ingest_document")
    assert rows[-1][0] == "refused" and rows[-1][1]["code"] == "invalid_arguments"
    assert _documents(spoof) == before


async def test_a_cut_off_reply_is_a_question_not_a_crash(make, settings):
    from services.llm.scripted_server import Reply, ScriptedModelServer, replies

    with ScriptedModelServer(replies(Reply('{"tool": "search_doc', finish_reason="length"))) as srv:
        from langchain_openai import ChatOpenAI

        model = ChatOpenAI(base_url=f"{srv.url}/v1", api_key="x", model="local", max_retries=0)
        assistant = Assistant(settings, model)
        try:
            answer = await assistant.ask("Buy 0.01 BTCUSD at market", assistant.caller(CUSTOMER))
        finally:
            await assistant.aclose()
    assert answer.route == "action" and "one sentence" in answer.answer


async def test_the_api_streams_a_confirm_event_and_resumes(make):
    import httpx

    from api.main import create_app

    assistant = make(tool_reply("ingest_document", filename="api-note.md", content=NOTE))
    before = _documents(assistant)
    transport = httpx.ASGITransport(app=create_app(assistant))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        streamed = await client.post(
            "/v1/chat/stream", json={"message": "Add a note api-note.md: " + NOTE}
        )
        events = [
            (block.split("\n")[0].removeprefix("event: "), block.split("data: ", 1)[1])
            for block in streamed.text.strip().split("\n\n")
        ]
        kinds = [kind for kind, _ in events]
        assert "confirm" in kinds and kinds[-1] == "done"
        done = json.loads(events[-1][1])
        pending = done["pending_action"]
        thread = done["thread_id"]
        assert pending["tool"] == "ingest_document" and _documents(assistant) == before

        wrong = await client.post(
            f"/v1/threads/{thread}/resume", json={"approve": True, "action_id": "0" * 32}
        )
        assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "no_pending_action"
        ok = await client.post(
            f"/v1/threads/{thread}/resume", json={"approve": True, "action_id": pending["id"]}
        )
        assert ok.status_code == 200 and ok.json()["result"]["output"]["status"] == "added"
        again = await client.post(f"/v1/threads/{thread}/resume", json={"approve": True})
        assert again.status_code == 409
    assert _documents(assistant) == before + 1


async def test_a_price_alert_is_set_only_after_yes(make):
    from services.db.models import PriceAlert

    assistant = make(
        tool_reply("create_price_alert", symbol="AAPL", direction="above", threshold=500)
    )
    customer = assistant.caller(CUSTOMER)

    def alerts() -> int:
        with assistant.engine.connect() as conn:
            query = select(func.count()).where(PriceAlert.user_id == CUSTOMER)
            return conn.execute(query).scalar_one()

    before = alerts()
    asked = await assistant.ask("Alert me when AAPL goes above 500", customer)
    assert asked.pending_action["summary"] == "alert you once when AAPL goes above 500.00"
    assert alerts() == before
    done = await assistant.resume(asked.thread_id, customer, approve=True)
    assert done.result["output"]["alert"]["status"] == "active"
    assert alerts() == before + 1


async def test_a_quote_falls_back_to_the_latest_close(make, demo_engine):
    from tools.registry import ToolContext

    assistant = make(tool_reply("none"))
    ctx = ToolContext(caller=assistant.caller(CUSTOMER), services=assistant.tool_services)
    result = await assistant.tools.call(ctx, "get_quote", {"symbol": "aapl"})
    with demo_engine.connect() as conn:
        close = conn.execute(
            text("SELECT close FROM market_prices WHERE symbol = 'AAPL' ORDER BY price_date DESC")
        ).first()[0]
    assert result.output["quote"]["price"] == close
    assert result.text.startswith("AAPL last traded at")


def _crypto_buyer(assistant: Assistant) -> tuple[int, int]:
    """A customer with approved KYC and one active crypto account with cash, and that account."""
    with assistant.engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT a.user_id, a.id FROM trading_accounts a JOIN kyc_verifications k "
                "ON k.user_id = a.user_id WHERE a.account_type = 'crypto' "
                "AND a.status = 'active' AND a.cash_balance > 5000 AND k.status = 'approved' "
                "AND k.expires_at > CURRENT_TIMESTAMP AND k.id = (SELECT MAX(id) FROM "
                "kyc_verifications WHERE user_id = a.user_id) ORDER BY a.user_id LIMIT 1"
            )
        ).one()
    return row[0], row[1]


def _books(assistant: Assistant) -> tuple:
    with assistant.engine.connect() as conn:
        return tuple(
            conn.execute(text(sql)).scalar_one()
            for sql in (
                "SELECT COUNT(*) FROM orders",
                "SELECT COUNT(*) FROM transactions",
                "SELECT ROUND(SUM(cash_balance), 2) FROM trading_accounts",
            )
        )


async def test_an_order_is_placed_only_after_yes_and_once(make):
    order = {"symbol": "BTCUSD", "side": "buy", "quantity": 0.01}
    assistant = make(tool_reply("place_order", **order))
    user, account = _crypto_buyer(assistant)
    buyer = assistant.caller(user)
    before = _books(assistant)
    asked = await assistant.ask("Buy 0.01 BTCUSD at market", buyer)
    pending = asked.pending_action
    assert pending["tool"] == "place_order"
    assert pending["details"]["account_id"] == account and pending["details"]["ok"]
    assert "buy 0.01 BTCUSD at market in account" in pending["summary"]
    assert _books(assistant) == before
    done = await assistant.resume(asked.thread_id, buyer, approve=True)
    placed = done.result["output"]["order"]
    assert placed["status"] == "filled" and placed["filled_quantity"] == 0.01
    after = _books(assistant)
    assert after[0] == before[0] + 1 and after[1] == before[1] + 2  # the fill and its fee
    assert done.answer.startswith(f"Order {placed['order_id']}: buy 0.01 BTCUSD at market")

    # the portfolio read tool sees the new position at once, without confirmation
    from tools.registry import ToolContext

    ctx = ToolContext(caller=buyer, services=assistant.tool_services)
    portfolio = await assistant.tools.call(ctx, "get_portfolio", {"account_id": account})
    [book] = portfolio.output["portfolio"]["accounts"]
    assert any(p["symbol"] == "BTCUSD" for p in book["positions"])


async def test_another_users_account_is_refused_and_nothing_changes(make):
    probe = make(tool_reply("none"))
    user, _ = _crypto_buyer(probe)
    with probe.engine.connect() as conn:
        theirs = conn.execute(
            text("SELECT id FROM trading_accounts WHERE user_id != :u AND user_id > 10 LIMIT 1"),
            {"u": user},
        ).scalar_one()
    order = {"symbol": "BTCUSD", "side": "buy", "quantity": 0.01, "account_id": theirs}
    assistant = make(tool_reply("place_order", **order))
    before = _books(assistant)
    asked = await assistant.ask(f"Buy 0.01 BTCUSD in account {theirs}", assistant.caller(user))
    assert asked.pending_action is None
    assert f"account {theirs} is not one of your accounts" in asked.answer
    assert _books(assistant) == before
    refusals = _audit(assistant, "tool.place_order")
    assert refusals[-1][0] in ("rejected", "refused")


async def test_a_confirmed_order_reaches_the_customer_as_a_notification(make):
    """Through the serving process's background work: the fill's event leaves the outbox for
    the in-process bus, and the notification consumer queues the customer's in-app message."""
    import asyncio

    import httpx

    from api.main import create_app
    from services.db.models import Notification

    order = {"symbol": "BTCUSD", "side": "buy", "quantity": 0.02}
    assistant = make(tool_reply("place_order", **order))
    user, _ = _crypto_buyer(assistant)
    app = create_app(assistant)
    headers = {"X-User-Id": str(user)}

    def notified() -> list[tuple[str, str]]:
        with assistant.engine.connect() as conn:
            rows = conn.execute(
                select(Notification.channel, Notification.subject).where(
                    Notification.user_id == user, Notification.kind == "order_filled"
                )
            ).all()
        return [tuple(r) for r in rows]

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            asked = await client.post(
                "/v1/chat", json={"message": "Buy 0.02 BTCUSD at market"}, headers=headers
            )
            thread = asked.json()["thread_id"]
            done = await client.post(
                f"/v1/threads/{thread}/resume", json={"approve": True}, headers=headers
            )
            order_id = done.json()["result"]["output"]["order"]["order_id"]
            subject = f"Order {order_id} filled: buy 0.02 BTCUSD"
            for _ in range(100):  # earlier orders' events may be delivered first
                if sum(s == subject for _, s in notified()) >= 2:
                    break
                await asyncio.sleep(0.1)
    # the default preferences: in the app and by email, each once
    assert sorted(n for n in notified() if n[1] == subject) == [
        ("email", subject),
        ("in_app", subject),
    ]


async def test_threads_are_listed_read_and_deleted_by_their_owner_only(make):
    import httpx

    from api.main import create_app

    assistant = make(tool_reply("ingest_document", filename="thread-note.md", content=NOTE))
    transport = httpx.ASGITransport(app=create_app(assistant))
    mine, theirs = {"X-User-Id": "1"}, {"X-User-Id": str(CUSTOMER)}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        asked = await client.post(
            "/v1/chat", json={"message": "Add a note thread-note.md: " + NOTE}, headers=mine
        )
        thread = asked.json()["thread_id"]
        listed = (await client.get("/v1/threads", headers=mine)).json()
        assert thread in [t["thread_id"] for t in listed]
        assert thread not in [
            t["thread_id"] for t in (await client.get("/v1/threads", headers=theirs)).json()
        ]
        detail = (await client.get(f"/v1/threads/{thread}", headers=mine)).json()
        assert detail["pending_action"]["tool"] == "ingest_document"
        assert (await client.get(f"/v1/threads/{thread}", headers=theirs)).status_code == 404
        assert (await client.delete(f"/v1/threads/{thread}", headers=theirs)).status_code == 404
        assert (await client.delete(f"/v1/threads/{thread}", headers=mine)).status_code == 204
        assert (await client.get(f"/v1/threads/{thread}", headers=mine)).status_code == 404
        # the action it waited on went with it
        gone = await client.post(
            f"/v1/threads/{thread}/resume", json={"approve": True}, headers=mine
        )
        assert gone.status_code == 409


async def test_a_figure_no_query_computes_is_answered_by_its_read_tool(make, embedder):
    """The semantic model declares realised P&L a tool figure: the router sends the question
    to `get_portfolio`, the model may only fill that tool's call, and the figure comes from
    the books (FIFO lots), with nothing to confirm."""
    offered: list[list[str]] = []

    def respond(messages: Sequence[BaseMessage], kwargs: dict[str, Any]) -> str:
        schema = (kwargs.get("response_format") or {}).get("json_schema", {})
        if schema.get("name") == "tool_call":
            offered.append([o["properties"]["tool"]["const"] for o in schema["schema"]["anyOf"]])
            return json.dumps({"tool": "get_portfolio", "arguments": {}})
        raise AssertionError("no other model call: the tool's figures are the answer")

    assistant = make(respond, embedder=embedder)  # the router weighs the schema's evidence
    customer = assistant.caller(CUSTOMER)
    answer = await assistant.ask("What is my realised P&L?", customer)
    assert answer.route == "action" and answer.pending_action is None
    assert offered == [["get_portfolio", "none"]]
    realised = assistant.trading.portfolio(customer, None).realised_pnl
    assert f"realised P&L {realised:,.2f}" in answer.answer
