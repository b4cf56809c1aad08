"""The SQL agent with the semantic model: its prompt shows the model's names, its instructions
reach the questions they fit by meaning, and a query naming a view is expanded and scoped."""

from __future__ import annotations

import json
from os.path import commonprefix

import pytest
from sqlalchemy import text

from agents.sql import prompts
from agents.sql.semantic.instructions import InstructionMatcher
from graphs.build import platform_notes
from retrieval.embeddings import Embedder
from services.identity import Caller, Role
from services.llm.scripted import ScriptedChatModel
from services.semantic.loader import load_semantic_model

MODEL = load_semantic_model()


def _scripted(*drafts: str) -> ScriptedChatModel:
    replies = iter(json.dumps({"sql": d}) for d in drafts)
    return ScriptedChatModel(responder=lambda _m, _k: next(replies))


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


async def test_the_prompt_lists_the_models_names_and_conventions(demo_sql_agent):
    model = _scripted("SELECT COUNT(*) FROM customers")
    agent = demo_sql_agent(model, semantic=MODEL, notes=platform_notes)
    outcome = await agent.answer("Our number of clients, please", Caller(role=Role.ADMIN))
    system = str(model.calls[0]["messages"][0].content)
    for shown in ("- customers (rows of users)", "- fees_charged (of transactions)", "signed"):
        assert shown in system
    assert "Today is" in system and "Kunden" not in system  # synonyms stand beside a question
    question = str(model.calls[0]["messages"][-1].content)
    assert "- customers: FROM customers" in question  # "clients" named the row set
    assert outcome.result.rows[0][0] > 0 and "role = 'customer'" in outcome.sql


async def test_a_customers_view_query_is_scoped_to_them(demo_sql_agent, demo_engine):
    with demo_engine.connect() as conn:
        user_id, mine = conn.execute(
            text(
                "SELECT user_id, COUNT(*) FROM orders WHERE status IN ('open', 'partially_filled') "
                "GROUP BY user_id ORDER BY 2 DESC LIMIT 1"
            )
        ).one()
    agent = demo_sql_agent(_scripted("SELECT COUNT(*) FROM open_orders"), semantic=MODEL)
    outcome = await agent.answer(
        "Mes ordres ouverts : il y en a combien ?", Caller(user_id=user_id, role=Role.CUSTOMER)
    )
    assert outcome.result.rows == [[mine]]


async def test_a_measure_answers_as_declared(demo_sql_agent, demo_engine):
    with demo_engine.connect() as conn:
        expected = conn.execute(
            text("SELECT -SUM(amount) FROM transactions WHERE type = 'fee'")
        ).scalar()
    agent = demo_sql_agent(_scripted("SELECT fees_charged FROM transactions"), semantic=MODEL)
    outcome = await agent.answer("Total fees charged?", Caller(role=Role.ADMIN))
    assert outcome.result.rows[0][0] == pytest.approx(expected) and expected > 0


async def test_an_instruction_reaches_the_question_it_fits_by_meaning(demo_sql_agent, embedder):
    advice = InstructionMatcher(embedder, MODEL.instructions)
    drafts = ["SELECT AVG(close) FROM market_prices"] * 2
    model = _scripted(*drafts)
    agent = demo_sql_agent(model, semantic=MODEL, advice=advice)
    caller = Caller(role=Role.ADMIN)
    await agent.answer(
        "What was the average closing price of SPY over the last 5 trading days?", caller
    )
    await agent.answer("How many users are there?", caller)
    asked, plain = (str(call["messages"][-1].content) for call in model.calls)
    assert "Advice: Trading days are the dates" in asked
    assert "Advice:" not in plain


def test_open_orders_are_defined_in_the_semantic_model_alone(demo_catalog):
    status = next(c for c in demo_catalog.table("orders").columns if c.name == "status")
    notes = prompts.SQL_SYSTEM + prompts.PLATFORM_NOTES
    assert "open orders" not in status.comment.lower() and "open orders" not in notes.lower()
    (segment,) = [s for c in MODEL.cubes for s in c.segments if s.name == "open_orders"]
    assert "partially_filled" in segment.sql


async def test_a_refused_draft_over_a_view_is_repaired_as_its_base_table(demo_sql_agent):
    """`o.uid` is no column; the repair must not take `open_orders` for a misspelt `orders`
    (dropping the segment's condition) but put the join on its key in the expanded query."""
    model = _scripted("SELECT COUNT(*) FROM open_orders AS o JOIN users AS u ON o.uid = u.id")
    agent = demo_sql_agent(model, semantic=MODEL, max_retries=0)
    outcome = await agent.answer("Open orders of all users?", Caller(role=Role.ADMIN))
    assert "'partially_filled'" in outcome.sql and "o.user_id = u.id" in outcome.sql


def test_a_narrower_roles_schema_prompt_is_the_wider_roles_up_to_their_own_tables(
    demo_sql_agent,
):
    """llama.cpp reuses a processed prompt up to the first token that differs: with the admin's
    own tables last, a support agent's first question pays for the admin-only tables and the
    notes after them, not for the whole schema."""
    agent = demo_sql_agent(
        ScriptedChatModel(responder=lambda *_: ""), semantic=MODEL, max_prompt_tables=100
    )
    admin, support = (
        str(agent.stable_prefix(Caller(role=r))[0].content) for r in (Role.ADMIN, Role.SUPPORT)
    )
    schema = agent.catalog.ddl(agent.policy.tables_for(Role.SUPPORT) & set(agent.catalog.mapping()))
    assert admin.startswith(support[: support.index(schema) + len(schema)])
    assert len(commonprefix([admin, support])) > 0.8 * len(support)
