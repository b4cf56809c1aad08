"""The RAG agent over the demo documents (real index and embeddings, scripted chat model):
citations map to the passages shown; off-topic questions are declined before any model call;
the model's "not in the passages" and uncited answers are declined too."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from agents.rag.agent import RagAgent
from agents.rag.prompts import DECLINE, NOTHING_ON
from evals.doc_chunks import chunk_document, read_documents
from retrieval.embeddings import Embedder
from retrieval.faiss_store import FaissStore
from retrieval.index import DocumentIndex
from services.identity import Caller, Role
from services.llm.scripted import ScriptedChatModel, replies

CUSTOMER = Caller(user_id=42)
SUPPORT = Caller(user_id=7, role=Role.SUPPORT)


@pytest.fixture(scope="module")
def index() -> DocumentIndex:
    embedder = Embedder()
    index = DocumentIndex(FaissStore(embedder.dimension), embedder)
    for doc in read_documents():
        index.replace_document(doc.document_id, list(doc.chunks), doc_type=doc.doc_type)
    return index


def passages_in(messages: Sequence[BaseMessage]) -> dict[int, str]:
    """The numbered passages of the prompt the agent sent: number -> text."""
    prompt = str(messages[-1].content)
    blocks = re.split(r"\n\n(?=\[\d+\] )", prompt.split("Passages:\n\n", 1)[1])
    found = {}
    for block in blocks:
        match = re.match(r"\[(\d+)\] [^\n]*\n(.*)", block, re.S)
        if match:
            found[int(match.group(1))] = match.group(2)
    return found


def cite_passage_containing(needle: str, sentence: str):
    """A responder that answers citing whichever passage holds `needle` (plus a bogus [9])."""

    def respond(messages: Sequence[BaseMessage], _kwargs: dict[str, Any]) -> str:
        shown = passages_in(messages)
        number = next(n for n, text in shown.items() if needle in text)
        answer = f"{sentence} [{number}, 9]."
        return json.dumps({"answerable": True, "answer": answer})

    return respond


async def test_citations_map_to_the_passages_shown(index):
    model = ScriptedChatModel(
        responder=cite_passage_containing("International wire", "Wires cost $25.00 each")
    )
    agent = RagAgent(model, index, top_k=5)
    outcome = await agent.answer("How much does an international wire withdrawal cost?", CUSTOMER)
    assert not outcome.declined and len(model.calls) == 1
    assert len(outcome.citations) == 1  # [9] named no passage shown and was dropped
    citation = outcome.citations[0]
    passage = outcome.passages[citation.number - 1]
    assert passage.number == citation.number and passage.chunk.id == citation.chunk_id
    assert "International wire withdrawals cost $25.00" in passage.chunk.text
    assert citation.title == "Fee Schedule" and citation.section.endswith("withdrawals")
    assert outcome.answer == f"Wires cost $25.00 each [{citation.number}]."
    assert "Fee Schedule" in citation.label
    assert model.calls[0]["kwargs"]["response_format"]["type"] == "json_schema"


async def test_listed_citations_stand_in_for_missing_markers(index):
    def respond(messages: Sequence[BaseMessage], _kwargs: dict[str, Any]) -> str:
        number = next(n for n, text in passages_in(messages).items() if "T+1" in text)
        return json.dumps(
            {"answerable": True, "citations": [number, 17], "answer": "One business day."}
        )

    unused = ScriptedChatModel(responder=replies("{}"))
    chosen = ScriptedChatModel(responder=respond)  # the router's pick for this question
    outcome = await RagAgent(unused, index).answer(
        "When do US equity trades settle?", CUSTOMER, llm=chosen
    )
    assert unused.calls == [] and len(chosen.calls) == 1
    (citation,) = outcome.citations
    assert outcome.answer == f"One business day [{citation.number}]."
    assert "T+1" in outcome.passages[citation.number - 1].chunk.text


async def test_a_miscounted_citation_moves_to_the_passage_holding_the_figure(index):
    def respond(messages: Sequence[BaseMessage], _kwargs: dict[str, Any]) -> str:
        wrong = next(n for n, text in passages_in(messages).items() if "$25.00" not in text)
        answer = f"International wire withdrawals cost $25.00 each [{wrong}]."
        return json.dumps({"answerable": True, "citations": [wrong], "answer": answer})

    agent = RagAgent(ScriptedChatModel(responder=respond), index)
    outcome = await agent.answer("How much does an international wire withdrawal cost?", CUSTOMER)
    (citation,) = outcome.citations
    assert "$25.00" in outcome.passages[citation.number - 1].chunk.text
    assert outcome.answer == f"International wire withdrawals cost $25.00 each [{citation.number}]."


async def test_a_figure_no_passage_holds_is_sent_back_once_with_the_figure_named(index):
    model = ScriptedChatModel(
        responder=replies(
            '{"answerable": true, "citations": [1], "answer": "Wires cost $99 [1]."}',
            '{"answerable": true, "citations": [1], "answer": "Wires cost $25.00 [1]."}',
        )
    )
    outcome = await RagAgent(model, index).answer(
        "How much does an international wire withdrawal cost?", CUSTOMER
    )
    assert len(model.calls) == 2
    retry = model.calls[1]["messages"]
    assert "99" in str(retry[-1].content) and "Wires cost $99" in str(retry[-2].content)
    assert not outcome.declined and "$25.00" in outcome.answer
    (citation,) = outcome.citations
    assert "$25.00" in outcome.passages[citation.number - 1].chunk.text


async def test_twice_invented_figures_give_way_to_the_passage_quoted(index):
    invents = '{"answerable": true, "citations": [1], "answer": "Wires cost $99 [1]."}'
    model = ScriptedChatModel(responder=replies(invents, invents))
    question = "How much does an international wire withdrawal cost?"
    outcome = await RagAgent(model, index).answer(question, CUSTOMER)
    assert len(model.calls) == 2 and not outcome.declined and outcome.reason == "quoted"
    assert "$99" not in outcome.answer
    (citation,) = outcome.citations
    quote = outcome.answer.split("\u201c")[1].split("\u201d")[0]
    assert quote in outcome.passages[citation.number - 1].chunk.text


async def test_a_figure_worked_out_from_the_question_and_a_passage_stands(index):
    def respond(messages: Sequence[BaseMessage], _kwargs: dict[str, Any]) -> str:
        number = next(n for n, text in passages_in(messages).items() if "$25.00" in text)
        answer = f"Four international wires cost $100 [{number}]."
        return json.dumps({"answerable": True, "citations": [number], "answer": answer})

    model = ScriptedChatModel(responder=respond)
    outcome = await RagAgent(model, index).answer(
        "What do 4 international wire withdrawals cost?", CUSTOMER
    )
    assert len(model.calls) == 1 and not outcome.declined and "$100" in outcome.answer


async def test_an_answer_that_only_restates_the_question_is_declined(index):
    def respond(messages: Sequence[BaseMessage], _kwargs: dict[str, Any]) -> str:
        number = next(n for n, text in passages_in(messages).items() if "one cash account" in text)
        answer = f"You can open a joint account with your partner [{number}]."
        return json.dumps({"answerable": True, "citations": [number], "answer": answer})

    model = ScriptedChatModel(responder=respond)
    outcome = await RagAgent(model, index).answer(
        "Can I open a joint account with my partner?", CUSTOMER
    )
    assert len(model.calls) == 1
    assert outcome.declined and outcome.reason == "echo" and outcome.answer == DECLINE


async def test_off_topic_questions_are_declined_without_calling_the_model(index):
    model = ScriptedChatModel(responder=replies('{"answerable": true, "answer": "Canberra [1]."}'))
    agent = RagAgent(model, index)
    for question in ("What is the capital of Australia?", "Write me a poem about the sea."):
        outcome = await agent.answer(question, CUSTOMER)
        assert outcome.declined and outcome.reason == "no_relevant_passages"
        assert outcome.answer == DECLINE and outcome.citations == []
    assert model.calls == []


async def test_a_rare_word_no_passage_holds_is_declined_without_calling_the_model(index):
    model = ScriptedChatModel(responder=replies('{"answerable": true, "answer": "BTC [1]."}'))
    agent = RagAgent(model, index)
    outcome = await agent.answer("Which stablecoins can I deposit?", CUSTOMER)
    assert outcome.declined and outcome.reason == "unknown_subject"
    assert outcome.answer == NOTHING_ON.format(words="stablecoins") and model.calls == []
    # the same question in everyday words reaches the model
    await agent.answer("Which crypto coins can I deposit?", CUSTOMER)
    assert len(model.calls) == 1


async def test_an_acronym_of_a_passages_words_is_no_unknown_word(index):
    model = ScriptedChatModel(responder=replies('{"answerable": false, "answer": ""}'))
    outcome = await RagAgent(model, index).answer(
        "Within how many days does the MLRO decide on a suspicious activity report?", SUPPORT
    )
    assert outcome.reason == "model_declined" and len(model.calls) == 1


async def test_declines_when_the_model_says_the_passages_do_not_answer(index):
    model = ScriptedChatModel(responder=replies('{"answerable": false, "answer": ""}'))
    agent = RagAgent(model, index)
    outcome = await agent.answer("How do I reset my password?", CUSTOMER)
    assert len(model.calls) == 1  # relevant enough to ask, and the model said no
    assert outcome.declined and outcome.reason == "model_declined" and outcome.answer == DECLINE
    assert outcome.passages  # what was searched stays visible


async def test_an_answer_citing_nothing_shown_is_declined(index):
    for reply in ('{"answerable": true, "answer": "It is free."}', "It is free [1]", "garbage"):
        model = ScriptedChatModel(responder=replies(reply))
        outcome = await RagAgent(model, index).answer(
            "Is there an account maintenance fee?", CUSTOMER
        )
        assert outcome.declined, reply
        assert outcome.reason in {"uncited", "model_declined"}
        assert outcome.citations == []


async def test_a_customer_prompt_never_holds_internal_text(index):
    model = ScriptedChatModel(responder=replies('{"answerable": false, "answer": ""}'))
    agent = RagAgent(model, index, top_k=10)
    question = "Within how many days does the MLRO decide on a suspicious activity report?"
    customer = await agent.answer(question, CUSTOMER)
    assert customer.declined
    assert all(p.chunk.access.allows(CUSTOMER) for p in customer.passages)
    sent = " ".join(str(m.content) for call in model.calls for m in call["messages"])
    assert "Money Laundering Reporting Officer" not in sent
    staff_model = ScriptedChatModel(
        responder=cite_passage_containing("Money Laundering Reporting Officer", "Within 7 days")
    )
    staff = await RagAgent(staff_model, index, top_k=10).answer(question, SUPPORT)
    assert not staff.declined and staff.citations[0].title == "Anti-Money Laundering Policy"


RATE_CARD = """---
title: Transfer Rate Card
visibility: public
---
# Transfer Rate Card

