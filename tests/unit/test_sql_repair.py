"""Draft repair on Spider's and defog's real databases: the repaired query must return the gold
rows, and anything the schema cannot decide must be left alone. So too for the quiet slips
fixed on every draft (a subquery's echoed column, dates compared in the wrong shape). The
drafts are the embedded model's own, taken from the seeded Spider sample and the defog set."""

import json
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from agents.sql.agent import RETRY_TEMPERATURE, SqlAgent
from agents.sql.date_shapes import in_stored_shape
from agents.sql.repair import repair, unechoed
from services.catalog import Catalog, ColumnInfo, TableInfo, catalog_from_engine
from services.identity import Caller, Role
from services.llm.scripted import ScriptedChatModel
from sql_guard.policy import open_policy
from sql_guard.runner import ReplicaRunner

EVAL_DATA = Path(__file__).resolve().parents[3] / "shared/eval-data"


@pytest.fixture(scope="module")
def spider():
    """Opens a Spider database by name, or defog's by file name, (engine, catalog) once per
    module."""
    opened = {}

    def open_database(name: str):
        if name not in opened:
            path = (
                EVAL_DATA / "defog" / name
                if name.endswith(".db")
                else EVAL_DATA / f"spider_dev/database/{name}/{name}.sqlite"
            )
            engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
            opened[name] = engine, catalog_from_engine(engine)
        return opened[name]

    yield open_database
    for engine, _catalog in opened.values():
        engine.dispose()


def _rows(engine, sql):
    return sorted(ReplicaRunner(engine, max_rows=1000, timeout_s=5).run(sql).rows)


