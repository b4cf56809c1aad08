"""The evaluation's judge and runner, with a scripted model on a real Spider database."""

import json
from pathlib import Path

import pytest

from evals.golden import GoldenQuestion
from evals.sql_eval import is_ordered, results_match, run, summarise
from services.llm.scripted import ScriptedChatModel

SPIDER = Path(__file__).resolve().parents[3] / "shared/eval-data/spider_dev/database"


def test_judge_ignores_column_order_but_not_row_order_when_gold_orders():
    assert results_match([("b", 2), ("a", 1)], [(1, "a"), (2, "b")], ordered=False)
    assert not results_match([("b", 2), ("a", 1)], [(1, "a"), (2, "b")], ordered=True)
    assert results_match([(1.00001,)], [(1.0,)], ordered=False)
    assert results_match([(79.0, "a")], [("a", 79)], ordered=False)  # SQLite's REAL vs INTEGER
    assert not results_match([(1,), (2,)], [(1,)], ordered=False)
    assert not results_match([(1, 2)], [(1,)], ordered=False)
    assert is_ordered("SELECT a FROM t ORDER BY a") and not is_ordered("SELECT a FROM t")


def _about_singers(qid: str, question: str, gold: str = "SELECT count(*) FROM singer"):
    return GoldenQuestion(
        id=qid,
        db="concert_singer/concert_singer.sqlite",
        question=question,
        gold_sql=gold,
        category="easy",
    )


def test_runner_scores_pipeline_and_baseline():
    questions = [
        _about_singers("q1", "How many singers do we have?"),
        _about_singers(
            "q2", "What is the average age of all singers?", "SELECT avg(age) FROM singer"
        ),
    ]

    def respond(messages, kwargs):
        asked = str(messages[-1].content)
        if "response_format" in kwargs:  # the pipeline: right on q1, wrong on q2
            sql = (
                "SELECT COUNT(*) FROM singer"
                if "How many" in asked
                else "SELECT MAX(Age) FROM singer"
            )
            return json.dumps({"sql": sql})
        return "SELECT count(*) FROM singer"  # the baseline always counts

    piped, based = run(
        questions, SPIDER, ScriptedChatModel(responder=respond), embedder=None, baseline=True
    )
    assert [r.correct for r in piped] == [True, False]
    assert [r.correct for r in based] == [True, False]
    summary = summarise("pipeline", piped)
    assert summary.accuracy == 0.5 and summary.by_category["easy"]["total"] == 2
    # the pipeline's answers are whole, sentence included; one value needs no model call
    assert [r.answer for r in piped][0].startswith("The answer is ")
    assert all(r.latency_s >= r.sql_latency_s > 0 for r in piped)


def test_a_model_that_times_out_costs_its_question_not_the_run():
    questions = [_about_singers("q1", "Slow: how many singers?"), _about_singers("q2", "How many?")]

    def respond(messages, kwargs):
        if "Slow" in str(messages[-1].content):
            raise TimeoutError("the model took too long")
        return json.dumps({"sql": "SELECT COUNT(*) FROM singer"})

    piped, _ = run(
        questions, SPIDER, ScriptedChatModel(responder=respond), embedder=None, baseline=False
    )
    assert [r.correct for r in piped] == [False, True]
    assert piped[0].error.startswith("the model timed out")


def test_a_bug_still_stops_the_run():
    question = _about_singers("q1", "How many singers?")

    def respond(messages, kwargs):
        raise KeyError("a bug of ours")

    with pytest.raises(KeyError):
        run([question], SPIDER, ScriptedChatModel(responder=respond), embedder=None, baseline=False)


def test_only_defog_style_metadata_becomes_comments(tmp_path):
    from evals.sql_eval import _descriptions

    db = tmp_path / "x.sqlite"
    db.with_suffix(".json").write_text('[{"not": "defog metadata"}]')
    assert _descriptions(db) == {}
    db.with_suffix(".json").write_text(
        '{"table_metadata": {"t": [{"column_name": "a", "column_description": "an a"}]}}'
    )
    assert _descriptions(db) == {"t": {"a": "an a"}}


def test_defog_descriptions_reach_the_catalog_of_both_databases():
    """ewallet's metadata names its tables with their PostgreSQL schema (`consumer_div.users`)."""
    from evals.sql_eval import open_database

    defog = Path(__file__).resolve().parents[3] / "shared" / "eval-data" / "defog"
    comments = {}
    for name in ("broker.db", "ewallet.db"):
        db = open_database(defog / name)
        comments |= {(t.name, c.name): c.comment for t in db.catalog.tables for c in t.columns}
        db.engine.dispose()
    assert "0 for user" in comments[("wallet_transactions_daily", "sender_type")]
    assert "possible values" in comments[("users", "status")]
    assert comments[("sbTicker", "sbTickerType")]


def test_the_platform_database_is_prompted_as_the_platform_prompts_it(demo_settings):
    """The eval shows the model the schema the platform shows, whole, so the processed prompt
    serves every question; with the platform's bookkeeping tables it was cut per question."""
    from evals.sql_eval import open_database, pipeline_agent
    from graphs.build import INTERNAL_TABLES, platform_notes
    from retrieval.embeddings import Embedder
    from services.identity import Caller, Role

    db = open_database(demo_settings.var_dir / "trading_assist.db")
    assert db.is_platform and not INTERNAL_TABLES & {t.name for t in db.catalog.tables}
    model = ScriptedChatModel(responder=lambda *_: "")
    agent = pipeline_agent(model, db, Embedder(), 1, platform_notes, [])
    admin = Caller(role=Role.ADMIN)
    shown = [
        agent.tables_for(q, admin)
        for q in ("commissions paid in the past month", "the sum of my cash balances")
    ]
    allowed = agent.policy.tables_for(admin.role) & {t.name for t in db.catalog.tables}
    assert shown[0] == shown[1] == allowed and agent.stable_prefix(admin)


def test_each_roles_schema_prompt_is_primed_before_the_first_question_is_timed():
    """The server processes the schema prompts at start; the eval does the same, so its first
    question does not pay for them (two minutes on two cores) where a user's would not."""
    questions = [
        _about_singers("q1", "How many singers?"),
        _about_singers("q2", "How many singers now?").model_copy(update={"user_id": 3}),
        _about_singers("q3", "And the singers?").model_copy(update={"user_id": 4}),
    ]
    events: list[str] = []

    async def primer(messages, slot):
        events.append(f"prime {slot}: {messages[0].content[:20]}")

    def respond(messages, kwargs):
        events.append("question")
        return json.dumps({"sql": "SELECT COUNT(*) FROM singer"})

    run(
        questions,
        SPIDER,
        ScriptedChatModel(responder=respond),
        embedder=None,
        baseline=False,
        primer=primer,
    )
    primed = [e for e in events if e.startswith("prime")]
    assert primed == ["prime 0: You write SQLite que", "prime 1: You write SQLite que"]
    assert events[:2] == primed  # one prompt per role: the staff's and the customers'
