"""The golden question sets load, and every gold query runs on its database."""

from __future__ import annotations

import doctest
import json
import re
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from evals import convert_spider as convert_spider_module
from evals import golden as golden_module
from evals.convert_spider import convert_spider
from evals.golden import (
    DEMO_CATEGORIES,
    DEMO_SQL,
    DEMO_SQL_HOLDOUT,
    FOLLOWUP_SQL,
    FOLLOWUP_TUNING,
    PARAPHRASE_SQL,
    PLAIN_SQL,
    GoldenFileError,
    GoldenQuestion,
    load_golden,
)
from sql_guard.clock_pin import on_platform_clock

EVAL_DATA = Path(__file__).resolve().parents[3] / "shared" / "eval-data"
DEFOG = EVAL_DATA / "defog"
SPIDER = EVAL_DATA / "spider_dev"
DEMO_USERS = 120  # tests/conftest.py builds the demo database with this many users
THIS_YEAR = "strftime('%Y', 'now')"

DEMO_SETS = {path.stem: (path, load_golden(path)) for path in (DEMO_SQL, DEMO_SQL_HOLDOUT)}
DEMO_MIN_SIZE = {"demo_sql": 60, "demo_sql_holdout": 30}
DEMO = [q for _path, questions in DEMO_SETS.values() for q in questions]
# Sets written without reading the prompts or rules, never tuned on (issue 17).
UNSEEN_SETS = {path.stem: load_golden(path) for path in (PLAIN_SQL, PARAPHRASE_SQL, FOLLOWUP_SQL)}
UNSEEN_MIN_SIZE = {"plain_sql": 60, "paraphrase_sql": 90, "followup_sql": 20}
UNSEEN = [q for questions in UNSEEN_SETS.values() for q in questions]


def read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)


def all_sql(questions: list[GoldenQuestion]) -> Iterator[tuple[GoldenQuestion, str]]:
    for question in questions:
        for sql in question.gold_sqls:
            yield question, sql


@pytest.fixture(scope="module")
def demo_db(demo_database_as_built: Path) -> Iterator[sqlite3.Connection]:
    conn = read_only(demo_database_as_built)
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def spider_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    out = tmp_path_factory.mktemp("golden") / "spider_dev.jsonl"
    return out, convert_spider(SPIDER / "dev.json", SPIDER / "database", out)


# -- the demo set ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", DEMO_SETS)
def test_demo_set_is_well_formed(name):
    path, questions = DEMO_SETS[name]
    assert len(questions) >= DEMO_MIN_SIZE[name]
    assert {q.db for q in questions} == {"trading_assist.db"}
    assert {q.category for q in questions} == set(DEMO_CATEGORIES)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    difficulty = Counter(line["difficulty"] for line in lines)
    assert set(difficulty) == {"easy", "medium", "hard"}
    assert min(difficulty.values()) >= len(questions) // 4  # roughly a third each


def test_demo_sets_share_no_id_or_question():
    assert len({q.id for q in DEMO}) == len(DEMO)
    assert len({q.question.lower() for q in DEMO}) == len(DEMO)


def test_demo_dates_are_relative():
    """The demo data moves with its build day, so no gold query may name a fixed date."""
    fixed = re.compile(r"'\d{4}-\d{2}(-\d{2})?")
    assert [q.id for q, sql in all_sql(DEMO) if fixed.search(sql)] == []


def test_customer_questions_filter_on_their_user():
    customers = [q for q in DEMO if q.user_id is not None]
    for _path, questions in DEMO_SETS.values():
        share = sum(q.user_id is not None for q in questions) / len(questions)
        assert 0.15 <= share <= 0.3
    assert customers == [q for q in DEMO if q.category == "customer_scoped"]
    for question, sql in all_sql(customers):
        assert re.search(rf"\buser_id\s*=\s*{question.user_id}\b", sql), question.id
    assert all(11 <= q.user_id <= DEMO_USERS for q in customers)


def test_customer_questions_are_asked_by_customers(demo_db):
    customers = dict(demo_db.execute("SELECT id, role FROM users").fetchall())
    for question in DEMO:
        if question.user_id is not None:
            assert customers[question.user_id] == "customer", question.id


