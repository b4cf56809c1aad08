"""The RAG evaluation's parts: the golden set, relevance, hit rate and MRR, ragas's non-LLM
metrics, the answer loop, and the TAT-QA conversion."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from agents.rag.agent import RagAgent
from evals.convert_tatqa import convert_tatqa
from evals.doc_chunks import read_documents
from evals.rag_eval import (
    AnswerResult,
    EmbedderEmbeddings,
    RetrievalResult,
    evaluate_answers,
    evaluate_retrieval,
    is_relevant,
    judge_answers,
    score_contexts,
    summarise,
)
from evals.rag_golden import (
    DEMO_DOCS,
    UNSEEN_DOCS,
    UNSEEN_DOCS_DIR,
    RagGoldenError,
    RagGoldenQuestion,
    load_rag_golden,
)
from retrieval.chunks import Chunk, DocumentAccess, Visibility
from retrieval.index import ScoredHit
from services.identity import Role
from services.llm.scripted import ScriptedChatModel, replies

PUBLIC = DocumentAccess(visibility=Visibility.PUBLIC)


def chunk(cid: str, title: str, section: str | None, text: str, access=PUBLIC) -> Chunk:
    doc = abs(hash(title)) % 1000
    return Chunk(
        id=cid,
        document_id=doc,
        version=1,
        ordinal=0,
        title=title,
        section=section,
        start=0,
        end=len(text),
        text=text,
        access=access,
    )


WIRE = chunk("1:1:0", "Fee Schedule", "Fees > Deposits and withdrawals", "Wires cost $25.00.")
HOURS = chunk("2:1:0", "Trading Handbook", "Handbook > Trading hours", "09:30 to 16:00.")
SECRET = chunk("3:1:0", "AML Policy", "AML > Records", "Kept 5 years.", access=DocumentAccess())


class FixedIndex:
    """Returns the same hits for every question (leaking, when told to)."""

    def __init__(self, hits: list[Chunk], similarity: float = 0.6):
        self.hits = hits
        self.similarity = similarity

    def search(self, query, caller, k=None, filters=None) -> list[ScoredHit]:
        return [
            ScoredHit(chunk=c, score=1 / (60 + i), similarity=self.similarity)
            for i, c in enumerate(self.hits[:k], start=1)
        ]


def question(**fields) -> RagGoldenQuestion:
    return RagGoldenQuestion(**{"id": "q", "question": "Wire fee?", **fields})


# -- golden set -------------------------------------------------------------------------------
@pytest.mark.parametrize("chunker", ["headings", "ingest"])
def test_demo_golden_set_covers_every_document_and_its_sections_exist(chunker):
    questions = load_rag_golden(DEMO_DOCS)
    answerable = [q for q in questions if not q.expect_decline]
    declining = [q for q in questions if q.expect_decline]
    assert len(answerable) >= 40 and len(declining) >= 8
    chunks = [c for d in read_documents(chunker=chunker) for c in d.chunks]
    for q in answerable:
        assert q.answer, q.id
        assert any(is_relevant(c, q) for c in chunks), f"{q.id}: no chunk in {q.section!r}"
    titles = {q.source for q in answerable}
    assert titles == {d.title for d in read_documents()}
    internal = [q for q in answerable if q.source == "Anti-Money Laundering Policy"]
    assert internal and all(q.role is Role.SUPPORT for q in internal)
    assert any(q.role is Role.CUSTOMER and q.source is None for q in declining)


@pytest.mark.parametrize("chunker", ["headings", "ingest"])
def test_unseen_golden_set_covers_its_documents_in_every_format(chunker):
    """The unseen set's PDFs, DOCX and HTML are read through the platform's conversion; every
    answerable question's section is a passage of its document either way."""
    questions = load_rag_golden(UNSEEN_DOCS)
    documents = read_documents(UNSEEN_DOCS_DIR, chunker=chunker)
    assert {p.suffix for p in UNSEEN_DOCS_DIR.iterdir()} == {".md", ".pdf", ".docx", ".html"}
    assert len(documents) >= 8 and len(questions) >= 60
    chunks = [c for d in documents for c in d.chunks]
    answerable = [q for q in questions if not q.expect_decline]
    for q in answerable:
        assert q.answer and q.facts, q.id
        assert any(is_relevant(c, q) for c in chunks), f"{q.id}: no chunk in {q.section!r}"
    assert {q.source for q in answerable} == {d.title for d in documents}
    assert sum(q.source is None for q in questions) >= 10
    assert sum(q.category == "data_like" for q in answerable) >= 10
    internal = {d.title for d in documents if d.access.visibility is Visibility.INTERNAL}
    assert all(q.role is Role.SUPPORT for q in answerable if q.source in internal)


