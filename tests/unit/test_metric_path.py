"""Aggregate questions through the semantic model's measures: the model picks names through a
JSON schema, the layer writes the SQL, and the raw SQL way remains when that fails."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from agents.sql.semantic.metric_path import MetricPath
from retrieval.embeddings import Embedder
from services.identity import Caller, Role
from services.llm.scripted import ScriptedChatModel
from services.semantic.loader import load_semantic_model
from services.semantic.metric_query import MetricQuery, MetricQueryError, compile_metric_query

MODEL = load_semantic_model()
ADMIN = Caller(role=Role.ADMIN)


@pytest.fixture(scope="module")
def metrics() -> MetricPath:
    return MetricPath(Embedder(), MODEL)


def _model(choice: dict, sql: str) -> ScriptedChatModel:
    def respond(_messages, kwargs):
        name = kwargs["response_format"]["json_schema"]["name"]
        return json.dumps(choice) if name == "metric_query" else json.dumps({"sql": sql})

    return ScriptedChatModel(responder=respond)


def _rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


async def test_an_aggregate_question_is_answered_from_the_measures_chosen(
    demo_sql_agent, demo_engine, metrics
):
    choice = {
        "measures": ["fees_charged"],
        "group_by": ["account_id"],
        "order": "largest_first",
        "limit": 5,
    }
    model = _model(choice, "SELECT 1")
    agent = demo_sql_agent(model, semantic=MODEL, metrics=metrics)
    question = "Which five accounts were charged the most in fees?"
    assert metrics.fits(question)
    outcome = await agent.answer(question, ADMIN)
    expected = _rows(
        demo_engine,
        "SELECT account_id, -SUM(amount) AS f FROM transactions WHERE type = 'fee' "
        "GROUP BY account_id ORDER BY f DESC LIMIT 5",
    )
    assert outcome.source == "metric" and len(model.calls) == 1
    assert [tuple(r) for r in outcome.result.rows] == [(a, pytest.approx(f)) for a, f in expected]


async def test_a_customers_metric_answer_is_scoped_to_them(demo_sql_agent, demo_engine, metrics):
    ((user_id, mine),) = _rows(
        demo_engine,
        "SELECT user_id, -SUM(amount) FROM transactions WHERE type = 'fee' "
        "GROUP BY user_id ORDER BY 2 DESC LIMIT 1",
    )
    agent = demo_sql_agent(
        _model({"measures": ["fees_charged"]}, "SELECT 1"), semantic=MODEL, metrics=metrics
    )
    outcome = await agent.answer(
        "How much have I paid in fees in total?", Caller(user_id=user_id, role=Role.CUSTOMER)
    )
    assert outcome.source == "metric" and outcome.result.rows == [[pytest.approx(mine)]]


async def test_a_choice_that_does_not_compile_goes_the_raw_sql_way(demo_sql_agent, metrics):
    model = _model(
        {"measures": ["fees_charged", "net_deposits"]},
        "SELECT SUM(monthly_price) FROM subscriptions",
    )
    agent = demo_sql_agent(model, semantic=MODEL, metrics=metrics)
    outcome = await agent.answer("What is our monthly recurring revenue?", ADMIN)
    assert outcome.source == "model" and len(model.calls) == 2


def test_a_question_about_no_measure_goes_the_raw_sql_way(metrics):
    assert not metrics.fits("Which customers live in Germany?")


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        (MetricQuery(measures=["revenue"]), "no measure revenue"),
        (MetricQuery(measures=["fees_charged", "net_deposits"]), "several cubes"),
        (MetricQuery(measures=["fees_charged"], rows="open_orders"), "no rows of transactions"),
    ],
)
def test_a_metric_query_naming_what_the_model_lacks_is_refused(query, problem):
    with pytest.raises(MetricQueryError, match=problem):
        compile_metric_query(query, MODEL, "sqlite")
