"""An answer that plainly misses the question is asked again, and the first one stands when no
later draft does better: on the demo database, with the model's drafts scripted."""

import json

import pytest

from agents.query_doubts import doubts
from agents.question_cues import Cues, read_cues
from services.identity import Caller, Role
from services.llm.scripted import ScriptedChatModel

FILLS = "SELECT symbol, COUNT(*) FROM transactions WHERE type = 'buy' GROUP BY symbol"
FILLED = "SELECT symbol, COUNT(*) FROM orders WHERE status = 'filled' GROUP BY symbol"
QUESTION = "How many filled orders are there per symbol?"


def _scripted(*drafts: str) -> ScriptedChatModel:
    replies = iter(json.dumps({"sql": d}) for d in drafts)
    return ScriptedChatModel(responder=lambda _m, _k: next(replies))


async def test_a_doubted_answer_is_asked_again_with_the_doubt(demo_sql_agent):
    model = _scripted(FILLS, FILLED)
    outcome = await demo_sql_agent(model, max_retries=2).answer(QUESTION, Caller(role=Role.ADMIN))
    assert outcome.draft == FILLED and outcome.attempts == 2
    retry = str(model.calls[1]["messages"][-1].content)
    assert "does not read orders" in retry


async def test_the_first_answer_stands_when_no_draft_clears_the_doubt(demo_sql_agent):
    model = _scripted(FILLS, FILLS.replace("'buy'", "'sell'"), FILLS)
    outcome = await demo_sql_agent(model, max_retries=2).answer(QUESTION, Caller(role=Role.ADMIN))
    assert len(model.calls) == 3
    assert outcome.draft == FILLS and outcome.attempts == 1 and outcome.result.rows


async def test_an_answer_without_doubts_is_not_asked_again(demo_sql_agent):
    model = _scripted(FILLED)
    outcome = await demo_sql_agent(model, max_retries=2).answer(QUESTION, Caller(role=Role.ADMIN))
    assert len(model.calls) == 1 and outcome.draft == FILLED


def test_a_value_its_column_never_holds_is_doubted_and_its_home_named(demo_catalog):
    sql = "SELECT COUNT(*) FROM trading_accounts AS a WHERE a.status = 'filled'"
    (doubt,) = doubts(sql, Cues(), demo_catalog, "sqlite")
    assert "trading_accounts.status never holds 'filled'" in doubt
    assert "orders.status" in doubt


def test_what_the_question_allows_is_not_doubted(demo_catalog):
    cues = read_cues("How many customers hold a crypto account?", (), demo_catalog)
    reads = "SELECT COUNT(DISTINCT user_id) FROM trading_accounts WHERE account_type = 'crypto'"
    assert doubts(reads, cues, demo_catalog, "sqlite") == []
    unread = "SELECT COUNT(DISTINCT user_id) FROM positions"
    assert "does not read trading_accounts" in doubts(unread, cues, demo_catalog, "sqlite")[0]
    held = (
        "SELECT COUNT(*) FROM orders WHERE status IN ('open', 'partially_filled')",
        "SELECT COUNT(*) FROM orders AS o WHERE o.symbol = 'ZZZZ'",  # symbols are not listed
        "SELECT COUNT(*) FROM (SELECT status AS s FROM orders) WHERE s = 'x'",  # not a stored one
    )
    for sql in held:
        assert doubts(sql, Cues(), demo_catalog, "sqlite") == [], sql


def _account(demo_engine, user_id: int | None = None) -> str:
    mine = f"WHERE user_id = {user_id}" if user_id else ""
    with demo_engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT account_number FROM trading_accounts {mine}").scalar()


async def test_an_empty_answer_looking_in_the_wrong_column_is_asked_again(
    demo_sql_agent, demo_engine
):
    """Account numbers are too many for the catalog to list, so the database is asked."""
    number = _account(demo_engine)
    wrong = f"SELECT SUM(amount) FROM payments WHERE provider_reference = '{number}'"
    right = f"SELECT cash_balance FROM trading_accounts WHERE account_number = '{number}'"
    model = _scripted(wrong, right)
    agent = demo_sql_agent(model, max_retries=2)
    outcome = await agent.answer(f"How much cash is in account {number}?", Caller(role=Role.ADMIN))
    assert outcome.draft == right and outcome.result.rows[0][0] is not None
    retry = str(model.calls[1]["messages"][-1].content)
    assert f"no row of payments.provider_reference holds '{number}'" in retry
    assert "trading_accounts.account_number does" in retry


async def test_a_value_only_a_column_the_caller_may_not_read_holds_is_not_looked_up(
    demo_sql_agent, demo_engine
):
    """A customer's empty answer is not doubted by way of columns the guard keeps from them:
    asking whether another user's email exists would tell them so."""
    with demo_engine.connect() as conn:
        email = conn.exec_driver_sql("SELECT email FROM users WHERE id = 12").scalar()
    absent = f"SELECT COUNT(*) FROM payments WHERE provider_reference = '{email}'"
    model = _scripted(absent)
    caller = Caller(user_id=13, role=Role.CUSTOMER)
    outcome = await demo_sql_agent(model, max_retries=2).answer("Any payment from that?", caller)
    assert len(model.calls) == 1 and outcome.result.rows == [[0]]
    admin = _scripted(absent, absent, absent)
    await demo_sql_agent(admin, max_retries=2).answer(
        "Any payment from that?", Caller(role=Role.ADMIN)
    )
    assert "users.email does" in str(admin.calls[1]["messages"][-1].content)