def test_golden_loader_reports_bad_lines(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "a", "question": "x"}\n{"id": "a", "question": "y"}\n')
    with pytest.raises(RagGoldenError, match="duplicate id"):
        load_rag_golden(path)
    path.write_text('{"id": "a"}\n')
    with pytest.raises(RagGoldenError, match=":1:"):
        load_rag_golden(path)


# -- relevance and retrieval metrics ----------------------------------------------------------
def test_relevance_by_title_or_stem_and_last_heading():
    assert is_relevant(WIRE, question(source="Fee Schedule", section="Deposits and withdrawals"))
    assert is_relevant(WIRE, question(source="fee_schedule", section=None))
    assert not is_relevant(WIRE, question(source="Fee Schedule", section="Deposits"))
    assert not is_relevant(WIRE, question(source="Trading Handbook"))
    assert not is_relevant(WIRE, question(source=None))


def test_rank_leaks_and_gate_from_the_searches():
    questions = [
        question(id="a", source="Fee Schedule", section="Deposits and withdrawals"),
        question(id="b", source="Trading Handbook", section="Trading hours"),
        question(id="c", source="AML Policy", section="Records"),
        question(id="d", source=None, question="Capital of France?"),
    ]
    index = FixedIndex([HOURS, WIRE, SECRET])  # a broken index that leaks the internal chunk
    results = evaluate_retrieval(questions, index, 3, gate=lambda hits: False)
    assert [r.rank for r in results] == [2, 1, 3, None]
    assert all(r.leaks == 1 for r in results) and all(r.gated for r in results)
    summary = summarise(3, results)
    assert summary.answerable == 3 and summary.must_decline == 1
    assert summary.hit_rate == 1.0
    assert summary.mrr == pytest.approx((1 / 2 + 1 + 1 / 3) / 3, abs=1e-4)
    assert summary.leaks == 4 and summary.gated_must_decline == 1.0
    assert summarise(1, results).hit_rate == pytest.approx(1 / 3, abs=1e-4)


def test_ragas_non_llm_context_scores():
    questions = [
        question(id="a", source="Fee Schedule", section="Deposits and withdrawals"),
        question(id="b", source="Trading Handbook", section="Trading hours"),
    ]
    results = [
        RetrievalResult(
            id="a", question="", expect_decline=False, retrieved=[WIRE.id], gated=False
        ),
        RetrievalResult(
            id="b", question="", expect_decline=False, retrieved=[WIRE.id], gated=False
        ),
    ]
    score_contexts(results, questions, [WIRE, HOURS])
    assert results[0].context_recall == 1.0 and results[0].context_precision == 1.0
    assert results[1].context_recall == 0.0 and results[1].context_precision == 0.0


def test_answers_are_scored_for_declines_citations_and_similarity():
    questions = [
        question(
            id="a",
            source="Fee Schedule",
            section="Deposits and withdrawals",
            answer="Wires cost $25.00.",
        ),
        question(id="d", source=None, question="Capital of France?"),
    ]
    agent = RagAgent(
        ScriptedChatModel(
            responder=replies('{"answerable": true, "answer": "Wires cost $25.00 [1]."}')
        ),
        FixedIndex([WIRE]),
    )
    answers = asyncio.run(evaluate_answers(questions, agent, [WIRE]))
    assert not answers[0].declined and answers[0].cites_gold
    assert answers[0].string_similarity > 0.8
    assert not answers[1].declined  # this fake index finds a passage for anything
    summary = summarise(
        1, evaluate_retrieval(questions, FixedIndex([WIRE]), 1, agent.relevant), answers
    )
    assert summary.correct_declines == 0.0 and summary.false_declines == 0.0
    assert summary.cites_gold == 1.0 and summary.answered == 2
    far = RagAgent(ScriptedChatModel(responder=replies("{}")), FixedIndex([WIRE], similarity=0.1))
    declined = asyncio.run(evaluate_answers(questions, far, [WIRE]))
    assert all(a.declined and a.reason == "no_relevant_passages" for a in declined)


class StubAgent:
    """Answers each question with the reply scripted for it, citing WIRE."""

    def __init__(self, replies: dict[str, str]):
        self.replies = replies

    async def answer(self, text, caller):
        reply = self.replies[text]
        return SimpleNamespace(
            answer=reply,
            declined=not reply,
            reason=None if reply else "no_relevant_passages",
            citations=[SimpleNamespace(chunk_id=WIRE.id)] if reply else [],
        )