@pytest.mark.parametrize(
    ("database", "draft", "gold"),
    [
        (  # the column lives in a table a foreign key away: joined
            "poker_player",
            "SELECT Name FROM poker_player WHERE Earnings > 300000",
            "SELECT T1.Name FROM people AS T1 JOIN poker_player AS T2 "
            "ON T1.People_ID = T2.People_ID WHERE T2.Earnings > 300000",
        ),
        (  # qualified with the other table of the join: requalified
            "dog_kennels",
            "SELECT T2.last_name FROM Owners AS T1 JOIN Dogs AS T2 ON T1.owner_id = T2.owner_id "
            "WHERE T2.age = (SELECT MAX(age) FROM Dogs)",
            "SELECT T1.last_name FROM Owners AS T1 JOIN Dogs AS T2 ON T1.owner_id = T2.owner_id "
            "WHERE T2.age = (SELECT max(age) FROM Dogs)",
        ),
        (  # qualified with a joined table that lacks it, held by that table's neighbour
            "dog_kennels",
            "SELECT T1.first_name, T2.treatment_type_description FROM Professionals AS T1 "
            "JOIN Treatments AS T2 ON T1.professional_id = T2.professional_id",
            "SELECT T1.first_name, T3.treatment_type_description FROM Professionals AS T1 "
            "JOIN Treatments AS T2 ON T1.professional_id = T2.professional_id "
            "JOIN Treatment_Types AS T3 ON T2.treatment_type_code = T3.treatment_type_code",
        ),
        (  # a join key its table lacks: put on the one foreign key between the two tables
            "car_1",
            "SELECT DISTINCT T1.MakeId, T2.Make FROM cars_data AS T1 INNER JOIN car_names AS T2 "
            "ON T1.MakeId = T2.MakeId WHERE T1.Cylinders < 4",
            "SELECT DISTINCT T2.MakeId, T2.Make FROM cars_data AS T1 JOIN car_names AS T2 "
            "ON T1.Id = T2.MakeId WHERE T1.Cylinders < 4",
        ),
        (  # no key between the two tables: joined through the one table keyed to both
            "employee_hire_evaluation",
            "SELECT T2.Name, COUNT(T1.Employee_ID) FROM employee AS T1 INNER JOIN shop AS T2 "
            "ON T1.Shop_ID = T2.Shop_ID GROUP BY T2.Name",
            "SELECT t2.name, count(*) FROM hiring AS t1 JOIN shop AS t2 "
            "ON t1.shop_id = t2.shop_id GROUP BY t2.name",
        ),
        (  # an alias the query never defines, on its only table
            "dog_kennels",
            "SELECT T1.role_code, T1.street, T1.city, T1.state FROM Professionals "
            "WHERE city LIKE '%West%'",
            "SELECT role_code, street, city, state FROM professionals WHERE city LIKE '%West%'",
        ),
        (  # a condition on a count in WHERE of a grouped query belongs in HAVING
            "cre_Doc_Template_Mgt",
            "SELECT document_id FROM Paragraphs WHERE COUNT(*) BETWEEN 1 AND 2 "
            "GROUP BY document_id",
            "SELECT document_id FROM Paragraphs GROUP BY document_id "
            "HAVING count(*) BETWEEN 1 AND 2",
        ),
        (  # ORDER BY a misnamed alias of the one count: that count
            "world_1",
            "SELECT Continent, COUNT(*) AS country_count FROM country GROUP BY Continent "
            "ORDER BY continent_count DESC, Continent",
            "SELECT Continent, COUNT(*) FROM country GROUP BY Continent "
            "ORDER BY COUNT(*) DESC, Continent",
        ),
        (  # defog's prefixes dropped from table and column names: the one name ending so
            "broker.db",
            "SELECT t.ticker_symbol, COUNT(tx.txId), SUM(tx.txAmount) AS total FROM sb_ticker AS t "
            "JOIN sb_transaction AS tx ON t.tickerId = tx.txTickerId "
            "GROUP BY t.ticker_symbol ORDER BY total DESC LIMIT 10",
            "SELECT tk.sbTickerSymbol, COUNT(tx.sbTxId), SUM(tx.sbTxAmount) AS total "
            "FROM sbTicker AS tk JOIN sbTransaction AS tx ON tk.sbTickerId = tx.sbTxTickerId "
            "GROUP BY tk.sbTickerSymbol ORDER BY total DESC LIMIT 10",
        ),
        (  # unqualified, over a table named without its prefix and never aliased
            "broker.db",
            "SELECT sb_transaction.txType, COUNT(*) FROM sb_transaction WHERE status = 'success' "
            "GROUP BY txType",
            "SELECT sbTxType, COUNT(*) FROM sbTransaction WHERE sbTxStatus = 'success' "
            "GROUP BY sbTxType",
        ),
        (  # qualified with a table of the query that lacks it, near-named in the other one
            "broker.db",
            "SELECT T2.sbTickerSymbol, MAX(T2.high) - MIN(T2.low) AS spread "
            "FROM sbDailyPrice AS T1 JOIN sbTicker AS T2 ON T1.sbDpTickerId = T2.sbTickerId "
            "GROUP BY T2.sbTickerSymbol",
            "SELECT t.sbTickerSymbol, MAX(d.sbDpHigh) - MIN(d.sbDpLow) FROM sbDailyPrice AS d "
            "JOIN sbTicker AS t ON d.sbDpTickerId = t.sbTickerId GROUP BY t.sbTickerSymbol",
        ),
        (  # a table named in the plural: its words begin as the real one's do
            "broker.db",
            "SELECT SUM(sbTxAmount) FROM transactions",
            "SELECT SUM(sbTxAmount) FROM sbTransaction",
        ),
        (  # the table's own word spelled out in front of the column's: dropped
            "broker.db",
            "SELECT AVG(transaction_price) FROM sbTransaction WHERE transaction_status = 'success'",
            "SELECT AVG(sbTxPrice) FROM sbTransaction WHERE sbTxStatus = 'success'",
        ),
        (  # no name ends so, but one begins alike word for word
            "world_1",
            "SELECT Language FROM countrylanguage WHERE percent > 90",
            "SELECT Language FROM countrylanguage WHERE Percentage > 90",
        ),
        (  # two missing columns, each held by its own neighbour: both joined
            "broker.db",
            "SELECT sbCustState, sbTickerType, COUNT(*) AS n FROM sbTransaction "
            "GROUP BY sbCustState, sbTickerType",
            "SELECT c.sbCustState, t.sbTickerType, COUNT(*) FROM sbTransaction AS tx "
            "JOIN sbCustomer AS c ON tx.sbTxCustId = c.sbCustId "
            "JOIN sbTicker AS t ON tx.sbTxTickerId = t.sbTickerId "
            "GROUP BY c.sbCustState, t.sbTickerType",
        ),
    ],
)
def test_repaired_query_returns_the_gold_rows(spider, database, draft, gold):
    engine, catalog = spider(database)
    repaired = repair(draft, catalog)
    assert repaired is not None and repaired != draft
    assert _rows(engine, repaired) == _rows(engine, gold)


