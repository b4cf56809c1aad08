"""A value the query looks for where its column never holds it is put to the model again, and
the first answer stands when no later draft does better: on the demo database, with the
model's drafts scripted."""

import json

from agents.sql.join_keys import misjoined
from agents.sql.value_checks import foreign_values
from services.identity import Caller, Role
from services.llm.scripted import ScriptedChatModel


def _scripted(*drafts: str) -> ScriptedChatModel:
    replies = iter(json.dumps({"sql": d}) for d in drafts)
    return ScriptedChatModel(responder=lambda _m, _k: next(replies))


def test_a_value_its_column_never_holds_is_doubted_and_its_home_named(demo_catalog):
    sql = "SELECT COUNT(*) FROM trading_accounts AS a WHERE a.status = 'filled'"
    (doubt,) = foreign_values(sql, demo_catalog, "sqlite")
    assert "trading_accounts.status never holds 'filled'" in doubt
    assert "orders.status" in doubt


def test_a_value_its_column_holds_is_not_doubted(demo_catalog):
    held = (
        "SELECT COUNT(DISTINCT user_id) FROM trading_accounts WHERE account_type = 'crypto'",
        "SELECT COUNT(*) FROM orders WHERE status IN ('open', 'partially_filled')",
        "SELECT COUNT(*) FROM orders AS o WHERE o.symbol = 'ZZZZ'",  # symbols are not listed
        "SELECT COUNT(*) FROM (SELECT status AS s FROM orders) WHERE s = 'x'",  # not a stored one
    )
    for sql in held:
        assert foreign_values(sql, demo_catalog, "sqlite") == [], sql


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


async def test_the_first_answer_stands_when_no_draft_clears_the_doubt(demo_sql_agent):
    wrong = "SELECT COUNT(*) FROM trading_accounts WHERE status = 'filled'"
    right = "SELECT COUNT(*) FROM orders WHERE status = 'filled'"
    stuck = _scripted(wrong, wrong, wrong)
    outcome = await demo_sql_agent(stuck, max_retries=2).answer("Filled?", Caller(role=Role.ADMIN))
    assert len(stuck.calls) == 3 and outcome.draft == wrong and outcome.attempts == 1
    assert "it is a value of orders.status" in str(stuck.calls[1]["messages"][-1].content)
    mended = _scripted(wrong, right)
    outcome = await demo_sql_agent(mended, max_retries=2).answer("Filled?", Caller(role=Role.ADMIN))
    assert outcome.draft == right and outcome.result.rows[0][0] > 0


def test_a_join_on_a_key_that_points_elsewhere_is_doubted(demo_catalog):
    sql = (
        "SELECT p.quantity FROM positions AS p JOIN transactions AS t ON p.id = t.order_id "
        "WHERE p.symbol = 'NVDA'"
    )
    (doubt,) = misjoined(sql, demo_catalog, "sqlite")
    assert "transactions.order_id refers to orders.id, not to positions.id" in doubt
    itself = "SELECT 1 FROM transactions AS a JOIN transactions AS b ON a.id = b.order_id"
    (doubt,) = misjoined(itself, demo_catalog, "sqlite")
    assert "not to transactions.id" in doubt


def test_joins_on_the_declared_keys_are_not_doubted(demo_catalog):
    keyed = (
        "SELECT o.id FROM orders AS o JOIN transactions AS t ON t.order_id = o.id",
        "SELECT a.account_number FROM positions AS p JOIN trading_accounts AS a "
        "ON a.id = p.account_id",
        "SELECT p.symbol FROM positions AS p JOIN (SELECT * FROM market_prices) AS m "
        "ON m.symbol = p.symbol",  # no key on either side: not judged
        "SELECT 1 FROM orders AS a JOIN orders AS b ON a.user_id = b.user_id",  # a self-join
    )
    for sql in keyed:
        assert misjoined(sql, demo_catalog, "sqlite") == [], sql


async def test_a_misjoined_answer_is_asked_again_with_the_keys_named(demo_sql_agent):
    wrong = (
        "SELECT t.account_id, p.quantity FROM positions AS p "
        "JOIN transactions AS t ON p.id = t.order_id WHERE p.quantity > 100"
    )
    right = (
        "SELECT a.account_number, p.quantity FROM positions AS p "
        "JOIN trading_accounts AS a ON a.id = p.account_id WHERE p.quantity > 100"
    )
    model = _scripted(wrong, right)
    agent = demo_sql_agent(model, max_retries=2)
    outcome = await agent.answer(
        "Which accounts hold positions of more than 100 units?", Caller(role=Role.ADMIN)
    )
    assert outcome.draft == right
    retry = str(model.calls[1]["messages"][-1].content)
    assert "p.id = t.order_id pairs unrelated rows" in retry


async def test_a_follow_up_giving_the_earlier_rows_again_is_asked_again(demo_sql_agent):
    """The earlier query is run as it ran then, repaired (`orderz` is `orders`): the
    first draft's rows are its rows, so the follow-up changed nothing."""
    earlier = "SELECT COUNT(*) FROM orderz WHERE status = 'filled'"
    same = "SELECT COUNT(*) AS filled FROM orders WHERE status = 'filled'"
    changed = "SELECT COUNT(*) FROM orders WHERE status = 'filled' AND order_type = 'limit'"
    model = _scripted(same, changed)
    agent = demo_sql_agent(model, max_retries=2)
    outcome = await agent.answer("only limit ones", Caller(role=Role.ADMIN), earlier_sql=earlier)
    assert outcome.draft == changed and len(model.calls) == 2
    assert "the earlier query's result again" in str(model.calls[1]["messages"][-1].content)
    alone = await demo_sql_agent(_scripted(same), max_retries=2).answer(
        "how many filled orders?", Caller(role=Role.ADMIN)
    )
    assert alone.draft == same
