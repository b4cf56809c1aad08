"""Routing by evidence on the real demo database, the real document index and the real embedder:
a document ingested a moment ago attracts questions at once, a question neither the database nor
the documents hold is never sent to SQL, data questions still are (in other languages too),
compound questions keep a part per kind, and the SQL agent declines a question about nothing the
schema holds."""

from __future__ import annotations

import pytest

from agents.routing.evidence import RoutingEvidence
from agents.routing.policy import load_routing_policy
from agents.routing.router import QueryType, Router
from agents.sql.agent import OffSchema
from graphs.build import sql_catalog
from retrieval.chunks import DocumentAccess
from retrieval.embeddings import Embedder, MultilingualEmbedder
from retrieval.factory import open_document_index
from retrieval.ingest import IngestRequest
from retrieval.library import DocumentLibrary
from retrieval.schema_evidence import SchemaEvidence
from services.db.engines import make_engine, make_replica_engine
from services.identity import Caller, Role
from services.llm.scripted import ScriptedChatModel, replies
from services.semantic.loader import load_semantic_model
from services.trading.instruments import listed_symbols
from tests.conftest import private_copy

ADMIN = Caller(role=Role.ADMIN)
SUPPORT = Caller(user_id=2, role=Role.SUPPORT)
CUSTOMER = Caller(user_id=7, role=Role.CUSTOMER)

VAULT_NOTICE = b"""# Bullion vault notice

## Where client bullion is kept

Physical gold and silver bought through us is held in segregated vaults at Zollfreilager
Zurich. Vault storage costs 0.12% of the metal's value a year, billed quarterly.

## Audits

An independent auditor counts every bar in the vault twice a year.
"""
VAULT_QUESTION = "How many bars does the independent auditor count in the bullion vault?"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def schema(demo_settings, embedder) -> SchemaEvidence:
    replica = make_replica_engine(demo_settings.read_replica_url, 5)
    try:
        catalog = sql_catalog(replica)
    finally:
        replica.dispose()
    semantic = load_semantic_model(demo_settings.semantic_model_file)
    return SchemaEvidence(embedder, catalog, semantic, multilingual=MultilingualEmbedder())


@pytest.fixture
def platform(demo_settings, embedder, schema, tmp_path):
    """A private copy of the demo platform: its documents, index and library; and a router
    weighing what they hold."""
    settings = private_copy(demo_settings, tmp_path / "var")
    engine = make_engine(settings.database_url)
    index = open_document_index(settings, embedder)
    library = DocumentLibrary.from_settings(settings, engine, index)
    router = Router(
        load_routing_policy(),
        embedder,
        RoutingEvidence(index, schema),
        symbols=listed_symbols(engine),
    )
    yield router, library
    engine.dispose()


def test_a_document_ingested_now_attracts_the_next_question(platform):
    router, library = platform
    before = router.route(VAULT_QUESTION, SUPPORT)
    assert before.query_type is not QueryType.DOCUMENT, before.reasons
    library.add(
        VAULT_NOTICE,
        IngestRequest(
            filename="vault.md",
            source="test:vault",
            access=DocumentAccess(visibility="public"),
        ),
        ADMIN,
    )
    after = router.route(VAULT_QUESTION, SUPPORT)
    assert after.query_type is QueryType.DOCUMENT, after.reasons
    assert after.parts[0].documents[0] == "Bullion vault notice"
    assert after.sensitivity == "public"


def test_an_internal_document_found_makes_the_part_internal_and_customers_never_find_it(
    platform,
):
    router, library = platform
    library.add(
        VAULT_NOTICE,
        IngestRequest(filename="vault.md", source="test:vault-internal"),  # internal by default
        ADMIN,
    )
    staff = router.route(VAULT_QUESTION, SUPPORT)
    assert staff.query_type is QueryType.DOCUMENT and staff.sensitivity == "internal"
    assert any("internal documents" in r for r in staff.reasons)
    customer = router.route(VAULT_QUESTION, CUSTOMER)
    assert "Bullion vault notice" not in customer.parts[0].documents
    assert customer.sensitivity != "internal"


@pytest.mark.parametrize(
    "question",
    [
        "How many parking spaces does the Frankfurt office garage have?",
        "What is the average wait time at the dentist downstairs?",
        "Wie lange wartet man beim Zahnarzt im Erdgeschoss?",
    ],
)
def test_a_question_held_nowhere_is_not_sent_to_sql(platform, question):
    router, _ = platform
    decision = router.route(question, SUPPORT)
    assert QueryType.SQL not in [p.query_type for p in decision.parts], decision.reasons


def test_a_data_question_held_nowhere_gets_an_i_dont_know(platform):
    router, _ = platform
    decision = router.route("How many parking spaces does the Frankfurt office garage have?", ADMIN)
    assert decision.query_type is QueryType.GENERAL and decision.parts[0].held_nowhere
    assert any("the database holds nothing close" in r for r in decision.reasons)


