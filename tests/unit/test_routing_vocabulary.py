"""The routing vocabulary: the words that decide what data a request touches live in a YAML
file an operator edits, in several languages; a broken file names the entry at fault; the
router names the instruments the platform lists. All on the real packaged file and the real
router (rules only)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from agents.routing.policy import load_routing_policy
from agents.routing.router import QueryType, Router
from agents.routing.sources import Sources
from agents.routing.vocabulary import (
    PACKAGED_VOCABULARY,
    QueryCue,
    RoutingVocabulary,
    RoutingVocabularyError,
    load_routing_vocabulary,
)
from cli.main import app
from services.demo_data.market import SYMBOLS
from services.identity import Caller, Role
from services.llm.privacy import Sensitivity
from services.settings import get_settings
from services.trading.instruments import listed_symbols

CUSTOMER = Caller(user_id=7, role=Role.CUSTOMER)
SUPPORT = Caller(user_id=2, role=Role.SUPPORT)
C, P = Sensitivity.CONFIDENTIAL, Sensitivity.PUBLIC

# an English request, and the same request as a German, a French and a Spanish customer types it
TWINS = [
    (
        "Show me my open orders",
        "Zeig mir meine offenen Aufträge",
        "Montre-moi mes ordres ouverts",
        "Muéstrame mis órdenes abiertas",
    ),
    (
        "What is the balance of my account?",
        "Wie hoch ist der Saldo auf meinem Konto?",
        "Quel est le solde de mon compte ?",
        "¿Cuál es el saldo de mi cuenta?",
    ),
    (
        "How much cash do I have?",
        "Wie viel Bargeld habe ich?",
        "Combien de liquidités ai-je ?",
        "¿Cuánto efectivo tengo?",
    ),
]


@pytest.fixture(scope="module")
def router() -> Router:
    return Router(load_routing_policy(), symbols=SYMBOLS)


def _english_only(vocabulary: RoutingVocabulary) -> RoutingVocabulary:
    """The vocabulary as it was before it had other languages."""

    def en(words):
        return {"en": words["en"]}

    return vocabulary.model_copy(
        update={
            "own": en(vocabulary.own),
            "tables": {t: en(w) for t, w in vocabulary.tables.items()},
            "actions": {t: en(w) for t, w in vocabulary.actions.items()},
            "self_disclosure": en(vocabulary.self_disclosure),
            "customer_ids": en(vocabulary.customer_ids),
            "firm_figures": en(vocabulary.firm_figures),
            "query_types": [
                cue.model_copy(update={"patterns": en(cue.patterns)})
                for cue in vocabulary.query_types
            ],
            "definition": en(vocabulary.definition),
        }
    )


# -- other languages -----------------------------------------------------------------------------
@pytest.mark.parametrize("twins", TWINS, ids=["open orders", "account balance", "cash"])
def test_a_customers_own_records_are_confidential_in_german_french_and_spanish(router, twins):
    english, *others = twins
    expected = router.route(english, CUSTOMER)
    assert (expected.sensitivity, expected.provider) == (C, "local"), expected.reasons
    for question in others:
        decision = router.route(question, CUSTOMER)
        assert (decision.query_type, decision.sensitivity, decision.provider) == (
            expected.query_type,
            C,
            "local",
        ), (question, decision.reasons)
        assert any(r.startswith("confidential: touches") for r in decision.reasons), question


def test_with_the_english_words_alone_those_requests_were_public():
    """What the other languages' entries fix: the English vocabulary saw nothing in them."""
    english = Router(
        load_routing_policy(),
        vocabulary=_english_only(load_routing_vocabulary()),
        symbols=SYMBOLS,
    )
    for _, *others in TWINS:
        for question in others:
            assert english.route(question, CUSTOMER).sensitivity is P, question


def test_possessives_of_every_language_find_the_callers_own_records():
    sources = Sources(load_routing_vocabulary(), SYMBOLS)
    assert sources.own_records("what is my btc position?") == ["positions"]
    assert sources.own_records("zeig mir meine offenen aufträge") == ["orders"]
    assert sources.own_records("quel est le solde de mon compte ?") == ["trading_accounts"]
    assert sources.own_records("¿cuál es el saldo de mi cuenta?") == ["trading_accounts"]
    assert sources.own_records("ma carte a été refusée") == ["payments"]


def test_one_possessive_pattern_serves_the_records_and_the_customers_own_affairs(router):
    """The vocabulary's `own` words both name the caller's own records (the sources') and
    make a customer's request about their own affairs confidential (the router's check)."""
    for question in (
        "What does the fee schedule say about my withdrawals?",
        "Was sagt die Gebührenordnung zu meinen Auszahlungen?",
    ):
        decision = router.route(question, CUSTOMER)
        assert decision.parts[0].tables == ["payments"], (question, decision.reasons)
        assert decision.sensitivity is C
    for question in (
        "What does the FAQ say about my questions to support?",
        "Was sagt die FAQ zu meinen Fragen an den Support?",
        "Que dit la FAQ sur mes questions au support ?",
        "Can I do the transfer myself?",
    ):
        assert router.route(question, CUSTOMER).sensitivity is C, question
        assert router.route(question, SUPPORT).sensitivity is P, question


