"""The chat graph end to end on the real demo database, with a scripted model."""

import json

import pytest
from sqlalchemy import text

from services.errors import AssistantError
from services.identity import Caller, Role
from services.llm.scripted import replies
from tests.conftest import scripted_sql

OPEN_ORDERS = "How many open orders do I have?"
OPEN_SQL = "SELECT COUNT(*) AS open_orders FROM orders WHERE status IN ('open', 'partially_filled')"


def _customer_with_open_orders(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT user_id FROM orders WHERE status = 'open' GROUP BY user_id "
                "ORDER BY COUNT(*) DESC LIMIT 1"
            )
        ).scalar_one()


def _open_orders(engine, user_id: int) -> int:
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT COUNT(*) FROM orders WHERE user_id = :u AND status IN "
                "('open', 'partially_filled')"
            ),
            {"u": user_id},
        ).scalar_one()


async def test_customer_gets_their_own_count(make_assistant, demo_engine):
    assistant, model = make_assistant(scripted_sql({OPEN_ORDERS: OPEN_SQL}))
    user_id = _customer_with_open_orders(demo_engine)
    caller = assistant.caller(user_id)
    assert caller.role is Role.CUSTOMER

    answer = await assistant.ask(OPEN_ORDERS, caller)

    expected = _open_orders(demo_engine, user_id)
    assert answer.rows == [[expected]]
    assert f"user_id = {user_id}" in answer.sql
    assert answer.answer == f"Open orders: {expected}."  # one value: no model call for it
    assert len(model.calls) == 1
    assert answer.route == "sql" and answer.attempts == 1
    system_prompt = model.calls[0]["messages"][0].content
    assert "CREATE TABLE orders" in system_prompt
    assert "'partially_filled'" in system_prompt  # categorical values are listed
    assert "audit_log" not in system_prompt  # customers are not shown what they cannot query
    assert f"customer with user_id {user_id}" in system_prompt


async def test_operator_sees_every_row(make_assistant, demo_engine):
    assistant, _ = make_assistant(scripted_sql({"How many users?": "SELECT COUNT(*) FROM users"}))
    answer = await assistant.ask("How many users?", assistant.caller(None))
    with demo_engine.connect() as conn:
        assert answer.rows == [[conn.execute(text("SELECT COUNT(*) FROM users")).scalar_one()]]


async def test_garbage_then_good_sql_is_retried(make_assistant):
    good = json.dumps({"sql": "SELECT COUNT(*) FROM positions"})
    assistant, model = make_assistant(replies("I think you should", good, "There are 5."))
    answer = await assistant.ask("How many positions?", assistant.caller(None))
    assert answer.attempts == 2
    retry_prompt = model.calls[1]["messages"][-1].content
    assert "not JSON with an sql field" in retry_prompt


async def test_guard_objection_is_fed_back(make_assistant):
    bad = json.dumps({"sql": "DELETE FROM orders"})
    good = json.dumps({"sql": "SELECT COUNT(*) FROM orders"})
    assistant, model = make_assistant(replies(bad, good, "Done."))
    answer = await assistant.ask("How many orders are there?", assistant.caller(None))
    assert answer.attempts == 2
    assert "only SELECT queries may run, not DELETE" in model.calls[1]["messages"][-1].content


async def test_database_error_is_fed_back(make_assistant):
    bad = json.dumps({"sql": "SELECT abs(-9223372036854775808) FROM orders"})
    good = json.dumps({"sql": "SELECT COUNT(*) FROM orders"})
    assistant, model = make_assistant(replies(bad, good, "Done."))
    answer = await assistant.ask("How many orders are there?", assistant.caller(None))
    assert answer.attempts == 2
    assert "the database said: integer overflow" in model.calls[1]["messages"][-1].content


async def test_model_that_never_writes_sql_gets_a_clear_error(make_assistant, demo_engine):
    assistant, model = make_assistant(replies("no idea, sorry"), sql_max_retries=2)
    with pytest.raises(AssistantError) as info:
        await assistant.ask("How many orders?", assistant.caller(None))
    assert info.value.code == "model_no_sql"
    assert len(model.calls) == 3  # first try and two retries
    with demo_engine.connect() as conn:
        action, outcome = conn.execute(
            text("SELECT action, outcome FROM audit_log ORDER BY id DESC LIMIT 1")
        ).one()
    assert (action, outcome) == ("chat.answer", "rejected")


async def test_rejected_sql_exhausts_retries(make_assistant):
    assistant, _ = make_assistant(replies(json.dumps({"sql": "SELECT * FROM audit_log"})))
    customer = Caller(user_id=20, role=Role.CUSTOMER)
    with pytest.raises(AssistantError) as info:
        await assistant.ask("Show the audit log", customer)
    assert info.value.code == "sql_rejected"
    assert "audit_log is not available to the customer role" in info.value.message


TABLE = (
    "SELECT role, status, COUNT(*) AS users FROM users GROUP BY role, status ORDER BY role, status"
)


