"""An answer that plainly misses the question is asked again, and the first one stands when no
later draft does better: on the demo database, with the model's drafts scripted."""

import json

from agents.query_doubts import doubts
from agents.question_cues import read_cues
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
    (doubt,) = doubts(sql, [], demo_catalog, "sqlite")
    assert "trading_accounts.status never holds 'filled'" in doubt
    assert "orders.status" in doubt


def test_what_the_question_allows_is_not_doubted(demo_catalog):
    cues = read_cues("How many customers hold a crypto account?", (), demo_catalog)
    reads = "SELECT COUNT(DISTINCT user_id) FROM trading_accounts WHERE account_type = 'crypto'"
    assert doubts(reads, cues.named, demo_catalog, "sqlite") == []
    unread = "SELECT COUNT(DISTINCT user_id) FROM positions"
    assert "does not read trading_accounts" in doubts(unread, cues.named, demo_catalog, "sqlite")[0]
    held = (
        "SELECT COUNT(*) FROM orders WHERE status IN ('open', 'partially_filled')",
        "SELECT COUNT(*) FROM orders AS o WHERE o.symbol = 'ZZZZ'",  # symbols are not listed
        "SELECT COUNT(*) FROM (SELECT status AS s FROM orders) WHERE s = 'x'",  # not a stored one
    )
    for sql in held:
        assert doubts(sql, [], demo_catalog, "sqlite") == [], sql