@pytest.mark.parametrize(
    ("question", "sql"),
    list(all_sql(DEMO)),
    ids=[f"{q.id}-{n}" for q in DEMO for n in range(len(q.gold_sqls))],
)
def test_demo_gold_sql_runs_and_answers(demo_db, question, sql):
    rows = demo_db.execute(on_platform_clock(sql)).fetchall()
    assert rows, f"{question.id} returned no rows"
    assert len(rows) <= 200, f"{question.id} returns more rows than the SQL guard's cap"
    # A "this year" answer may rightly be empty in the first days of January.
    if question.user_id is not None and THIS_YEAR not in sql:
        assert any(value not in (None, 0) for row in rows for value in row), (
            f"{question.id}: customer {question.user_id} has no data for this question"
        )


# -- the sets never tuned on -----------------------------------------------------------------
@pytest.mark.parametrize("name", UNSEEN_SETS)
def test_unseen_set_is_well_formed(name):
    questions = UNSEEN_SETS[name]
    assert len(questions) >= UNSEEN_MIN_SIZE[name]
    assert {q.db for q in questions} == {"trading_assist.db"}
    assert {q.category for q in questions} <= set(DEMO_CATEGORIES)
    assert any(q.user_id is not None for q in questions)
    assert any(q.user_id is None for q in questions)


def test_unseen_sets_repeat_no_id_or_demo_question():
    assert len({q.id for q in DEMO + UNSEEN}) == len(DEMO + UNSEEN)
    asked = {q.question.lower() for q in DEMO}
    assert [q.id for q in UNSEEN if q.question.lower() in asked] == []


def test_unseen_dates_are_relative_and_customers_filter_on_themselves():
    fixed = re.compile(r"'\d{4}-\d{2}(-\d{2})?")
    assert [q.id for q, sql in all_sql(UNSEEN) if fixed.search(sql)] == []
    for question, sql in all_sql([q for q in UNSEEN if q.user_id is not None]):
        assert question.category == "customer_scoped", question.id
        assert re.search(rf"\buser_id\s*=\s*{question.user_id}\b", sql), question.id
        assert 11 <= question.user_id <= DEMO_USERS


def test_paraphrases_ask_each_intent_three_ways_with_one_gold_query():
    intents: dict[str, list[GoldenQuestion]] = {}
    for question in UNSEEN_SETS["paraphrase_sql"]:
        assert question.intent, question.id
        intents.setdefault(question.intent, []).append(question)
    assert len(intents) == 30
    lines = [json.loads(line) for line in PARAPHRASE_SQL.read_text(encoding="utf-8").splitlines()]
    phrasing = {line["id"]: line["phrasing"] for line in lines}
    for name, rows in intents.items():
        assert sorted(phrasing[q.id] for q in rows) == ["other_language", "synonym", "terse"]
        assert len({(q.gold_sql, q.user_id) for q in rows}) == 1, name
        assert len({q.question.lower() for q in rows}) == 3, name


@pytest.mark.parametrize("path", [FOLLOWUP_SQL, FOLLOWUP_TUNING], ids=lambda p: p.stem)
def test_followups_follow_the_question_before_them(path):
    questions = load_golden(path)
    assert len(questions) >= 20 and len(questions) % 2 == 0
    for first, second in zip(questions[::2], questions[1::2], strict=True):
        assert first.follows is None and second.follows == first.id
        assert (first.user_id, first.category) == (second.user_id, second.category)
        assert first.gold_sql != second.gold_sql


@pytest.mark.parametrize(
    ("question", "sql"),
    list(all_sql(UNSEEN)),
    ids=[f"{q.id}-{n}" for q in UNSEEN for n in range(len(q.gold_sqls))],
)
def test_unseen_gold_sql_runs_and_answers(demo_db, question, sql):
    rows = demo_db.execute(on_platform_clock(sql)).fetchall()
    assert rows, f"{question.id} returned no rows"
    assert len(rows) <= 200, f"{question.id} returns more rows than the SQL guard's cap"


# -- the follow-ups tuned on -----------------------------------------------------------------
FOLLOWUP_TUNED = load_golden(FOLLOWUP_TUNING)


def test_tuned_followups_are_new_questions():
    assert not {q.id for q in FOLLOWUP_TUNED} & {q.id for q in DEMO + UNSEEN}
    asked = {q.question.lower() for q in DEMO + UNSEEN}
    assert [q.id for q in FOLLOWUP_TUNED if q.question.lower() in asked] == []


