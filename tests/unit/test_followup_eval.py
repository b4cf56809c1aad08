"""Follow-up questions are asked in one thread per conversation and scored per turn and pair."""

from __future__ import annotations

import asyncio
import doctest
import sqlite3

import pytest
from typer.testing import CliRunner

from cli.main import app
from evals import followup_eval
from evals.followup_eval import (
    Reply,
    conversations,
    run_conversations,
    summarise_conversations,
)
from evals.golden import GoldenFileError, GoldenQuestion
from evals.sql_eval import open_database
from services.errors import AssistantError
from services.settings import get_settings


def q(qid: str, sql: str, follows: str | None = None, user_id: int | None = None):
    return GoldenQuestion(
        id=qid, db="t.db", question=f"{qid}?", gold_sql=sql, follows=follows, user_id=user_id
    )


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, status TEXT)")
        conn.executemany(
            "INSERT INTO orders VALUES (?, ?)", [(1, "open"), (2, "filled"), (3, "open")]
        )
    database = open_database(path)
    yield database
    database.engine.dispose()


QUESTIONS = [
    q("a1", "SELECT COUNT(*) FROM orders"),
    q("a2", "SELECT COUNT(*) FROM orders WHERE status = 'open'", follows="a1"),
    q("b1", "SELECT COUNT(*) FROM orders WHERE status = 'filled'"),
    q("b2", "SELECT id FROM orders WHERE status = 'filled'", follows="b1"),
    q("c1", "SELECT MAX(id) FROM orders"),
    q("c2", "SELECT MIN(id) FROM orders", follows="c1"),
]


def test_each_conversation_is_one_thread_and_scored_per_pair(db):
    replies = {
        "a1?": Reply(answer="3", sql="SELECT COUNT(*) FROM orders", rows=[[3]], thread_id="A"),
        "a2?": Reply(answer="2", sql="SELECT 2", rows=[[2]], thread_id="A"),
        "b1?": Reply(answer="1", sql="SELECT 1", rows=[[1]], thread_id="B"),
        "b2?": Reply(answer="The filled one is order 2.", thread_id="B"),  # no SQL: wrong
        "c2?": Reply(answer="1", sql="SELECT 1", rows=[[1]], thread_id="C"),
    }
    asked: list[tuple[str, int | None, str | None]] = []

    async def ask(text: str, user_id: int | None, thread: str | None) -> Reply:
        asked.append((text, user_id, thread))
        if text == "c1?":
            raise AssistantError("model_unavailable", "the local model is unavailable")
        return replies[text]

    chains = conversations(QUESTIONS)
    results = asyncio.run(run_conversations(chains, ask, db))
    assert [t for _, _, t in asked] == [None, "A", None, "B", None, None]
    assert [r.correct for r in results] == [True, True, True, False, False, True]
    assert results[3].error.startswith("answered without SQL: The filled one")
    assert results[4].error == "the local model is unavailable"
    summary = summarise_conversations(chains, results)
    assert summary.model_dump() == {
        "conversations": 3,
        "first_turns_right": 2,
        "followups": 3,
        "followups_right": 2,
        "pairs_right": 1,
    }


@pytest.mark.parametrize(
    ("questions", "message"),
    [
        ([q("b", "SELECT 1", follows="a"), q("a", "SELECT 1")], "b follows 'a', which is no"),
        (
            [q("a", "SELECT 1"), q("b", "SELECT 1", "a"), q("c", "SELECT 1", "a")],
            "c follows 'a', which b already follows",
        ),
        (
            [q("a", "SELECT 1", user_id=12), q("b", "SELECT 1", "a", user_id=13)],
            "b is asked by another user",
        ),
    ],
)
def test_a_follow_up_that_continues_no_conversation_is_refused(questions, message):
    with pytest.raises(GoldenFileError, match=message):
        conversations(questions)


@pytest.fixture
def golden(tmp_path, db, monkeypatch):
    monkeypatch.setenv("VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    path = tmp_path / "followups.jsonl"
    path.write_text("\n".join(line.model_dump_json() for line in QUESTIONS[:2]) + "\n")
    yield path
    get_settings.cache_clear()


def test_eval_sql_refuses_options_a_conversation_cannot_take(golden):
    args = ["eval", "sql", "--golden", str(golden), "--db-dir", str(golden.parent)]
    result = CliRunner().invoke(app, [*args, "--baseline"])
    assert result.exit_code == 2
    assert "--baseline, --limit, --samples and --no-linking do not apply" in result.output


def test_eval_sql_asks_follow_ups_only_of_the_database_the_assistant_reads(golden):
    args = ["eval", "sql", "--golden", str(golden), "--db-dir", str(golden.parent)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "follow-ups are asked through the assistant" in result.output
    assert "t.db) must be it" in result.output


def test_docstring_examples():
    assert doctest.testmod(followup_eval).failed == 0