## Outgoing transfer fees

A transfer is charged by the band its amount falls in.

| Transfer amount (EUR) | Domestic | Foreign |
|---|---|---|
| 0 to 999.99 | free | 12.00 |
| 1,000.00 to 9,999.99 | 1.00 | 15.00 |
| 10,000.00 to 49,999.99 | 3.00 | 20.00 |
| 50,000.00 and above | 6.00 | 35.00 |
"""


def citing(needle: str, sentence: str):
    """A responder that answers `sentence`, citing (inline and in its list) the passage shown
    that holds `needle`."""

    def respond(messages: Sequence[BaseMessage], _kwargs: dict[str, Any]) -> str:
        number = next(n for n, text in passages_in(messages).items() if needle in text)
        answer = f"{sentence} [{number}]."
        return json.dumps({"answerable": True, "citations": [number], "answer": answer})

    return respond


def index_of(text: str, folder: Path, doc_type: str) -> DocumentIndex:
    """An index holding one Markdown document."""
    path = folder / "document.md"
    path.write_text(text, encoding="utf-8")
    embedder = Embedder()
    index = DocumentIndex(FaissStore(embedder.dimension), embedder)
    index.replace_document(1, list(chunk_document(path, document_id=1).chunks), doc_type=doc_type)
    return index


async def test_the_row_an_amount_falls_in_is_chosen_in_code_and_shown_alone(tmp_path):
    card_index = index_of(RATE_CARD, tmp_path, "fee_schedule")
    model = ScriptedChatModel(
        responder=citing("Domestic", "A domestic transfer of 25,000 EUR costs 3.00 EUR")
    )
    outcome = await RagAgent(model, card_index).answer(
        "What does a domestic transfer of 25,000 EUR cost?", CUSTOMER
    )
    (shown,) = [t for t in passages_in(model.calls[0]["messages"]).values() if "Domestic" in t]
    assert "The row that applies to 25,000 (row 3 of 4)" in shown
    assert "Transfer amount (EUR): 10,000.00 to 49,999.99; Domestic: 3.00; Foreign: 20.00" in shown
    assert "12.00" not in shown and "|" not in shown  # the other rows and the markup are gone
    assert not outcome.declined and outcome.citations[0].section.endswith("transfer fees")


APPROVALS = """---
title: Personal Dealing Rules
---
# Personal Dealing Rules

