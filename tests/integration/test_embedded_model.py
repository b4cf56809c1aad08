"""The real embedded model answering on the demo database (no network)."""

import pytest
from sqlalchemy import text

from graphs.assistant import Assistant
from services.llm.local import LocalModel

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def real_assistant(demo_settings):
    local = LocalModel(demo_settings)
    assistant = Assistant(demo_settings, local.start(), model_description=local.description)
    yield assistant
    assistant.close()
    local.close()


def _scalar(engine, sql: str, **params) -> int:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


async def test_operator_question_matches_a_direct_count(real_assistant, demo_engine):
    answer = await real_assistant.ask("How many users are there?", real_assistant.caller(None))
    expected = _scalar(demo_engine, "SELECT COUNT(*) FROM users")
    assert answer.rows == [[expected]]
    assert str(expected) in answer.answer
    assert answer.sql.upper().startswith("SELECT")


async def test_customer_question_is_answered_from_their_rows(real_assistant, demo_engine):
    user_id = _scalar(
        demo_engine,
        "SELECT user_id FROM trading_accounts GROUP BY user_id HAVING COUNT(*) > 1 LIMIT 1",
    )
    answer = await real_assistant.ask(
        "How many trading accounts do I have?", real_assistant.caller(user_id)
    )
    expected = _scalar(
        demo_engine, "SELECT COUNT(*) FROM trading_accounts WHERE user_id = :u", u=user_id
    )
    assert answer.rows == [[expected]]
    assert f"user_id = {user_id}" in answer.sql