async def test_either_of_two_values_is_doubted_where_the_question_asks_for_both(
    demo_sql_agent, demo_engine, demo_catalog
):
    either = (
        "SELECT COUNT(DISTINCT user_id) FROM trading_accounts "
        "WHERE account_type IN ('margin', 'crypto')"
    )
    both = (
        "SELECT COUNT(*) FROM (SELECT user_id FROM trading_accounts WHERE account_type = 'margin'"
        " INTERSECT SELECT user_id FROM trading_accounts WHERE account_type = 'crypto')"
    )
    with demo_engine.connect() as conn:
        assert conn.exec_driver_sql(either).scalar() > conn.exec_driver_sql(both).scalar() > 0
    question = "How many users have both a margin account and a crypto account?"
    model = _scripted(either, both)
    outcome = await demo_sql_agent(model, max_retries=2).answer(question, Caller(role=Role.ADMIN))
    assert outcome.draft == both
    assert "keeps rows with either value" in str(model.calls[1]["messages"][-1].content)
    for asked in (
        "How many users have a margin or a crypto account?",
        "List both the id and type.",
    ):
        assert doubts(either, read_cues(asked), demo_catalog, "sqlite") == [], asked


async def test_doubts_name_only_tables_the_caller_may_read(demo_sql_agent):
    """'demo_data.load' is an audit-log action; customers may not read the audit log, so their
    empty answer is not objected to by naming it (staff's is)."""
    absent = "SELECT COUNT(*) FROM payments WHERE provider_reference = 'demo_data.load'"
    staff = _scripted(absent, absent, absent)
    await demo_sql_agent(staff, max_retries=2).answer("Paid by demo?", Caller(role=Role.ADMIN))
    assert "audit_log.action does" in str(staff.calls[1]["messages"][-1].content)
    customer = _scripted(absent)
    caller = Caller(user_id=13, role=Role.CUSTOMER)
    outcome = await demo_sql_agent(customer, max_retries=2).answer("Paid by demo?", caller)
    assert len(customer.calls) == 1 and outcome.result.rows == [[0]]


async def test_one_figure_for_all_where_one_per_week_is_asked_is_asked_again(demo_sql_agent):
    """A week has no one format (`agents.per_group` groups months and years itself)."""
    where = "FROM payments WHERE direction = 'deposit'"
    weekly = f"SELECT strftime('%Y-%W', created_at) AS w, SUM(amount) {where} GROUP BY w"
    model = _scripted(f"SELECT SUM(amount) {where}", weekly)
    question = "What was the total deposited per week?"
    outcome = await demo_sql_agent(model, max_retries=2).answer(question, Caller(role=Role.ADMIN))
    assert outcome.draft == weekly and len(outcome.result.rows) > 1
    assert "each week" in str(model.calls[1]["messages"][-1].content)


@pytest.mark.parametrize(
    "sql",
    [  # grouped; partitioned; grouped inside; a list, not one figure or one top row
        "SELECT account_type, MAX(cash_balance) FROM trading_accounts GROUP BY account_type",
        "SELECT account_type, RANK() OVER (PARTITION BY account_type ORDER BY cash_balance) "
        "FROM trading_accounts",
        "SELECT AVG(n) FROM (SELECT COUNT(*) AS n FROM orders GROUP BY account_id)",
        "SELECT account_type, account_number FROM trading_accounts ORDER BY cash_balance",
    ],
)
def test_an_answer_that_keeps_the_groups_is_not_doubted(demo_catalog, sql):
    assert doubts(sql, Cues(per="account type"), demo_catalog, "sqlite") == []
    overall = "SELECT AVG(cash_balance) FROM trading_accounts"
    assert doubts(overall, Cues(), demo_catalog, "sqlite") == []
    unit = read_cues("What is the average cash per head of all accounts?")
    assert unit.per == "head" and doubts(overall, unit, demo_catalog, "sqlite") == []


def test_trading_days_counted_back_from_today_are_doubted(demo_catalog):
    cues = read_cues("What was AAPL's average close over its last five trading days?")
    by_date = "SELECT AVG(close) FROM market_prices WHERE price_date >= date('now', '-5 days')"
    (doubt,) = doubts(by_date, cues, demo_catalog, "sqlite")
    assert "the 5 latest dates" in doubt and "LIMIT 5" in doubt
    latest = (
        "SELECT AVG(close) FROM (SELECT close FROM market_prices WHERE symbol = 'AAPL' "
        "ORDER BY price_date DESC LIMIT 5)"
    )
    assert doubts(latest, cues, demo_catalog, "sqlite") == []
    calendar = read_cues("What was AAPL's average close over the last five days?")
    assert doubts(by_date, calendar, demo_catalog, "sqlite") == []


def test_a_window_back_from_today_the_query_never_dates_is_doubted(demo_catalog):
    cues = read_cues("What was the lowest AAPL close in the past 7 days?")
    (doubt,) = doubts("SELECT MIN(close) FROM market_prices", cues, demo_catalog, "sqlite")
    assert "past 7 days" in doubt
    dated = "SELECT MIN(close) FROM market_prices WHERE price_date >= date('now', '-7 days')"
    assert doubts(dated, cues, demo_catalog, "sqlite") == []
    ever = read_cues("What was the lowest AAPL close on the last trading day?")
    assert doubts("SELECT MIN(close) FROM market_prices", ever, demo_catalog, "sqlite") == []