def test_a_customers_own_affairs_stay_local_when_nothing_holds_them(platform):
    """ "My portfolio" exposed to something nothing holds is answered in general, but it is
    still the customer's own affairs: it must not go to the cloud with the advice beside it."""
    router, _ = platform
    question = (
        "Is my portfolio too exposed to the parking situation in Frankfurt? What do you recommend?"
    )
    decision = router.route(question, CUSTOMER)
    nowhere = [p for p in decision.parts if p.held_nowhere]
    assert nowhere and nowhere[0].sensitivity == "confidential", decision.reasons
    assert (decision.sensitivity, decision.provider) == ("confidential", "local")


@pytest.mark.parametrize(
    ("question", "caller"),
    [
        ("How many of my orders were filled last week?", CUSTOMER),
        ("Top 5 customers by deposits this year", SUPPORT),
        ("What was the closing price of ETH yesterday?", CUSTOMER),
    ],
)
def test_data_questions_still_go_to_sql(platform, question, caller):
    router, _ = platform
    decision = router.route(question, caller)
    assert decision.query_type is QueryType.SQL, decision.reasons


SPANISH_DATA_QUESTION = "¿Cuántas órdenes de compra tengo abiertas?"


def test_a_data_question_in_another_language_is_held_by_the_database(platform, schema):
    """all-MiniLM-L6-v2 is English: it scores this question below its bar, and only the
    multilingual model's score keeps it from being answered as something nothing holds."""
    bars = load_routing_policy().evidence
    assert schema.match(SPANISH_DATA_QUESTION).score < bars.database
    router, _ = platform
    decision = router.route(SPANISH_DATA_QUESTION, CUSTOMER)
    assert decision.query_type is QueryType.SQL, decision.reasons


async def test_the_sql_agent_answers_a_question_in_another_language_it_holds(
    demo_sql_agent, schema
):
    bars = load_routing_policy().evidence
    model = ScriptedChatModel(
        responder=replies("SELECT COUNT(*) FROM orders WHERE status = 'open'")
    )
    agent = demo_sql_agent(
        model,
        subjects=schema,
        min_database=bars.database,
        min_any_language=bars.database_any_language,
    )
    outcome = await agent.answer(SPANISH_DATA_QUESTION, ADMIN)
    assert outcome.result.rows and model.calls


@pytest.mark.parametrize(
    "question",
    [
        "What is my realised P&L?",
        "How much profit have I realised on what I sold?",
        "What's my buying power?",
        "How much can I spend on new orders right now?",
    ],
)
def test_a_figure_no_query_computes_goes_to_the_tool_that_computes_it(platform, question):
    router, _ = platform
    decision = router.route(question, CUSTOMER)
    part = decision.parts[0]
    assert (part.query_type, part.tool) == (QueryType.ACTION, "get_portfolio"), decision.reasons
    assert part.sensitivity == "confidential"  # a tool the router was not told of: fail closed


def test_a_measure_the_semantic_model_defines_in_sql_stays_sql(platform):
    router, _ = platform
    decision = router.route("What is my unrealised P&L?", CUSTOMER)
    assert decision.query_type is QueryType.SQL and decision.parts[0].tool is None


def test_a_compound_question_keeps_a_part_per_kind(platform):
    router, _ = platform
    decision = router.route(
        "What is my cash balance, and what does the fee schedule say about wire withdrawals?",
        CUSTOMER,
    )
    assert [p.query_type for p in decision.parts] == [QueryType.SQL, QueryType.DOCUMENT]
    assert decision.parts[1].documents[0] == "Fee Schedule"


async def test_the_sql_agent_declines_a_question_the_database_holds_nothing_about(
    demo_sql_agent, schema
):
    def never(messages, kwargs):
        raise AssertionError("the model must not be asked to write SQL")

    agent = demo_sql_agent(ScriptedChatModel(responder=never), subjects=schema)
    with pytest.raises(OffSchema) as declined:
        await agent.answer("How many parking spaces does the Frankfurt office garage have?", ADMIN)
    message = declined.value.message
    assert message.startswith("The database holds nothing about ")
    subject = message.removeprefix("The database holds nothing about ").rstrip(".")
    assert subject and subject in "How many parking spaces does the Frankfurt office garage have"
    assert declined.value.code == "off_schema"


def test_a_question_about_a_customers_records_held_nowhere_stays_confidential(platform):
    """A part the evidence moves to a general answer is still worded as a data question: the
    customer's records it names keep it confidential, whatever answers it."""
    router, _ = platform
    question = "Hat Frau Schneider ihre Identitätsprüfung inzwischen bestanden?"
    decision = router.route(question, SUPPORT)
    nowhere = [p for p in decision.parts if p.held_nowhere]
    assert nowhere and "kyc_verifications" in nowhere[0].tables, decision.reasons
    assert (decision.sensitivity, decision.provider) == ("confidential", "local")