def test_answers_are_checked_for_their_facts_and_invented_figures():
    questions = [
        question(id="a", question="Wire fee?", source="Fee Schedule", facts=["25"]),
        question(id="b", question="Wire fee again?", source="Fee Schedule", facts=["25"]),
        question(id="c", question="Wire fee, third time?", source="Fee Schedule", facts=["25"]),
        question(id="d", question="Capital of France?", source=None, category="unanswerable"),
    ]
    agent = StubAgent(
        {
            "Wire fee?": "Wires cost $25.00 [1].",
            "Wire fee again?": "Wires cost $30, or $25.00 in 2 days [1].",  # 30 and 2: invented
            "Wire fee, third time?": "",
            "Capital of France?": "",
        }
    )
    answers = asyncio.run(evaluate_answers(questions, agent, [WIRE]))
    assert [a.right for a in answers] == [True, True, False, None]
    assert [a.invented for a in answers] == [[], ["30", "2"], [], []]
    retrieval = evaluate_retrieval(questions, FixedIndex([WIRE]), 1, lambda hits: True)
    summary = summarise(1, retrieval, answers, questions)
    assert summary.right == pytest.approx(2 / 3, abs=1e-4)
    assert summary.right_and_cited == pytest.approx(2 / 3, abs=1e-4)
    assert summary.invented_answers == 1 and summary.invented_ids == ["b"]
    assert summary.correct_declines == 1.0
    assert summary.by_category == {
        "uncategorized": {"questions": 3, "right_and_cited": pytest.approx(2 / 3, abs=1e-4)},
        "unanswerable": {"questions": 1, "declined": 1.0},
    }


# -- TAT-QA -----------------------------------------------------------------------------------
def test_tatqa_conversion_makes_documents_and_golden_lines_that_point_at_them(tmp_path):
    context = {
        "table": {"uid": "abcdef12-0000", "table": [["", "2019"], ["Sales", "1,496.5"]]},
        "paragraphs": [
            {"uid": "p1", "order": 1, "text": "Sales rose on fixed-price contracts."},
            {"uid": "p2", "order": 2, "text": "Cost-plus contracts pay incurred costs plus a fee."},
        ],
        "questions": [
            {
                "uid": "q1",
                "question": "What do cost-plus contracts pay?",
                "answer": ["costs"],
                "answer_from": "text",
                "rel_paragraphs": ["2"],
                "answer_type": "span",
                "scale": "",
            },
            {
                "uid": "q2",
                "question": "Sales in 2019?",
                "answer": ["1,496.5"],
                "answer_from": "table",
                "rel_paragraphs": [],
                "answer_type": "span",
                "scale": "million",
            },
        ],
    }
    dataset = tmp_path / "dev.json"
    dataset.write_text(json.dumps([context]))
    report = convert_tatqa(tmp_path / "out", dataset)
    assert report.documents == 1 and report.questions == 2
    documents = read_documents(Path(report.docs_dir))
    golden = load_rag_golden(Path(report.golden))
    assert golden[1].answer == "1,496.5 million"
    for q in golden:
        relevant = [c for c in documents[0].chunks if is_relevant(c, q)]
        assert len(relevant) == 1, q.id
    assert "Cost-plus" in [c for c in documents[0].chunks if is_relevant(c, golden[0])][0].text
    assert documents[0].access.visibility is Visibility.PUBLIC


def test_judged_metrics_are_wired_to_ragas():
    """ragas's faithfulness and answer relevancy through a scripted judge: every statement
    supported (1.0) for one answer, none (0.0) for the other."""

    def judge(messages, _kwargs) -> str:
        prompt = str(messages[-1].content)
        if "faithfulness" in prompt.lower():
            verdict = 0 if "Mars" in prompt.split("statements")[-1] else 1
            statement = "Wires go to Mars." if verdict == 0 else "Wires cost $25.00."
            return json.dumps(
                {"statements": [{"statement": statement, "reason": "-", "verdict": verdict}]}
            )
        if "noncommittal" in prompt.lower():
            return json.dumps({"question": "How much is a wire?", "noncommittal": 0})
        statement = (
            "Wires go to Mars." if "Mars" in prompt.split("answer")[-1] else "Wires cost $25.00."
        )
        return json.dumps({"statements": [statement]})

    class SameVector:
        def embed(self, texts):
            import numpy as np

            return np.ones((len(texts), 4), dtype=np.float32) / 2

    questions = [question(id="a", source="Fee Schedule"), question(id="b", source="Fee Schedule")]
    answers = [
        AnswerResult(
            id="a",
            expect_decline=False,
            answer="Wires cost $25.00 [1].",
            declined=False,
            latency_s=1,
        ),
        AnswerResult(
            id="b",
            expect_decline=False,
            answer="Wires go to Mars [1].",
            declined=False,
            latency_s=1,
        ),
    ]
    contexts = {"a": [WIRE.text], "b": [WIRE.text]}
    asyncio.run(
        judge_answers(
            answers,
            questions,
            contexts,
            ScriptedChatModel(responder=judge),
            EmbedderEmbeddings(SameVector()),
        )
    )
    assert answers[0].faithfulness == 1.0 and answers[1].faithfulness == 0.0
    assert answers[0].answer_relevancy == pytest.approx(1.0, abs=1e-3)
