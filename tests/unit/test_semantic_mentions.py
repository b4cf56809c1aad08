"""The semantic model's names a question mentions come from the words the file declares, in
any language it lists, and the definitions reach the question they were found in."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from services.identity import Caller, Role
from services.llm.scripted import ScriptedChatModel
from services.semantic.loader import load_semantic_model, parse_semantic_model
from services.semantic.mentions import SPAN_SLACK, MentionFinder
from services.words import same_word

MODEL = load_semantic_model()
FINDER = MentionFinder(MODEL)

SMALL = """
cubes:
  - name: loans
    sql_table: loans
    segments:
      - name: overdue_loans
        sql: "{CUBE}.days_late > 30"
        meta:
          synonyms: [préstamos vencidos, Kredite im Verzug]
"""


def _names(question: str, finder: MentionFinder = FINDER) -> list[str]:
    return [m.name for m in finder.find(question)]


def test_the_words_are_the_files_in_any_language_it_lists():
    finder = MentionFinder(parse_semantic_model(SMALL))
    assert _names("¿Cuántos préstamos vencidos hay?", finder) == ["overdue_loans"]
    assert _names("Wie viele Kredite sind im Verzug?", finder) == ["overdue_loans"]
    assert _names("How many loans are there?", finder) == []


def test_inflections_of_a_declared_word_are_found_but_not_other_words():
    assert _names("fees per customer") == ["fees", "customers"]
    assert _names("How many trades did I make?") == ["fills"]  # not "traders" (customers)


def test_the_longer_term_takes_the_words_it_shares_with_a_shorter_one():
    assert _names("symbols with the most filled orders") == ["filled_orders"]


def test_a_kyc_status_is_named_in_the_languages_the_file_lists():
    assert _names("Combien de dossiers sont en cours de vérification ?") == ["kyc_in_review"]
    assert _names("Welche Identitätsprüfungen sind in Prüfung?") == ["kyc_in_review"]
    assert _names("How many payments are pending review?") == []  # no KYC word of the file


def test_words_far_apart_are_no_mention():
    far = "open " + " ".join(["word"] * (SPAN_SLACK + 1)) + " orders"
    assert _names("orders that are open") == ["open_orders"]
    assert _names(far) == []


@given(st.text(alphabet="abcdefghij", min_size=1, max_size=8))
def test_a_word_is_the_same_as_itself_and_as_its_plural(word):
    assert same_word(word, word)
    assert same_word(word, word + "s") == (len(word) >= 3)


async def test_the_definitions_stand_beside_the_question_not_in_the_shared_prefix(
    demo_sql_agent,
):
    replies = iter([json.dumps({"sql": "SELECT fees_charged FROM transactions"})] * 2)
    model = ScriptedChatModel(responder=lambda _m, _k: next(replies))
    agent = demo_sql_agent(model, semantic=MODEL)
    caller = Caller(role=Role.ADMIN)
    await agent.answer("Total fees charged, as a positive number?", caller)
    await agent.answer("How many users are there?", caller)
    (first, second) = model.calls
    asked = str(first["messages"][-1].content)
    assert "- fees_charged: SELECT fees_charged FROM transactions, that is SUM(" in asked
    assert "that is" not in str(second["messages"][-1].content)
    assert first["messages"][0].content == second["messages"][0].content