## Approvals

Trades up to 10,000 EUR need a Compliance analyst's approval. Trades above 10,000 EUR and up
to 50,000 EUR also need the line manager's. Trades above 50,000 EUR need the Head of
Compliance. Requests are answered within 2 business days since 2024.
"""


async def test_where_the_questions_amount_falls_is_shown_under_the_passage(tmp_path):
    rules_index = index_of(APPROVALS, tmp_path, "policy")
    answer = "A 12,000 EUR trade needs a Compliance analyst and the line manager [1]."
    model = ScriptedChatModel(responder=replies(json.dumps({"answerable": True, "answer": answer})))
    outcome = await RagAgent(model, rules_index).answer("Who approves a 12k trade?", SUPPORT)
    (shown,) = [t for t in passages_in(model.calls[0]["messages"]).values() if "Trades" in t]
    line = "Compared with the question: 12k (12,000) is more than 10,000 and less than 50,000."
    assert f"since 2024.\n{line}" in shown  # the year is no amount; the 2 days too far below
    # the rung of the ladder 12,000 falls on, its sentence joined across the wrapped lines
    rung = "Trades above 10,000 EUR and up to 50,000 EUR also need the line manager's."
    assert f"{line}\nThe rule for 12k: \u201c{rung}\u201d" in shown
    # 12,000 is the question's own amount, written another way: no invented figure
    assert not outcome.declined and outcome.answer == answer


async def test_a_bare_yes_to_an_amount_gives_way_to_the_rule_for_it_quoted(tmp_path):
    rules_index = index_of(APPROVALS, tmp_path, "policy")
    bare = json.dumps(
        {"answerable": True, "citations": [1], "answer": "Yes, you can trade it [1]."}
    )
    model = ScriptedChatModel(responder=replies(bare))
    question = "Can I trade 80,000 EUR in my personal account?"
    outcome = await RagAgent(model, rules_index).answer(question, SUPPORT)
    assert len(model.calls) == 1 and not outcome.declined and outcome.reason == "quoted"
    assert (
        outcome.answer
        == "The documents say: \u201cTrades above 50,000 EUR need the Head of Compliance.\u201d [1]"
    )


FX_CARD = """---
title: Currency Conversion Rates
visibility: public
---
# Currency Conversion Rates

