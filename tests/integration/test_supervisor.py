"""The supervisor on the real demo database and the real document index (built by the demo
data), with a scripted model: compound questions answered part by part, document answers with
citations, access rules inside the graph, an action no tool can do, and the step budget."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from graphs.assistant import Assistant
from retrieval.embeddings import Embedder
from retrieval.factory import open_document_index
from services.llm.scripted import ScriptedChatModel

COMPOUND = "What is my BTC position, and what does the fee schedule say about withdrawals?"
POSITION_SQL = "SELECT symbol, quantity FROM positions WHERE symbol LIKE 'BTC%'"
WIRE = "International wire withdrawals cost $25.00 each"


def responder(messages: Sequence[BaseMessage], kwargs: dict[str, Any]) -> str:
    schema = (kwargs.get("response_format") or {}).get("json_schema", {}).get("name")
    asked = str(messages[-1].content)
    if schema == "sql_draft":
        return json.dumps({"sql": POSITION_SQL})
    if schema == "rag_answer":
        for number, passage in re.findall(r"^\[(\d+)\] (.+?)(?=^\[\d+\] |\Z)", asked, re.M | re.S):
            if WIRE in passage:
                answer = f"{WIRE} [{number}]."
                return json.dumps(
                    {"answerable": True, "citations": [int(number)], "answer": answer}
                )
        return json.dumps({"answerable": False, "citations": [], "answer": ""})
    if schema == "tool_call":  # no tool here can trade: the model says so
        return json.dumps({"tool": "none"})
    return "Here is what I found."


@pytest.fixture(scope="module")
def index(demo_settings):
    return open_document_index(demo_settings, Embedder())


@pytest.fixture
async def assistant(demo_settings, index):
    model = ScriptedChatModel(responder=responder)
    made = Assistant(demo_settings, model, index=index)
    yield made, model
    await made.aclose()


def _customer_with_btc(assistant: Assistant) -> int:
    from sqlalchemy import text

    with assistant.engine.connect() as conn:
        return conn.execute(
            text("SELECT MIN(user_id) FROM positions WHERE symbol LIKE 'BTC%'")
        ).scalar_one()


async def test_compound_question_is_answered_part_by_part(assistant):
    assistant, _ = assistant
    user_id = _customer_with_btc(assistant)
    events = [e async for e in assistant.stream(COMPOUND, assistant.caller(user_id))]
    kinds = [e.event for e in events]
    assert kinds[0] == "route" and kinds[-1] == "done"
    assert kinds.index("sql") < kinds.index("citations") < kinds.index("answer")
    answer = events[-1].data
    assert [p["query_type"] for p in answer["parts"]] == ["sql", "document"]
    assert answer["routing"]["sensitivity"] == "confidential"
    assert answer["routing"]["provider"] == "local"
    assert f"user_id = {user_id}" in answer["sql"]  # the guard scoped the SQL part
    assert answer["rows"] and all(row[0].startswith("BTC") for row in answer["rows"])
    [citation] = answer["citations"]
    assert citation["title"] == "Fee Schedule"
    assert "Deposits and withdrawals" in (citation["section"] or "")
    assert WIRE in answer["answer"]
    assert answer["answer"].startswith(answer["parts"][0]["answer"])  # both parts, in order


async def test_a_customer_never_gets_an_internal_passage(assistant):
    assistant, model = assistant
    customer = assistant.caller(_customer_with_btc(assistant))
    answer = await assistant.ask(
        "What does the AML policy say about suspicious activity reports?", customer
    )
    shown = " ".join(str(m.content) for call in model.calls for m in call["messages"])
    assert "Anti-Money Laundering Policy" not in shown
    assert all(c["title"] != "Anti-Money Laundering Policy" for c in answer.citations)
    # staff may read it: the same question finds its passages
    staff = await assistant.ask(
        "What does the AML policy say about suspicious activity reports?", assistant.caller(None)
    )
    assert staff.route == "document"
    passages = " ".join(str(m.content) for call in model.calls[-1:] for m in call["messages"])
    assert "Anti-Money Laundering Policy" in passages


async def test_an_action_no_tool_can_do_is_said_so_and_not_carried_out(assistant):
    assistant, _ = assistant
    answer = await assistant.ask("Buy 0.1 BTC at market", assistant.caller(1))
    assert answer.route == "action"
    assert answer.pending_action is None and answer.result is None
    assert answer.answer.startswith("I can't do that here")


async def test_the_step_budget_stops_a_long_request(demo_settings, index):
    model = ScriptedChatModel(responder=responder)
    settings = demo_settings.model_copy(update={"graph_step_budget": 2})
    assistant = Assistant(settings, model, index=index)
    try:
        answer = await assistant.ask(
            "What is my cash balance, what does the fee schedule say about wire withdrawals, "
            "and please buy 0.1 BTC for me",
            assistant.caller(_customer_with_btc(assistant)),
        )
    finally:
        await assistant.aclose()
    assert [p.query_type for p in answer.parts] == ["sql", "document"]  # the action never ran
    assert "more steps than one request may take (2)" in answer.answer
    assert not any(
        (call["kwargs"].get("response_format") or {}).get("json_schema", {}).get("name") == "action"
        for call in model.calls
    )