@pytest.mark.parametrize(
    "question",
    [
        "c'mon, what does the fee schedule say about withdrawals?",
        "Yes ma'am, what does the fee schedule say about withdrawals?",
        "are you open mon-fri?",
    ],
)
def test_english_words_that_look_like_french_possessives_are_not_taken_for_them(router, question):
    assert router.route(question, CUSTOMER).sensitivity is P


# -- instruments ----------------------------------------------------------------------------------
def test_the_router_names_the_instruments_it_is_given_and_the_everyday_names():
    policy = load_routing_policy()
    listed = Router(policy, symbols=["XYZQ"])
    decision = listed.route("What did XYZQ close at yesterday?", CUSTOMER)
    assert any("asks for market prices" in r for r in decision.reasons), decision.reasons
    assert decision.parts[0].tables == ["market_prices"] and decision.sensitivity is P
    unlisted = Router(policy).route("What did XYZQ close at yesterday?", CUSTOMER)
    assert not any("asks for market prices" in r for r in unlisted.reasons)
    assert Router(policy).route("Where is bitcoin trading now?", CUSTOMER).query_type is (
        QueryType.SQL
    )
    mine = listed.route("Should I sell my XYZQ?", CUSTOMER)
    assert mine.parts[0].tables == ["positions"] and mine.sensitivity is C


def test_the_demo_lists_the_symbols_the_routing_evals_name(demo_engine):
    """`eval routing` and `bench routing` name the demo's symbols; the platform reads its own
    `instruments` table, which the demo fills with the same."""
    assert listed_symbols(demo_engine) == sorted(SYMBOLS)


# requests as German, French and Spanish customers type them, and the kind each is
KINDS = [
    ("Storniere meinen Auftrag 42", QueryType.ACTION),
    ("Kaufen Sie bitte 10 Apple-Aktien für mich", QueryType.ACTION),
    ("Annule mon ordre 42", QueryType.ACTION),
    ("Peux-tu m'envoyer mon relevé de mars ?", QueryType.ACTION),
    ("Cancela mi orden 42", QueryType.ACTION),
    ("Quiero retirar 500 euros", QueryType.ACTION),
    ("Wie kann ich mein Passwort ändern?", QueryType.DOCUMENT),
    ("Que dit la grille tarifaire sur les retraits ?", QueryType.DOCUMENT),
    ("¿Cuánto tarda una transferencia a mi banco?", QueryType.DOCUMENT),
    ("Soll ich jetzt meine Bitcoin verkaufen?", QueryType.REASONING),
    ("Devrais-je vendre mes bitcoins maintenant ?", QueryType.REASONING),
    ("Combien d'ordres ai-je passés ce mois-ci ?", QueryType.SQL),
    ("¿Cuántas órdenes abiertas tengo?", QueryType.SQL),
    ("Danke schön!", QueryType.GENERAL),
]


@pytest.mark.parametrize(("question", "kind"), KINDS, ids=[q for q, _ in KINDS])
def test_the_kind_of_request_is_read_in_german_french_and_spanish(router, question, kind):
    decision = router.route(question, CUSTOMER)
    assert decision.query_type is kind, decision.reasons


def test_with_the_english_cues_alone_none_of_those_was_a_request_to_act():
    """What the other languages' cues fix: the English ones read no instruction in them."""
    english = Router(
        load_routing_policy(),
        vocabulary=_english_only(load_routing_vocabulary()),
        symbols=SYMBOLS,
    )
    actions = [q for q, kind in KINDS if kind is QueryType.ACTION]
    kinds = [english.route(q, CUSTOMER).query_type for q in actions]
    assert QueryType.ACTION not in kinds, kinds


# requests whose complexity only the German, French and Spanish signals see
COMPLEX = [
    ("Wie viele Aufträge habe ich pro Monat aufgegeben?", "moderate"),
    ("¿Cuál es el promedio de mis depósitos por mes?", "moderate"),
    ("Wie hat sich mein Gewinn im Vergleich zum Vormonat entwickelt?", "complex"),
    ("Achète 1 BTC dès que le cours passe sous 60000", "moderate"),
]


@pytest.mark.parametrize(("question", "level"), COMPLEX, ids=[q for q, _ in COMPLEX])
def test_complexity_is_read_in_other_languages_by_the_files_signals(router, question, level):
    vocabulary = load_routing_vocabulary()
    signals = vocabulary.complexity.model_dump()
    english = vocabulary.model_copy(
        update={
            "complexity": vocabulary.complexity.model_copy(
                update={name: {"en": words["en"]} for name, words in signals.items()}
            )
        }
    )
    without = Router(load_routing_policy(), vocabulary=english, symbols=SYMBOLS)
    decision, before = router.route(question, CUSTOMER), without.route(question, CUSTOMER)
    assert decision.query_type is before.query_type, decision.reasons
    assert (decision.complexity, before.complexity) == (level, "simple"), decision.reasons


