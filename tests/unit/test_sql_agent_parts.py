"""Schema linking, voting and the evaluation's judge, each on real data."""

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from retrieval.embeddings import Embedder
from retrieval.schema_linking import SchemaLinker
from services.catalog import catalog_from_engine
from services.identity import Caller, Role
from services.llm.scripted import ScriptedChatModel

SPIDER = Path(__file__).resolve().parents[3] / "shared/eval-data/spider_dev/database"


@pytest.fixture(scope="module")
def catalog(demo_catalog):
    return demo_catalog


@pytest.fixture(scope="module")
def linker(catalog):
    return SchemaLinker(Embedder(), catalog)


@pytest.mark.parametrize(
    ("question", "needed"),
    [
        ("How many open orders do I have?", {"orders"}),
        ("What is the status of my KYC verification?", {"kyc_verifications"}),
        ("Which customers pay for the premium plan?", {"subscriptions", "users"}),
        ("What was the closing price of BTCUSD last week?", {"market_prices"}),
        ("Show my card deposits that failed", {"payments"}),
    ],
)
def test_linking_keeps_the_tables_a_question_needs(linker, catalog, question, needed):
    linked = linker.link(question)
    assert needed <= linked
    assert len(linked) < len(catalog.tables)  # and leaves others out


def test_catalog_lists_categorical_values_but_no_personal_data(catalog):
    columns = {(t.name, c.name): c for t in catalog.tables for c in t.columns}
    assert "partially_filled" in columns[("orders", "status")].values
    assert columns[("users", "country")].values  # few countries, many users
    assert columns[("users", "full_name")].values == []
    assert ("orders", "user_id", "users", "id") in {
        (t.name, *fk) for t in catalog.tables for fk in t.foreign_keys
    }


def test_internal_columns_are_not_shown_but_stay_in_the_database(catalog, demo_engine):
    columns = {(t.name, c.name) for t in catalog.tables for c in t.columns}
    hidden = {("orders", "idempotency_key"), ("notifications", "body_html")}
    assert not hidden & columns and ("orders", "status") in columns
    assert "idempotency_key" not in catalog.ddl()
    with demo_engine.connect() as conn:  # the column is there; only the prompt leaves it out
        conn.execute(text("SELECT idempotency_key FROM orders LIMIT 1"))


def test_catalog_shows_how_undocumented_text_is_written(catalog):
    """Spider's states are 'Hawaii', not 'HI': two examples say so. The platform documents
    every column, so its prompt stays as it was."""
    assert not any(c.examples for t in catalog.tables for c in t.columns)
    engine = create_engine(
        f"sqlite:///file:{SPIDER}/dog_kennels/dog_kennels.sqlite?mode=ro&uri=true"
    )
    try:
        spider = catalog_from_engine(engine)
        with engine.connect() as conn:
            states = {r[0] for r in conn.execute(text("SELECT state FROM Professionals"))}
    finally:
        engine.dispose()
    state = next(c for c in spider.table("Professionals").columns if c.name == "state")
    assert state.values == [] and len(state.examples) == 2 and set(state.examples) <= states
    assert "state VARCHAR, -- e.g. '" in spider.ddl({"Professionals"})


@pytest.mark.parametrize(
    ("database", "table", "identifier", "named"),
    [
        ("spider_dev/database/world_1/world_1.sqlite", "country", "Code", "Name"),  # a key
        ("spider_dev/database/world_1/world_1.sqlite", "countrylanguage", "CountryCode", None),
        ("defog/broker.db", "sbCustomer", "sbCustId", "sbCustName"),  # named like an id
    ],
)
def test_identifiers_get_no_examples(database, table, identifier, named):
    """Shown 'ABW' and 'AFG', the model filtered Anguilla by a guessed code ('AD')."""
    engine = create_engine(f"sqlite:///file:{SPIDER.parents[1] / database}?mode=ro&uri=true")
    try:
        columns = {c.name: c for c in catalog_from_engine(engine).table(table).columns}
    finally:
        engine.dispose()
    assert columns[identifier].examples == []
    if named:
        assert len(columns[named].examples) == 2


async def test_voting_prefers_the_result_most_drafts_agree_on(demo_sql_agent):
    wrong = json.dumps({"sql": "SELECT COUNT(*) FROM orders WHERE status = 'open'"})
    right = json.dumps(
        {"sql": "SELECT COUNT(*) FROM orders WHERE status IN ('open', 'partially_filled')"}
    )
    right_again = json.dumps(
        {"sql": "SELECT COUNT(id) FROM orders WHERE status = 'open' OR status = 'partially_filled'"}
    )
    replies = iter([wrong, right, right_again])
    model = ScriptedChatModel(responder=lambda _m, _k: next(replies))
    outcome = await demo_sql_agent(model, samples=3).answer(
        "How many open orders are there?", Caller(role=Role.ADMIN)
    )
    assert outcome.source == "vote"
    assert "partially_filled" in outcome.draft
    assert model.calls[1]["kwargs"]["temperature"] == 0.7


async def test_greedy_draft_wins_a_tie(demo_sql_agent):
    replies = iter([json.dumps({"sql": "SELECT 1"}), json.dumps({"sql": "SELECT 2"})])
    model = ScriptedChatModel(responder=lambda _m, _k: next(replies))
    outcome = await demo_sql_agent(model, samples=2).answer("one?", Caller(role=Role.ADMIN))
    assert outcome.result.rows == [[1]] and outcome.source == "model"