@pytest.mark.parametrize(
    "draft",
    [
        "SELECT T1.Name FROM people AS T1",  # already right
        "SELECT nonsense FROM poker_player",  # no table has it
        # a join key on the wrong table is a wrong join; requalifying would compare x with x
        "SELECT T1.Name FROM people AS T1 JOIN poker_player AS T2 ON T2.Name = T2.People_ID",
        # the key exists in both tables: a wrong join, if it is one, is not the schema's to fix
        "SELECT T1.Name FROM people AS T1 JOIN poker_player AS T2 ON T1.People_ID = T2.Earnings",
        # T1 inside the subquery is the outer query's table, not an undefined alias
        "SELECT T1.Name FROM people AS T1 WHERE EXISTS "
        "(SELECT 1 FROM poker_player AS T2 WHERE T2.People_ID = T1.People_ID AND T1.Height > 0)",
        # a self-join with a wrong key: joining through poker_player would be a new plan
        "SELECT T1.Name FROM people AS T1 JOIN people AS T2 ON T1.People_ID = T2.Nonsense",
        # an aggregate condition without GROUP BY has no single reading
        "SELECT Name FROM people WHERE COUNT(*) > 1",
        "SELECT FROM WHERE",  # not SQL
    ],
)
def test_what_the_schema_cannot_decide_is_left_alone(spider, draft):
    assert repair(draft, spider("poker_player")[1]) is None


@pytest.mark.parametrize(
    "draft",
    [
        "SELECT id FROM sbTransaction",  # sbTxId, sbTxCustId, sbTxTickerId all end in id
        "SELECT sbTxAmount FROM trades",  # no table name ends in, or begins as, 'trades'
        "SELECT xamount FROM sbTransaction",  # a name must end on a word boundary
    ],
)
def test_a_name_with_no_single_near_miss_is_left_alone(spider, draft):
    assert repair(draft, spider("broker.db")[1]) is None


@pytest.mark.parametrize(
    "draft",
    [
        "SELECT count FROM city",  # `count` is not `CountryCode`: short words must match whole
        "SELECT Name FROM city WHERE popul > 1000",  # nor does a stub of a word
    ],
)
def test_words_that_only_look_alike_are_left_alone(spider, draft):
    assert repair(draft, spider("world_1")[1]) is None


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
    assert repair("SELECT city FROM visits", catalog) is None  # owners' or vets'?
    assert "JOIN owners" in repair("SELECT city FROM visits", catalog.without({"vets"}))


def test_a_join_with_two_bridges_is_left_alone():
    def table(name, *columns, keys=()):
        return TableInfo(
            name=name,
            columns=[ColumnInfo(name=c, type="INTEGER") for c in columns],
            foreign_keys=list(keys),
        )

    link = ("person_id", "people", "person_id"), ("club_id", "clubs", "club_id")
    catalog = Catalog(
        tables=[
            table("people", "person_id"),
            table("clubs", "club_id"),
            table("members", "person_id", "club_id", keys=link),
            table("coaches", "person_id", "club_id", keys=link),
        ]
    )
    draft = "SELECT c.club_id FROM people AS p JOIN clubs AS c ON p.club_id = c.club_id"
    assert repair(draft, catalog) is None  # members or coaches?
    bridged = repair(draft, catalog.without({"coaches"}))
    assert "JOIN members ON p.person_id = members.person_id" in bridged
    assert "JOIN clubs AS c ON members.club_id = c.club_id" in bridged


def _agent(model, engine, catalog):
    return SqlAgent(
        model,
        catalog=catalog,
        policy=open_policy(catalog.mapping(), max_rows=100),
        runner=ReplicaRunner(engine, max_rows=100, timeout_s=5),
        dialect="sqlite",
        max_retries=2,
    )


async def test_agent_runs_the_repaired_query_and_keeps_the_draft(spider):
    engine, catalog = spider("poker_player")
    draft = "SELECT Name FROM poker_player WHERE Earnings > 300000"
    model = ScriptedChatModel(responder=lambda _m, _k: json.dumps({"sql": draft}))
    agent = _agent(model, engine, catalog)
    outcome = await agent.answer("Names of players earning over 300000?", Caller(role=Role.ADMIN))
    assert outcome.draft == draft and outcome.attempts == 1
    assert "people" in outcome.sql.lower()
    assert len(model.calls) == 1  # no retry spent


async def test_retries_sample_instead_of_repeating_with_a_seed_of_the_question(spider):
    engine, catalog = spider("poker_player")

    async def retry_kwargs(question: str) -> dict:
        replies = iter(
            [json.dumps({"sql": "SELECT nonsense FROM people"}), json.dumps({"sql": "SELECT 1"})]
        )
        model = ScriptedChatModel(responder=lambda _m, _k: next(replies))
        outcome = await _agent(model, engine, catalog).answer(question, Caller(role=Role.ADMIN))
        assert outcome.attempts == 2
        assert "temperature" not in model.calls[0]["kwargs"]
        assert "seed" not in model.calls[0]["kwargs"]
        return model.calls[1]["kwargs"]

    first = await retry_kwargs("anything")
    assert first["temperature"] == RETRY_TEMPERATURE
    assert (await retry_kwargs("anything"))["seed"] == first["seed"]  # the same on every run
    assert (await retry_kwargs("something else"))["seed"] != first["seed"]