# -- the query-type cues are the operator's too ---------------------------------------------------
def test_an_operator_teaches_the_router_a_language_without_code():
    """Which kind of request a text is comes from the file's cues: a Dutch verb added there
    makes "annuleer ..." a request to act, as "cancel ..." is."""
    question = "Annuleer mijn order 42"
    packaged = load_routing_vocabulary()
    before = Router(load_routing_policy(), vocabulary=packaged, symbols=SYMBOLS)
    assert before.route(question, CUSTOMER).query_type is not QueryType.ACTION
    dutch = QueryCue(
        type=QueryType.ACTION,
        weight=6.0,
        why="begint met een opdracht ({0})",
        patterns={"nl": ["^(annuleer|koop|verkoop)\\b"]},
    )
    taught = packaged.model_copy(update={"query_types": [*packaged.query_types, dutch]})
    decision = Router(load_routing_policy(), vocabulary=taught, symbols=SYMBOLS).route(
        question, CUSTOMER
    )
    assert decision.query_type is QueryType.ACTION, decision.reasons
    assert any("begint met een opdracht (annuleer)" in r for r in decision.reasons)


# -- a broken file names the entry ----------------------------------------------------------------
def _write(tmp_path: Path, old: str, new: str) -> Path:
    text = PACKAGED_VOCABULARY.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "vocabulary.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "\n  orders:\n    en: ['orders?'",
            "\n  ordres:\n    en: ['orders?'",
            "tables.ordres: 'ordres' is not a table of the operational schema",
        ),
        (
            "\n  documents:\n    en: ['upload'",
            "\n  wallets:\n    en: ['upload'",
            "actions.wallets: 'wallets' is not a table of the operational schema",
        ),
        (
            "de: ['auftr(?:a|ä|ae)g(?:e|en|es)?'",
            "de: ['auftr(?:a|ä|ae'",
            "tables.orders.de[0]: 'auftr(?:a|ä|ae' is not a valid regular expression",
        ),
        ("fr: ['ordres?'", "fr: ['(ordres?)'", "tables.orders.fr[0]: '(ordres?)' has a capturing"),
        ("es: ['pagos?'", "es: ['(?:pagos)?'", "tables.payments.es[0]: '(?:pagos)?' matches the"),
        ("  de: ['mein(?:e[nmrs]?|s)?']", "  deutsch: ['meine']", "own.deutsch: 'deutsch' is not"),
        ("firm_figures:", "firm_figure:", "firm_figure: Extra inputs are not permitted"),
        (
            "'<lead>(<verbs>)\\b<not_an_action>'",
            "'<lead>(<verb>)\\b<not_an_action>'",
            "query_types[0].patterns.en[0]: no fragment named verb",
        ),
        (
            "'\\bhow (?:many|much)\\b'",
            "'\\bhow (?:many|much\\b'",
            "patterns.en[0]: '\\\\bhow (?:many|much\\\\b' does not compile",
        ),
        ("  - type: action\n", "  - type: acton\n", "query_types[0].type: Input should be"),
        ("  factors:\n", "  factor:\n", "complexity.factor: Extra inputs are not permitted"),
    ],
    ids=[
        "unknown table",
        "unknown action table",
        "bad pattern",
        "capturing group",
        "matches nothing",
        "language",
        "unknown section",
        "unknown fragment",
        "cue pattern",
        "cue type",
        "complexity signal",
    ],
)
def test_a_broken_vocabulary_file_names_the_entry(tmp_path, old, new, message):
    path = _write(tmp_path, old, new)
    with pytest.raises(RoutingVocabularyError) as error:
        load_routing_vocabulary(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_a_missing_or_shapeless_vocabulary_file_is_a_clear_error(tmp_path):
    with pytest.raises(RoutingVocabularyError, match="cannot read the routing vocabulary"):
        load_routing_vocabulary(tmp_path / "nope.yaml")
    (tmp_path / "list.yaml").write_text("- my\n- mine\n")
    with pytest.raises(RoutingVocabularyError, match="not list"):
        load_routing_vocabulary(tmp_path / "list.yaml")


def test_the_setting_points_the_commands_at_an_operators_file(tmp_path, monkeypatch):
    broken = _write(tmp_path, "\n  orders:\n    en: ['orders?'", "\n  ordres:\n    en: ['orders?'")
    monkeypatch.setenv("ROUTING_VOCABULARY_FILE", str(broken))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["route", "--rules-only", "show my orders"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "tables.ordres" in " ".join(result.output.split())