async def test_a_sentence_with_a_number_not_in_the_result_falls_back_to_the_summary(
    make_assistant, demo_engine
):
    query = TABLE
    assistant, model = make_assistant(replies(json.dumps({"sql": query}), "About 1,000 users."))
    answer = await assistant.ask("How many users per role and status?", assistant.caller(None))
    with demo_engine.connect() as conn:
        roles = conn.execute(text(query)).all()
    assert len(model.calls) == 2  # the SQL, then the sentence that was not trusted
    assert answer.answer == f"I found {len(roles)} matching rows."


async def test_a_sentence_stating_the_result_is_kept(make_assistant, demo_engine):
    with demo_engine.connect() as conn:
        groups = conn.execute(text(TABLE)).all()
    sentence = ", ".join(f"{count:,} {status} {role}s" for role, status, count in groups) + "."
    assistant, _ = make_assistant(replies(json.dumps({"sql": TABLE}), sentence))
    answer = await assistant.ask("How many users per role and status?", assistant.caller(None))
    assert answer.answer == sentence


async def test_a_labelled_list_is_stated_without_a_model_call(make_assistant, demo_engine):
    query = "SELECT role, COUNT(*) AS users FROM users GROUP BY role ORDER BY role"
    assistant, model = make_assistant(replies(json.dumps({"sql": query}), "unused"))
    answer = await assistant.ask("How many users per role?", assistant.caller(None))
    with demo_engine.connect() as conn:
        roles = conn.execute(text(query)).all()
    listed = "; ".join(f"{role} {count:,}" for role, count in roles)
    assert len(model.calls) == 1 and answer.answer == f"Role and users: {listed}."


async def test_one_row_is_stated_without_a_model_call(make_assistant, demo_engine):
    query = "SELECT COUNT(*) AS users, MAX(id) AS last_id FROM users"
    assistant, model = make_assistant(replies(json.dumps({"sql": query}), "unused"))
    answer = await assistant.ask("How many users, and the last id?", assistant.caller(None))
    with demo_engine.connect() as conn:
        count, last = conn.execute(text(query)).one()
    assert len(model.calls) == 1
    assert answer.answer == f"Users: {count:,}; last id: {last:,}."


async def test_small_talk_needs_no_sql(make_assistant):
    assistant, model = make_assistant(replies("unused"))
    answer = await assistant.ask("hello!", assistant.caller(None))
    assert answer.route == "general" and answer.sql is None and model.calls == []
    assert "open orders" in answer.answer


@pytest.mark.parametrize(
    ("question", "code"),
    [("", "empty_question"), ("   ", "empty_question"), ("x" * 5000, "question_too_long")],
)
async def test_bad_questions_are_refused_before_the_model(make_assistant, question, code):
    assistant, model = make_assistant(replies("unused"))
    with pytest.raises(AssistantError) as info:
        await assistant.ask(question, assistant.caller(None))
    assert info.value.code == code and model.calls == []


def test_unknown_user_is_refused(make_assistant):
    assistant, _ = make_assistant(replies("unused"))
    with pytest.raises(AssistantError) as info:
        assistant.caller(999_999)
    assert info.value.code == "unknown_user" and "999999" in info.value.message


async def test_missing_database_is_reported(make_assistant, tmp_path):
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "empty")
    assistant, _ = make_assistant(
        replies("unused"),
        database_url=settings.database_url,
        read_replica_url=settings.read_replica_url,
    )
    with pytest.raises(AssistantError) as info:
        await assistant.ask("How many users?", Caller(role=Role.ADMIN))
    assert info.value.code == "database_missing"
    assert "trading-assist demo-data" in info.value.message


async def test_warm_up_processes_each_role_schema_and_the_tool_list_once(make_assistant):
    assistant, model = make_assistant(replies("ok"))
    primed = []

    async def primer(messages, slot):
        primed.append((slot, messages))

    assistant.primer = primer
    await assistant.warm_up()
    assert [slot for slot, _ in primed] == [0, 1, 2]
    staff, customer, actions = (m for _, m in primed)
    assert len(staff) == 1 and "audit_log" in staff[0].content  # admins may query it
    assert "audit_log" not in customer[0].content
    assert model.calls == []  # the primer, not the chat model, was used

    # the third is the very prefix a customer's request to act starts with
    assistant.primer = None
    model.responder = replies('{"clarify": "Which account?"}')
    await assistant.ask("Buy 2 AAPL", assistant.caller(20))
    sent = next(c["messages"] for c in model.calls if "place_order" in str(c["messages"][0]))
    assert [m.content for m in actions] == [sent[0].content]
    assert "refund_payment" not in actions[0].content  # a staff tool is not a customer's


async def test_database_removed_after_start_is_reported(make_assistant, tmp_path):
    from cli.setup import build_demo_data
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "gone")
    build_demo_data(settings, users=20)
    assistant, _ = make_assistant(
        scripted_sql({"How many users?": "SELECT COUNT(*) FROM users"}),
        database_url=settings.database_url,
        read_replica_url=settings.read_replica_url,
    )
    assert (await assistant.ask("How many users?", Caller(role=Role.ADMIN))).rows == [[20]]
    assistant.close()
    (tmp_path / "gone" / "trading_assist.db").unlink()
    with pytest.raises(AssistantError) as info:
        await assistant.ask("How many users?", Caller(role=Role.ADMIN))
    assert info.value.code == "database_missing"
