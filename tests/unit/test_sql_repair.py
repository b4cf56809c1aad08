"""Column repair on Spider's real databases: the repaired query must return the gold rows, and
anything the schema cannot decide must be left alone."""

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from agents.sql_agent import RETRY_TEMPERATURE, SqlAgent
from agents.sql_repair import repair_columns
from services.catalog import Catalog, ColumnInfo, TableInfo, catalog_from_engine
from services.identity import Caller, Role
from services.llm.scripted import ScriptedChatModel
from sql_guard.policy import open_policy
from sql_guard.runner import ReplicaRunner

SPIDER = Path(__file__).resolve().parents[3] / "shared/eval-data/spider_dev/database"


def _open(name: str):
    engine = create_engine(f"sqlite:///file:{SPIDER / name / name}.sqlite?mode=ro&uri=true")
    return engine, catalog_from_engine(engine)


@pytest.fixture(scope="module")
def poker():
    engine, catalog = _open("poker_player")
    yield engine, catalog
    engine.dispose()


@pytest.fixture(scope="module")
def dogs():
    engine, catalog = _open("dog_kennels")
    yield engine, catalog
    engine.dispose()


def _rows(engine, sql):
    return sorted(ReplicaRunner(engine, max_rows=1000, timeout_s=5).run(sql).rows)


@pytest.mark.parametrize(
    ("database", "draft", "gold"),
    [
        (  # the column lives in a table a foreign key away: joined
            "poker",
            "SELECT Name FROM poker_player WHERE Earnings > 300000",
            "SELECT T1.Name FROM people AS T1 JOIN poker_player AS T2 "
            "ON T1.People_ID = T2.People_ID WHERE T2.Earnings > 300000",
        ),
        (  # qualified with the other table of the join: requalified
            "dogs",
            "SELECT T2.last_name FROM Owners AS T1 JOIN Dogs AS T2 ON T1.owner_id = T2.owner_id "
            "WHERE T2.age = (SELECT MAX(age) FROM Dogs)",
            "SELECT T1.last_name FROM Owners AS T1 JOIN Dogs AS T2 ON T1.owner_id = T2.owner_id "
            "WHERE T2.age = (SELECT max(age) FROM Dogs)",
        ),
        (  # qualified with a joined table that lacks it, held by that table's neighbour
            "dogs",
            "SELECT T1.first_name, T2.treatment_type_description FROM Professionals AS T1 "
            "JOIN Treatments AS T2 ON T1.professional_id = T2.professional_id",
            "SELECT T1.first_name, T3.treatment_type_description FROM Professionals AS T1 "
            "JOIN Treatments AS T2 ON T1.professional_id = T2.professional_id "
            "JOIN Treatment_Types AS T3 ON T2.treatment_type_code = T3.treatment_type_code",
        ),
    ],
)
def test_repaired_query_returns_the_gold_rows(request, database, draft, gold):
    engine, catalog = request.getfixturevalue(database)
    repaired = repair_columns(draft, catalog)
    assert repaired is not None and repaired != draft
    assert _rows(engine, repaired) == _rows(engine, gold)


@pytest.mark.parametrize(
    "draft",
    [
        "SELECT T1.Name FROM people AS T1",  # already right
        "SELECT nonsense FROM poker_player",  # no table has it
        # a join key on the wrong table is a wrong join; requalifying would compare x with x
        "SELECT T1.Name FROM people AS T1 JOIN poker_player AS T2 ON T2.Name = T2.People_ID",
        "SELECT FROM WHERE",  # not SQL
    ],
)
def test_what_the_schema_cannot_decide_is_left_alone(poker, draft):
    assert repair_columns(draft, poker[1]) is None


def test_a_column_two_neighbouring_tables_hold_is_left_alone():
    def table(name, *columns, keys=()):
        return TableInfo(
            name=name,
            columns=[ColumnInfo(name=c, type="TEXT") for c in columns],
            foreign_keys=list(keys),
        )

    catalog = Catalog(
        tables=[
            table("owners", "owner_id", "city"),
            table("vets", "vet_id", "city"),
            table(
                "visits",
                "owner_id",
                "vet_id",
                keys=[("owner_id", "owners", "owner_id"), ("vet_id", "vets", "vet_id")],
            ),
        ]
    )
    assert repair_columns("SELECT city FROM visits", catalog) is None  # owners' or vets'?
    assert "JOIN owners" in repair_columns("SELECT city FROM visits", catalog.without({"vets"}))


def _agent(model, engine, catalog):
    return SqlAgent(
        model,
        catalog=catalog,
        policy=open_policy(catalog.mapping(), max_rows=100),
        runner=ReplicaRunner(engine, max_rows=100, timeout_s=5),
        dialect="sqlite",
        max_retries=2,
    )


async def test_agent_runs_the_repaired_query_and_keeps_the_draft(poker):
    engine, catalog = poker
    draft = "SELECT Name FROM poker_player WHERE Earnings > 300000"
    model = ScriptedChatModel(responder=lambda _m, _k: json.dumps({"sql": draft}))
    agent = _agent(model, engine, catalog)
    outcome = await agent.answer("Names of players earning over 300000?", Caller(role=Role.ADMIN))
    assert outcome.draft == draft and outcome.attempts == 1
    assert "people" in outcome.sql.lower()
    assert len(model.calls) == 1  # no retry spent


async def test_retries_sample_instead_of_repeating(poker):
    engine, catalog = poker
    replies = iter(
        [json.dumps({"sql": "SELECT nonsense FROM people"}), json.dumps({"sql": "SELECT 1"})]
    )
    model = ScriptedChatModel(responder=lambda _m, _k: next(replies))
    agent = _agent(model, engine, catalog)
    outcome = await agent.answer("anything", Caller(role=Role.ADMIN))
    assert outcome.attempts == 2
    assert "temperature" not in model.calls[0]["kwargs"]
    assert model.calls[1]["kwargs"]["temperature"] == RETRY_TEMPERATURE