## Major pairs

Conversions between EUR and USD, GBP or CHF pay a spread of 0.25% on the amount converted.

## Other pairs

| Pairs | Spread |
|---|---|
| EUR/PLN, EUR/SEK, EUR/NOK | 0.50% |
| EUR/HUF, EUR/TRY, EUR/ZAR | 0.90% |

## Weekend conversions

Conversions from Friday 22:00 to Sunday 22:00 UTC pay 0.10% more while markets are closed.

## Card payments abroad

Card payments in another currency are converted at the card network's rate plus 1.00%.
"""


async def test_a_currency_named_where_the_document_writes_its_code_is_found_and_held(tmp_path):
    fx_index = index_of(FX_CARD, tmp_path, "fee_schedule")
    model = ScriptedChatModel(
        responder=citing("EUR/HUF", "Changing euros into forint costs a 0.90% spread")
    )
    question = "What does it cost to change my euros into Hungarian forint?"
    outcome = await RagAgent(model, fx_index, top_k=1).answer(question, CUSTOMER)
    assert not outcome.declined and "0.90%" in outcome.answer
    assert outcome.citations[0].section.endswith("Other pairs")
    # a currency no passage writes is still a subject the documents say nothing about
    rupees = await RagAgent(model, fx_index, top_k=1).answer("Spread to Indian rupees?", CUSTOMER)
    assert rupees.declined and rupees.reason == "unknown_subject" and len(model.calls) == 1