async def test_a_retry_asks_the_question_afresh_with_every_objection(spider):
    engine, catalog = spider("poker_player")
    drafts = ["SELECT nonsense FROM people", "SELECT Name FROM nowhere", "SELECT Name FROM people"]
    replies = iter(json.dumps({"sql": d}) for d in drafts)
    model = ScriptedChatModel(responder=lambda _m, _k: next(replies))
    outcome = await _agent(model, engine, catalog).answer("Who?", Caller(role=Role.ADMIN))
    assert outcome.attempts == 3
    first, second, third = (call["messages"] for call in model.calls)
    assert len(first) == len(second) == len(third)  # no rejected draft in the conversation
    assert not any(d in str(m.content) for m in third for d in drafts[:2])
    assert second[-1].content.startswith("Question: Who?") and "nonsense" in second[-1].content
    assert "nonsense" in third[-1].content and "nowhere" in third[-1].content


async def test_agent_repairs_a_draft_the_database_refused(spider):
    engine, catalog = spider("cre_Doc_Template_Mgt")
    draft = "SELECT document_id FROM Paragraphs WHERE COUNT(*) > 1 GROUP BY document_id"
    model = ScriptedChatModel(responder=lambda _m, _k: json.dumps({"sql": draft}))
    outcome = await _agent(model, engine, catalog).answer(
        "Which documents have more than one paragraph?", Caller(role=Role.ADMIN)
    )
    assert "HAVING" in outcome.sql and outcome.draft == draft
    assert len(model.calls) == 1 and outcome.result.rows


def test_a_column_named_by_the_words_of_one_columns_comment_is_that_column(demo_catalog):
    """The demo schema documents every column: "stop price" is what `limit_price` holds for a
    stop order, and no other column of orders says so."""
    draft = "SELECT id, symbol, stop_price FROM orders WHERE order_type = 'stop'"
    assert repair(draft, demo_catalog) == (
        "SELECT id, symbol, limit_price FROM orders WHERE order_type = 'stop'"
    )
    for vague in ("SELECT fill_value FROM orders", "SELECT market_value FROM orders"):
        assert repair(vague, demo_catalog) is None, vague


def test_a_column_compared_with_a_value_is_the_one_column_listing_it(demo_catalog):
    """Payments have no provider: the one column of payments that lists 'bank_transfer' is
    the method. A value no column lists, or the name alone, decides nothing."""
    draft = "SELECT SUM(amount) FROM payments WHERE provider IN ('bank_transfer', 'card')"
    assert repair(draft, demo_catalog) == (
        "SELECT SUM(amount) FROM payments WHERE method IN ('bank_transfer', 'card')"
    )
    for vague in (
        "SELECT SUM(amount) FROM payments WHERE provider = 'paypal'",
        "SELECT provider, SUM(amount) FROM payments GROUP BY provider",
    ):
        assert repair(vague, demo_catalog) is None, vague


def test_a_table_named_for_a_value_is_the_rows_holding_it(demo_catalog, demo_engine):
    """Payments are deposits or withdrawals; transactions list 'withdrawal' among their types, so
    "withdrawals" are payments. "pendings" could be KYC checks, notifications or payments."""
    draft = "SELECT COUNT(DISTINCT w.user_id) FROM withdrawals AS w"
    gold = "SELECT COUNT(DISTINCT user_id) FROM payments WHERE direction = 'withdrawal'"
    repaired = repair(draft, demo_catalog)
    assert repaired is not None and _rows(demo_engine, repaired) == _rows(demo_engine, gold)
    fees = repair("SELECT SUM(amount) FROM fees", demo_catalog)
    assert fees == "SELECT SUM(amount) FROM (SELECT * FROM transactions WHERE type = 'fee') AS fees"
    assert repair("SELECT COUNT(*) FROM pendings", demo_catalog) is None


def test_a_column_several_neighbours_hold_is_joined_from_the_one_listing_its_value(
    demo_catalog, demo_engine
):
    """Orders, accounts and users all have a status and are a key away from transactions;
    only orders list 'filled'. Compared with no value, the status stays ambiguous."""
    draft = "SELECT COUNT(*) FROM transactions WHERE type = 'buy' AND status = 'filled'"
    gold = (
        "SELECT COUNT(*) FROM transactions AS t JOIN orders AS o ON t.order_id = o.id "
        "WHERE t.type = 'buy' AND o.status = 'filled'"
    )
    repaired = repair(draft, demo_catalog)
    assert repaired is not None and "JOIN orders" in repaired
    assert _rows(demo_engine, repaired) == _rows(demo_engine, gold)
    assert repair("SELECT status, COUNT(*) FROM transactions GROUP BY status", demo_catalog) is None


