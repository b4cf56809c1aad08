"""The request router: labels, detectors, compound requests, explanations, the policy file and
the caller's role. All on rules alone, with a small deterministic fake embedder, or with a
fake evidence source (what the documents and the database hold; the real ones are exercised
in tests/integration/test_evidence_routing.py)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from agents.routing.classifier import SEED_FILE, load_examples
from agents.routing.evidence import Evidence, EvidenceDocument
from agents.routing.policy import RoutingPolicy, RoutingPolicyError, load_routing_policy
from agents.routing.request_split import split_clauses
from agents.routing.router import Complexity, QueryType, RouteDecision, Router
from agents.routing.rules import normalise
from agents.routing.sensitivity import (
    TABLE_SENSITIVITY,
    VISIBILITY_SENSITIVITY,
    find_personal_data,
    iban_valid,
    luhn_valid,
)
from evals.routing_eval import ROUTING_GOLDEN, load_routing_golden
from retrieval.chunks import DocumentAccess, Visibility
from retrieval.schema_evidence import SchemaEvidence, SchemaMatch
from services.catalog import Catalog, ColumnInfo, TableInfo
from services.db.models import Base
from services.demo_data.market import SYMBOLS
from services.identity import Caller, Role
from services.llm.privacy import Sensitivity

CUSTOMER = Caller(user_id=7, role=Role.CUSTOMER)
SUPPORT = Caller(user_id=2, role=Role.SUPPORT)
ADMIN = Caller(role=Role.ADMIN)
C, INTERNAL, P = Sensitivity.CONFIDENTIAL, Sensitivity.INTERNAL, Sensitivity.PUBLIC


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(load_routing_policy(), symbols=SYMBOLS)


class FakeEvidence:
    """What a small platform holds: documents keyed by a word of their passages (each
    searched as the caller, as the index does) and tables keyed by a word of the schema."""

    def __init__(self, documents: dict[str, tuple[str, Visibility]], tables: dict[str, str]):
        self.documents = documents
        self.tables = tables
        self.asked: list[str] = []

    def gather(self, text: str, caller: Caller) -> Evidence:
        self.asked.append(text)
        lowered = text.lower()
        found = [
            EvidenceDocument(document_id=n, title=title, visibility=visibility, similarity=0.7)
            for n, (word, (title, visibility)) in enumerate(self.documents.items())
            if word in lowered and _access(visibility).allows(caller)
        ]
        tables = [t for word, t in self.tables.items() if word in lowered]
        schema = SchemaMatch(score=0.7 if tables else 0.2, tables=tables, nearest="x")
        return Evidence(documents=found, schema_match=schema)


def _access(visibility: Visibility) -> DocumentAccess:
    return DocumentAccess(visibility=visibility, roles=frozenset({Role.ADMIN}))


def holding(**documents: tuple[str, Visibility]) -> Router:
    tables = {"balance": "trading_accounts", "position": "positions", "order": "orders"}
    return Router(load_routing_policy(), evidence=FakeEvidence(documents, tables), symbols=SYMBOLS)


def route(router: Router, question: str, caller: Caller = CUSTOMER) -> RouteDecision:
    return router.route(question, caller)


# -- labels ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "caller", "labels"),
    [
        ("How many of my orders got filled last week?", CUSTOMER, ("sql", C, "simple", "local")),
        ("What did ETHUSD close at on Tuesday?", CUSTOMER, ("sql", P, "simple", "local")),
        ("Top 5 customers by deposits per country", ADMIN, ("sql", C, "moderate", "local")),
        ("What does the fee schedule charge for card deposits?", CUSTOMER, ("document", P)),
        ("What does the AML policy require for politically exposed persons?", SUPPORT,
         ("document", P, "simple", "local")),  # which documents: the evidence's to say
        ("Sell 3 shares of IBM", CUSTOMER, ("action", C, "simple", "local")),
        ("Remind me when my KYC review is done", CUSTOMER, ("action", C, "moderate", "local")),
        ("good evening!", CUSTOMER, ("general", P, "simple", "local")),
        ("Is it a good moment to buy some ether?", CUSTOMER, ("reasoning", P, "moderate", "cloud")),
        ("Should I rebalance my holdings given my tax situation?", CUSTOMER,
         ("reasoning", C, "complex", "local")),
    ],
)  # fmt: skip
def test_labels_of_clear_requests(router, question, caller, labels):
    decision = route(router, question, caller)
    got = (decision.query_type, decision.sensitivity, decision.complexity, decision.provider)
    assert got[: len(labels)] == labels, decision.reasons


def test_actions_and_data_questions_on_customer_records_stay_local(router):
    for question in ("Buy 0.1 BTC", "Cancel my order 42", "Send me a notification"):
        decision = route(router, question)
        assert (decision.query_type, decision.sensitivity, decision.provider) == (
            QueryType.ACTION,
            C,
            "local",
        ), question


def test_public_complex_request_goes_to_the_cloud_and_falls_back_to_local(router):
    decision = route(
        router,
        "Considering inflation and rate cuts, how would you weigh bonds against gold?",
        ADMIN,
    )
    assert decision.query_type is QueryType.REASONING and decision.sensitivity is P
    assert decision.complexity is Complexity.COMPLEX
    assert (decision.provider, decision.fallback) == ("cloud", "local")


# -- detectors -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("reach me at jo.bloggs+trading@mail.example.org", "email address"),
        ("call me on +1 (415) 555-0132", "phone number"),
        ("my number is 07700 900123", "phone number"),
        ("charge 5555 5555 5555 4444 please", "card number"),
        ("the card ending 1881 was declined", "card number (last four digits)"),
        ("IBAN: FR14 2004 1010 0505 0001 3M02 606", "IBAN"),
        ("send it to 0x52908400098527886E0F7030069857D2E4169EE7", "crypto wallet address"),
        ("my address is 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "crypto wallet address"),
        ("NI number AB 12 34 56 C", "national id"),
        ("SSN 078-05-1120", "national id"),
        ("date of birth: 12/03/1988", "date of birth"),
        ("I am 17, can I open an account?", "age"),
    ],
)
def test_detectors_find_personal_data(text, kind):
    assert kind in [f.kind for f in find_personal_data(text)]


@pytest.mark.parametrize(
    "text",
    [
        "cancel order 4111111111111112",  # fails the Luhn check: an id, not a card
        "buy 0.25 ETH at 3,150.50 on 2026-01-05",
        "what was the volume of SPY in 2025?",
        "sell 1200 shares of AAPL",
        "wire 10000 to account GB82 WEST 1234 5698 7654 33",  # fails mod-97
        "I'm 50% in bitcoin",
    ],
)
def test_detectors_ignore_ids_amounts_and_dates(text):
    assert find_personal_data(text) == []


def test_check_digit_helpers():
    assert luhn_valid("4000056655665556") and not luhn_valid("4000056655665557")
    assert iban_valid("DE89370400440532013000") and not iban_valid("DE89370400440532013001")


def test_personal_data_makes_any_request_confidential_without_echoing_it(router):
    decision = route(router, "what's the weather like? my email is ann.lee@example.com", ADMIN)
    assert decision.sensitivity is C and decision.provider == "local"
    assert any("email address" in r for r in decision.reasons)
    assert not any("ann.lee" in r for r in decision.reasons)


# -- sensitivity rule table ------------------------------------------------------------------
def test_every_table_has_a_sensitivity_and_owned_tables_are_confidential():
    assert set(TABLE_SENSITIVITY) == set(Base.metadata.tables)
    for name, table in Base.metadata.tables.items():
        if "user_id" in table.columns or name == "users":
            assert TABLE_SENSITIVITY[name] is C, name
    assert TABLE_SENSITIVITY["market_prices"] is P


def test_every_visibility_has_a_sensitivity_and_restricted_is_confidential():
    assert set(VISIBILITY_SENSITIVITY) == set(Visibility)
    assert VISIBILITY_SENSITIVITY[Visibility.RESTRICTED] is C


def test_data_question_naming_no_table_fails_closed(router):
    decision = route(router, "show me everything from last tuesday", SUPPORT)
    assert decision.query_type is QueryType.SQL and decision.sensitivity is C


# -- compound requests -----------------------------------------------------------------------
def test_compound_request_is_split_into_parts_of_different_kinds(router):
    decision = route(
        router, "What is my BTC position, and what does the fee schedule say about withdrawals?"
    )
    assert [(p.query_type, p.sensitivity) for p in decision.parts] == [
        (QueryType.SQL, C),
        (QueryType.DOCUMENT, P),
    ]
    assert decision.parts[0].tables[0] == "positions"
    assert decision.query_type is QueryType.SQL and decision.sensitivity is C
    assert decision.complexity is Complexity.MODERATE and decision.provider == "local"
    weighed = holding(withdrawals=("Fee Schedule", Visibility.PUBLIC)).route(
        "What is my BTC position, and what does the fee schedule say about withdrawals?", CUSTOMER
    )
    assert [p.query_type for p in weighed.parts] == [QueryType.SQL, QueryType.DOCUMENT]
    assert weighed.parts[1].documents == ["Fee Schedule"]


def test_three_kinds_make_a_complex_request(router):
    decision = route(
        router,
        "Show my open orders, explain what the handbook says about stop orders, "
        "and should I switch to limit orders?",
    )
    assert [p.query_type for p in decision.parts] == [
        QueryType.SQL,
        QueryType.DOCUMENT,
        QueryType.REASONING,
    ]
    assert decision.complexity is Complexity.COMPLEX


def test_clauses_of_one_kind_are_one_part_and_greetings_are_set_aside(router):
    decision = route(router, "Hello! Sell my SOL, then email me the confirmation")
    assert [p.query_type for p in decision.parts] == [QueryType.ACTION]
    assert decision.parts[0].text.startswith("Sell my SOL")
    assert decision.complexity is Complexity.MODERATE  # two actions in one part
    assert any("small talk" in r and "Hello" in r for r in decision.reasons)


def test_a_general_knowledge_clause_is_a_part_not_small_talk(router):
    decision = route(router, "What is a stablecoin, and do you charge a fee to withdraw crypto?")
    assert [p.query_type for p in decision.parts] == [QueryType.GENERAL, QueryType.DOCUMENT]


def test_splitter_keeps_decimals_and_noun_phrases_whole():
    assert split_clauses("Buy 0.5 ETH at 2,300.50 and sell 1 SOL") == [
        "Buy 0.5 ETH at 2,300.50",
        "sell 1 SOL",
    ]
    assert split_clauses("List my buy and sell orders") == ["List my buy", "sell orders"]
    assert split_clauses("   ") == [""]


def test_a_split_noun_phrase_is_glued_back(router):
    decision = route(router, "List my buy and sell orders")
    assert len(decision.parts) == 1 and decision.query_type is QueryType.SQL


# -- explanations ----------------------------------------------------------------------------
def test_reasons_explain_type_sensitivity_complexity_and_provider(router):
    decision = route(router, "How many failed payments did customer 4410 have this month?", SUPPORT)
    text = " | ".join(decision.reasons)
    assert decision.reasons[0].startswith("type sql")
    assert "payments" in text and "confidential" in text
    assert decision.reasons[-1] == "provider local: rule 1 'confidential requests stay local'"
    assert all(isinstance(r, str) and 0 < len(r) < 400 for r in decision.reasons)


def test_public_decisions_say_why_they_are_public(router):
    decision = route(router, "Will the Fed cut rates and what does that mean for stocks?", ADMIN)
    assert decision.sensitivity is P
    assert any(r.startswith("public:") for r in decision.reasons)


# -- the caller's role -----------------------------------------------------------------------
def test_a_customer_speaking_of_themselves_is_confidential_staff_speak_for_the_firm(router):
    question = "Should I sell, given I bought at 60k?"
    assert route(router, question, CUSTOMER).sensitivity is C
    assert route(router, question, CUSTOMER).provider == "local"
    assert route(router, question, ADMIN).sensitivity is P
    assert route(router, question, ADMIN).provider == "cloud"


def test_a_customers_my_is_confidential_for_staff_only_records_count(router):
    question = "What does the FAQ say about my questions to support?"
    assert route(router, question, CUSTOMER).sensitivity is C
    assert route(router, question, SUPPORT).sensitivity is P


def test_documents_the_evidence_points_at_give_their_visibility():
    router = holding(
        flags=("AML policy", Visibility.INTERNAL), cards=("Fee Schedule", Visibility.PUBLIC)
    )
    staff = route(router, "What are the red flags in the AML policy?", SUPPORT)
    assert (staff.query_type, staff.sensitivity) == (QueryType.DOCUMENT, INTERNAL)
    assert staff.parts[0].documents == ["AML policy"]
    assert "internal: reads AML policy (internal documents)" in staff.reasons
    customer = route(router, "What are the red flags in the AML policy?", CUSTOMER)
    assert customer.sensitivity is P and customer.parts[0].documents == []
    assert route(router, "Are cards free to order?", SUPPORT).sensitivity is P


def test_restricted_documents_make_a_part_confidential_and_keep_it_local():
    router = holding(bonus=("Desk bonus memo", Visibility.RESTRICTED))
    caller = Caller(role=Role.ADMIN)
    decision = route(router, "What does the bonus memo say about the pool?", caller)
    assert (decision.sensitivity, decision.provider) == (C, "local")


# -- evidence --------------------------------------------------------------------------------
def test_a_data_question_the_database_does_not_hold_goes_to_the_documents_that_do():
    router = holding(storage=("Custody policy", Visibility.PUBLIC))
    question = "How many client coins are in cold storage?"
    assert route(Router(load_routing_policy()), question, SUPPORT).query_type is QueryType.SQL
    decision = route(router, question, SUPPORT)
    assert decision.query_type is QueryType.DOCUMENT, decision.reasons
    assert decision.parts[0].documents == ["Custody policy"]
    assert any("Custody policy speaks of it" in r for r in decision.reasons)


def test_a_data_question_held_nowhere_gets_a_general_answer_never_sql():
    decision = route(holding(), "How many client coins are in cold storage?", SUPPORT)
    assert decision.query_type is QueryType.GENERAL and decision.parts[0].held_nowhere
    assert any("nor do the documents" in r for r in decision.reasons)


def test_a_data_question_the_database_holds_stays_sql():
    decision = route(holding(), "How many open orders do I have?", CUSTOMER)
    assert decision.query_type is QueryType.SQL and not decision.parts[0].held_nowhere


def test_documents_that_speak_of_a_clause_without_cues_make_it_a_document_question():
    router = holding(storage=("Custody policy", Visibility.PUBLIC))
    decision = route(router, "cold storage share?", SUPPORT)
    assert decision.query_type is QueryType.DOCUMENT, decision.reasons
    assert route(Router(load_routing_policy()), "cold storage share?", SUPPORT).query_type is (
        QueryType.GENERAL
    )


def test_requests_to_act_and_small_talk_keep_their_path_without_a_search():
    evidence = FakeEvidence({"order": ("Handbook", Visibility.PUBLIC)}, {})
    router = Router(load_routing_policy(), evidence=evidence)
    assert route(router, "Cancel my order 42").query_type is QueryType.ACTION
    assert route(router, "thanks!").query_type is QueryType.GENERAL
    assert evidence.asked == []


def test_the_evidence_thresholds_live_in_the_policy(tmp_path):
    policy = _load(tmp_path, "evidence: {documents: 0.8, database: 0.1}\n")
    router = Router(policy, evidence=FakeEvidence({"storage": ("Custody", Visibility.PUBLIC)}, {}))
    decision = route(router, "How many client coins are in cold storage?", SUPPORT)
    assert decision.query_type is QueryType.SQL  # 0.2 clears a database bar of 0.1
    with pytest.raises(RoutingPolicyError, match="evidence.documents"):
        _load(tmp_path, "evidence: {documents: 2}\n")


def test_policy_rules_can_match_the_role(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(
        "rules:\n"
        "  - {when: {sensitivity: [confidential]}, provider: local}\n"
        "  - {name: admins think in the cloud, when: {role: [admin]}, provider: cloud}\n"
        "default: local\n"
    )
    router = Router(load_routing_policy(path))
    question = "What is a blockchain?"
    assert route(router, question, ADMIN).provider == "cloud"
    assert route(router, question, CUSTOMER).provider == "local"
    assert "admins think in the cloud" in route(router, question, ADMIN).reasons[-1]


# -- the policy file -------------------------------------------------------------------------
def test_packaged_policy_follows_the_design():
    policy = load_routing_policy()
    choose = policy.choose
    assert choose([QueryType.SQL], P, Complexity.COMPLEX).provider == "local"
    assert choose([QueryType.DOCUMENT], P, Complexity.COMPLEX).provider == "cloud"
    assert choose([QueryType.REASONING], INTERNAL, Complexity.SIMPLE).provider == "cloud"
    assert choose([QueryType.REASONING], C, Complexity.COMPLEX).provider == "local"
    assert choose([QueryType.GENERAL], P, Complexity.SIMPLE).provider == "local"
    assert choose([QueryType.DOCUMENT, QueryType.SQL], P, Complexity.COMPLEX).provider == "local"
    assert choose([QueryType.GENERAL], P, Complexity.SIMPLE).fallback == "cloud"
    assert choose([QueryType.SQL], C, Complexity.SIMPLE).fallback is None


def _load(tmp_path: Path, text: str) -> RoutingPolicy:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    return load_routing_policy(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [\n  {when: {", "not valid YAML"),
        ("- just\n- a list\n", "not list"),
        ("rules:\n  - {when: {colour: [red]}, provider: local}\n", "rules[0].when.colour"),
        ("rules:\n  - {when: {query_type: [sql]}, provider: moon}\n", "rules[0].provider"),
        ("rules:\n  - {when: {complexity: [huge]}, provider: local}\n", "complexity"),
        ("rules:\n  - {when: {query_type: []}, provider: local}\n", "lists no values"),
        ("fallback: {local_unavailable: maybe}\n", "fallback.local_unavailable"),
        ("version: 2\n", "version"),
    ],
)
def test_malformed_policy_files_are_rejected_naming_the_problem(tmp_path, text, message):
    with pytest.raises(RoutingPolicyError) as error:
        _load(tmp_path, text)
    assert message in str(error.value)
    assert str(tmp_path / "policy.yaml") in str(error.value)


def test_missing_policy_file_is_a_clear_error(tmp_path):
    with pytest.raises(RoutingPolicyError, match="cannot read the routing policy"):
        load_routing_policy(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "culprit"),
    [
        ("rules:\n  - {name: all out, when: {}, provider: cloud}\n", "rule 1 'all out'"),
        (
            "rules:\n  - {when: {query_type: [reasoning]}, provider: cloud}\n"
            "  - {when: {sensitivity: [confidential]}, provider: local}\n",
            "rule 1",
        ),
        (
            "rules:\n  - {when: {sensitivity: [public]}, provider: local}\ndefault: cloud\n",
            "default",
        ),
        (
            "rules:\n  - {when: {sensitivity: [confidential], role: [customer]}, provider: local}\n"
            "  - {when: {complexity: [complex]}, provider: cloud}\n",
            "role=support",
        ),
    ],
)
def test_policy_that_would_send_confidential_requests_to_the_cloud_is_rejected(
    tmp_path, text, culprit
):
    with pytest.raises(RoutingPolicyError) as error:
        _load(tmp_path, text)
    assert "would send a confidential request to the cloud" in str(error.value)
    assert culprit in str(error.value)


def test_cloud_rules_shielded_or_limited_to_cleared_labels_are_accepted(tmp_path):
    shielded = _load(
        tmp_path,
        "rules:\n  - {when: {sensitivity: [confidential]}, provider: local}\n"
        "  - {when: {}, provider: cloud}\n",
    )
    assert shielded.choose([QueryType.SQL], P, Complexity.SIMPLE).provider == "cloud"
    limited = _load(
        tmp_path,
        "rules:\n  - {when: {sensitivity: [public, internal]}, provider: cloud}\ndefault: local\n",
    )
    assert limited.choose([QueryType.SQL], C, Complexity.SIMPLE).provider == "local"


def test_confidential_requests_never_fall_back_to_the_cloud():
    policy = RoutingPolicy(fallback={"local_unavailable": "cloud", "cloud_unavailable": "none"})
    assert policy.fallback_for("local", C) is None
    assert policy.fallback_for("local", INTERNAL) == "cloud"
    assert policy.fallback_for("cloud", P) is None


def test_router_keeps_confidential_local_even_with_an_unchecked_policy():
    unchecked = RoutingPolicy.model_construct(
        rules=[], default="cloud", fallback=RoutingPolicy().fallback, version=1
    )
    decision = Router(unchecked).route("Cancel my order 42", CUSTOMER)
    assert decision.sensitivity is C and decision.provider == "local"
    assert Router(unchecked).route("hello", CUSTOMER).provider == "cloud"


def test_the_packaged_policy_keeps_every_golden_confidential_request_local(router):
    for case in load_routing_golden(ROUTING_GOLDEN):
        decision = router.route(case.question, case.caller())
        assert decision.parts
        if decision.sensitivity is C or case.sensitivity is C:
            assert decision.provider == "local", case.id


# -- the embedding classifier ----------------------------------------------------------------
class FakeEmbedder:
    """Hashed bag of words: texts sharing words are similar. Counts what it embeds."""

    def __init__(self):
        self.embedded: list[str] = []

    def embed(self, texts):
        self.embedded += list(texts)
        vectors = np.zeros((len(texts), 256), np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                vectors[row, int(hashlib.md5(word.encode()).hexdigest(), 16) % 256] += 1
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-9)


def test_the_multilingual_model_is_asked_only_below_the_english_bar():
    orders = TableInfo(
        name="orders",
        comment="Orders placed by customers.",
        columns=[ColumnInfo(name="side", type="TEXT", values=["buy", "sell"])],
    )
    english, multilingual = FakeEmbedder(), FakeEmbedder()
    schema = SchemaEvidence(
        english, Catalog(tables=[orders]), multilingual=multilingual, multilingual_below=0.33
    )
    held = schema.match("orders placed by customers")
    assert held.score >= 0.33 and held.any_language is None
    assert multilingual.embedded == []  # not even the entries: nothing needed them yet
    foreign = schema.match("Wie viele Aufträge?")
    assert foreign.score < 0.33 and foreign.any_language is not None
    assert "Wie viele Aufträge?" in multilingual.embedded


def test_embeddings_are_asked_only_when_the_rules_are_unsure_and_cached():
    embedder = FakeEmbedder()
    router = Router(load_routing_policy(), embedder)
    sure = router.route("Cancel my order 42", CUSTOMER)
    assert not sure.used_embeddings and embedder.embedded == []
    unsure = router.route("Apple shares: hold or fold?", CUSTOMER)
    assert unsure.used_embeddings
    assert any("nearest examples say" in r for r in unsure.reasons)
    seeds = len(load_examples())
    assert len(embedder.embedded) == seeds + 1  # the seeds once, then the question
    again = router.route("Apple shares: hold or fold?", CUSTOMER)
    assert again == unsure and len(embedder.embedded) == seeds + 1


def test_without_an_embedder_the_rules_guess(router):
    decision = route(router, "Apple shares: hold or fold?")
    assert not decision.used_embeddings
    assert any("rules unsure" in r for r in decision.reasons)


def test_seed_utterances_cover_every_type_and_are_not_golden_questions():
    seeds = load_examples(SEED_FILE)
    assert {e.query_type for e in seeds} == set(QueryType)
    seed_words = [set(re.findall(r"\w+", normalise(e.text))) for e in seeds]
    holdout = ROUTING_GOLDEN.with_name("routing_holdout.jsonl")
    for case in load_routing_golden(ROUTING_GOLDEN) + load_routing_golden(holdout):
        words = set(re.findall(r"\w+", normalise(case.question)))
        overlap = max(len(words & s) / len(words | s) for s in seed_words)
        assert overlap < 0.8, case.question


def test_seed_file_lines_are_valid_json_objects():
    lines = [line for line in SEED_FILE.read_text().splitlines() if line.strip()]
    assert all(set(json.loads(line)) == {"text", "query_type"} for line in lines)


def test_managing_the_firms_documents_is_internal_not_confidential(router):
    decision = route(router, "Upload the revised trading handbook", ADMIN)
    assert (decision.query_type, decision.sensitivity) == (QueryType.ACTION, INTERNAL)
    assert "internal: touches documents (the firm's documents)" in decision.reasons
    assert not any(r.startswith("confidential") for r in decision.reasons)


def test_a_vote_of_seeds_unlike_the_request_leaves_the_rules_guess():
    """Thanks in German share a stray word with a seed: 0.25 alike, under the floor. Counted,
    that vote would make the thanks a data question."""
    thanks = (
        "Danke dir vielmals, passt schon so, bis morgen und ein schönes Wochenende euch allen, "
        "tschüss daily"
    )
    rules_alone = Router(load_routing_policy()).route(thanks, CUSTOMER)
    router = Router(load_routing_policy(), FakeEmbedder())
    vote = router.classifier.vote(thanks)
    assert vote.query_type is not rules_alone.query_type and not vote.alike
    decision = router.route(thanks, CUSTOMER)
    assert decision.query_type is rules_alone.query_type is QueryType.GENERAL
    assert any("no example alike (closest 0.25)" in r for r in decision.reasons)