@pytest.mark.parametrize("question", FOLLOWUP_TUNED, ids=lambda q: q.id)
def test_tuned_followup_gold_sql_runs_and_answers(demo_db, question):
    rows = demo_db.execute(on_platform_clock(question.gold_sql)).fetchall()
    assert any(value not in (None, 0) for row in rows for value in row), question.id
    if question.user_id is not None:
        assert re.search(rf"\buser_id\s*=\s*{question.user_id}\b", question.gold_sql)
        assert 11 <= question.user_id <= DEMO_USERS


# -- defog ----------------------------------------------------------------------------------
def test_defog_questions_load_and_run():
    questions = load_golden(DEFOG / "questions.jsonl")
    assert len(questions) == 62
    assert {q.db for q in questions} == {"broker.db", "ewallet.db"}
    assert any(q.instructions for q in questions)
    conns = {db: read_only(DEFOG / db) for db in ("broker.db", "ewallet.db")}
    try:
        for question, sql in all_sql(questions):
            conns[question.db].execute(sql).fetchall()
    finally:
        for conn in conns.values():
            conn.close()


# -- Spider ---------------------------------------------------------------------------------
def test_spider_converts_every_runnable_question(spider_file):
    out, written = spider_file
    questions = load_golden(out)
    assert written == len(questions) == 972  # 1034 minus wta_1's 62, whose database is missing
    assert not any(q.db.startswith("wta_1/") for q in questions)
    assert questions[0].id == "spider-dev-0"
    assert questions[0].db == "concert_singer/concert_singer.sqlite"
    assert Counter(q.category for q in questions) == {
        "easy": 248 - 16,
        "medium": 446 - 30,
        "hard": 174 - 14,
        "extra": 166 - 2,
    }


def test_spider_hardness_matches_the_published_split():
    examples = json.loads((SPIDER / "dev.json").read_text(encoding="utf-8"))
    buckets = Counter(convert_spider_module.spider_hardness(e["sql"]) for e in examples)
    assert buckets == {"easy": 248, "medium": 446, "hard": 174, "extra": 166}


def test_spider_gold_sql_runs(spider_file):
    out, _ = spider_file
    conns: dict[str, sqlite3.Connection] = {}
    try:
        for question in load_golden(out):
            if question.db not in conns:
                conns[question.db] = read_only(SPIDER / "database" / question.db)
            conns[question.db].execute(question.gold_sql).fetchall()
    finally:
        for conn in conns.values():
            conn.close()


def test_seeded_sample_is_stable(spider_file):
    out, _ = spider_file
    first = [q.id for q in load_golden(out, limit=200, seed=0)]
    again = [q.id for q in load_golden(out, limit=200, seed=0)]
    assert len(first) == len(set(first)) == 200
    assert first == again
    assert first != [q.id for q in load_golden(out, limit=200, seed=1)]
    assert [q.id for q in load_golden(out, limit=3)] == [
        "spider-dev-0",
        "spider-dev-1",
        "spider-dev-2",
    ]


def test_seeded_sample_ignores_file_order(tmp_path, spider_file):
    out, _ = spider_file
    reversed_file = tmp_path / "reversed.jsonl"
    reversed_file.write_text(
        "\n".join(reversed(out.read_text(encoding="utf-8").splitlines())) + "\n", encoding="utf-8"
    )
    sample = [q.id for q in load_golden(out, limit=50, seed=7)]
    assert [q.id for q in load_golden(reversed_file, limit=50, seed=7)] == sample


# -- the loader's errors --------------------------------------------------------------------
def test_invalid_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"id": "a", "db": "x.db", "question": "q?", "gold_sql": "SELECT 1"})
    path.write_text(f"{good}\n\n{json.dumps({'id': 'b', 'db': 'x.db'})}\n", encoding="utf-8")
    with pytest.raises(GoldenFileError, match=rf"{re.escape(str(path))}:3: .*question"):
        load_golden(path)
    path.write_text(f"{good}\n{{not json\n", encoding="utf-8")
    with pytest.raises(GoldenFileError, match=r"bad\.jsonl:2: not valid JSON"):
        load_golden(path)
    path.write_text(f"{good}\n{good}\n", encoding="utf-8")
    with pytest.raises(GoldenFileError, match=r":2: duplicate id 'a'"):
        load_golden(path)


def test_docstring_examples():
    for module in (golden_module, convert_spider_module):
        assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0