def test_a_subquery_column_its_table_lacks_is_its_tables_own(spider):
    """`x NOT IN (SELECT x FROM t)` where t has no x reads the outer x: true of no row."""
    engine, catalog = spider("broker.db")
    draft = (
        "SELECT sbTickerId, sbTickerSymbol FROM sbTicker "
        "WHERE NOT sbTickerId IN (SELECT sbTickerId FROM sbDailyPrice)"
    )
    gold = (
        "SELECT tk.sbTickerId, tk.sbTickerSymbol FROM sbTicker AS tk LEFT JOIN sbDailyPrice AS dp "
        "ON tk.sbTickerId = dp.sbDpTickerId WHERE dp.sbDpTickerId IS NULL"
    )
    assert _rows(engine, draft) == [] != _rows(engine, gold)
    assert _rows(engine, unechoed(draft, catalog)) == _rows(engine, gold)
    own = "SELECT sbTickerId FROM sbTicker WHERE sbTickerId IN "
    own += "(SELECT sbDpTickerId FROM sbDailyPrice)"
    assert unechoed(own, catalog) == own


def test_a_key_named_for_a_joined_table_is_the_joins_own_column(spider):
    """`T2.user_id`, T2 joined to users on `T1.uid = T2.sender_id`, is `T2.sender_id`."""
    engine, catalog = spider("ewallet.db")
    draft = (
        "SELECT T1.country, COUNT(DISTINCT T2.user_id) AS num_users, SUM(T2.amount) AS total "
        "FROM users AS T1 INNER JOIN wallet_transactions_daily AS T2 ON T1.uid = T2.sender_id "
        "WHERE T2.sender_type = 0 GROUP BY T1.country"
    )
    gold = (
        "SELECT u.country, COUNT(DISTINCT t.sender_id), SUM(t.amount) FROM users AS u "
        "JOIN wallet_transactions_daily AS t ON u.uid = t.sender_id WHERE t.sender_type = 0 "
        "GROUP BY u.country"
    )
    assert _rows(engine, repair(draft, catalog)) == _rows(engine, gold)
    unjoined = "SELECT COUNT(DISTINCT user_id) FROM wallet_transactions_daily"
    assert "sender_id" not in (repair(unjoined, catalog) or "")  # sender or receiver: unsaid


def test_months_bounded_by_days_are_compared_as_stored_dates(spider):
    engine, _catalog = spider("broker.db")
    draft = (
        "SELECT STRFTIME('%Y-%m', sbTxDateTime) AS month, AVG(sbTxPrice) FROM sbTransaction "
        "WHERE sbTxStatus = 'success' AND STRFTIME('%Y-%m', sbTxDateTime) "
        "BETWEEN '2023-01-01' AND '2023-03-31' GROUP BY month"
    )
    gold = (
        "SELECT strftime('%Y-%m', sbTxDateTime) AS month, AVG(sbTxPrice) FROM sbTransaction "
        "WHERE sbTxStatus = 'success' AND sbTxDateTime BETWEEN '2023-01-01' AND '2023-03-31' "
        "GROUP BY month"
    )
    assert "2023-01" not in [m for m, _p in _rows(engine, draft)]
    assert _rows(engine, in_stored_shape(draft, "sqlite")) == _rows(engine, gold)


def test_a_date_with_a_bare_unit_is_that_units_period(spider):
    engine, _catalog = spider("broker.db")
    draft = (
        "SELECT COUNT(*) FROM sbCustomer AS c JOIN sbTransaction AS t ON c.sbCustId = "
        "t.sbTxCustId WHERE DATE(c.sbCustJoinDate, 'month') = DATE(t.sbTxDateTime, 'month')"
    )
    gold = (
        "SELECT COUNT(*) FROM sbCustomer AS c JOIN sbTransaction AS t ON c.sbCustId = "
        "t.sbTxCustId WHERE strftime('%Y-%m', c.sbCustJoinDate) = "
        "strftime('%Y-%m', t.sbTxDateTime)"
    )
    assert _rows(engine, draft) == [[0]] != _rows(engine, gold)
    assert _rows(engine, in_stored_shape(draft, "sqlite")) == _rows(engine, gold)
