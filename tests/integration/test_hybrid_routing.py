"""The whole assistant on both providers through their real clients: Ollama as the local model
and OpenRouter as the cloud, both played by the scripted server on 127.0.0.1. Routing by
policy, fallbacks in both directions, the privacy invariant with a routing bug injected on
purpose, and usage and cost in the audit log."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from agents.routing.model_selector import ModelSelector
from graphs.assistant import Assistant
from services.errors import AssistantError
from services.llm.scripted import ScriptedChatModel, replies
from services.llm.scripted_server import RecordedRequest, Reply, ScriptedModelServer
from tests.integration.providers.helpers import CLOUD_MODEL, FALLBACK, GENERAL_MODEL, SQL_MODEL

REASONING = (
    "In general, is dollar-cost averaging better than investing a lump sum when markets are "
    "volatile, and why?"
)
PRICE = "What was the highest close price of any instrument in the market data?"
PRICE_SQL = "SELECT MAX(close) AS highest_close FROM market_prices"
BALANCE = "What is my cash balance?"


@pytest.fixture(scope="module")
def server():
    with ScriptedModelServer(models=(SQL_MODEL, GENERAL_MODEL, CLOUD_MODEL, FALLBACK)) as running:
        yield running


def script(*, local_up: bool = True, cloud_up: bool = True):
    """Answers as the named side; a side that is down answers 503 to everything."""

    def play(request: RecordedRequest) -> Reply:
        side = "local" if request.protocol == "ollama" else "cloud"
        if not (local_up if side == "local" else cloud_up):
            return Reply(status=503)
        if request.body.get("format") or request.body.get("response_format"):
            return Reply(json.dumps({"sql": PRICE_SQL}))
        return Reply(f"answered by the {side} model", cost_usd=0.0021 if side == "cloud" else None)

    return play


@pytest.fixture
async def hybrid(demo_settings, server, tmp_path):
    made: list[Assistant] = []

    def build(**script_args) -> Assistant:
        server.script = script(**script_args)
        server.clear()
        settings = demo_settings.model_copy(
            update={
                "ollama_base_url": server.url,
                "ollama_model_sql": SQL_MODEL,
                "ollama_model_general": GENERAL_MODEL,
                "openrouter_api_key": "sk-or-test",
                "openrouter_base_url": f"{server.url}/v1",
                "openrouter_model": CLOUD_MODEL,
                "openrouter_fallback_models": [FALLBACK],
                "llm_max_attempts": 1,
                "llm_timeout_s": 5,
                "checkpoint_url": f"sqlite:///{tmp_path / 'threads.db'}",
            }
        )
        # Ollama is configured, so the embedded model is not used: it must never be called
        assistant = Assistant(settings, ScriptedChatModel(responder=replies("embedded!")))
        made.append(assistant)
        return assistant

    yield build
    for assistant in made:
        await assistant.aclose()


def _sides(server: ScriptedModelServer) -> list[str]:
    return ["local" if r.protocol == "ollama" else "cloud" for r in server.recorded()]


def _last_audit(engine) -> tuple[str, str, dict]:
    with engine.connect() as conn:
        action, outcome, detail = conn.execute(
            text("SELECT action, outcome, detail FROM audit_log ORDER BY id DESC LIMIT 1")
        ).one()
    return action, outcome, json.loads(detail)


async def test_public_reasoning_goes_to_the_cloud_with_its_cost(hybrid, server, demo_engine):
    assistant = hybrid()
    answer = await assistant.ask(REASONING, assistant.caller(1))
    assert answer.routing["query_type"] == "reasoning"
    assert answer.routing["sensitivity"] != "confidential"
    assert answer.routing["provider"] == "cloud"
    assert answer.answer == "answered by the cloud model"
    assert _sides(server) == ["cloud"]
    headers = server.recorded()[0].headers
    assert headers["authorization"] == "Bearer sk-or-test"
    assert answer.usage.provider == "openrouter" and answer.usage.cost_usd == pytest.approx(0.0021)
    _, outcome, detail = _last_audit(demo_engine)
    assert outcome == "ok" and detail["usage"]["cost_usd"] == pytest.approx(0.0021)
    assert detail["usage"]["prompt_tokens"] > 0
    # the turn's model call, announced with the audit row it belongs to
    with demo_engine.connect() as conn:
        [(kind, data)] = conn.execute(
            text("SELECT type, data FROM outbox_events WHERE subject = :answer"),
            {"answer": f"answers/{answer.answer_id}"},
        ).all()
    assert kind == "com.tradingassist.model.usage.v1"
    assert json.loads(data) == {
        "provider": "openrouter",
        "model": CLOUD_MODEL,
        "prompt_tokens": answer.usage.prompt_tokens,
        "completion_tokens": answer.usage.completion_tokens,
        "cost_usd": pytest.approx(0.0021),
        "user_id": 1,
    }


async def test_cloud_down_falls_back_to_local(hybrid, server):
    assistant = hybrid(cloud_up=False)
    answer = await assistant.ask(REASONING, assistant.caller(1))
    assert answer.answer == "answered by the local model"
    assert _sides(server) == ["cloud", "local"]
    assert answer.usage.cost_usd == 0
    # only the call that answered is counted: the failed cloud attempt reported nothing
    with assistant.engine.connect() as conn:
        usages = [
            json.loads(data)
            for (data,) in conn.execute(
                text("SELECT data FROM outbox_events WHERE subject = :answer"),
                {"answer": f"answers/{answer.answer_id}"},
            )
        ]
    assert [(u["provider"], u["cost_usd"]) for u in usages] == [("ollama", 0.0)]


async def test_local_down_sends_a_public_request_to_the_cloud(hybrid, server):
    assistant = hybrid(local_up=False)
    answer = await assistant.ask(PRICE, assistant.caller(1))
    assert answer.routing["sensitivity"] == "public" and answer.routing["provider"] == "local"
    assert answer.sql.startswith(PRICE_SQL)
    assert _sides(server)[:2] == ["local", "cloud"]


async def test_local_down_never_sends_a_confidential_request_to_the_cloud(
    hybrid, server, demo_engine
):
    assistant = hybrid(local_up=False)
    with pytest.raises(AssistantError) as caught:
        await assistant.ask(BALANCE, assistant.caller(1))
    assert caught.value.code == "model_unavailable"
    assert "local model is unavailable" in caught.value.message
    assert set(_sides(server)) == {"local"}  # tried, failed, and nothing went to the cloud
    _, outcome, detail = _last_audit(demo_engine)
    assert outcome == "error" and detail["code"] == "model_unavailable"


async def test_a_routing_bug_cannot_send_confidential_data_to_the_cloud(
    hybrid, server, demo_engine, monkeypatch
):
    """Break the router and the model selector on purpose: both send everything to the cloud.
    The provider layer still refuses, audits the refusal, and the cloud sees nothing."""
    assistant = hybrid()
    route = assistant.router.route

    def buggy_route(question, caller):
        return route(question, caller).model_copy(update={"provider": "cloud"})

    monkeypatch.setattr(assistant.router, "route", buggy_route)
    monkeypatch.setattr(ModelSelector, "plan", lambda self, *_labels: (["cloud"], []))
    with pytest.raises(AssistantError) as caught:
        await assistant.ask(BALANCE, assistant.caller(1))
    assert caught.value.code == "privacy_refused"
    assert server.recorded() == []
    with demo_engine.connect() as conn:
        refusals = conn.execute(
            text(
                "SELECT actor_user_id, detail FROM audit_log WHERE action = 'llm.privacy_refusal' "
                "ORDER BY id DESC LIMIT 1"
            )
        ).one()
    assert refusals.actor_user_id == 1
    assert json.loads(refusals.detail)["sensitivity"] == "confidential"


async def test_a_confidential_follow_up_to_a_cloud_question_stays_local(hybrid, server):
    assistant = hybrid()
    caller = assistant.caller(1)
    first = await assistant.ask(REASONING, caller, "advice")
    assert first.routing["provider"] == "cloud"
    server.clear()
    # a follow-up (the rules cannot read it alone) carrying personal data
    follow = await assistant.ask("and for me? my email is jane.doe@example.com", caller, "advice")
    assert follow.routing["sensitivity"] == "confidential"
    assert follow.routing["provider"] == "local" and follow.route == "reasoning"
    assert follow.answer == "answered by the local model"
    assert _sides(server) == ["local"]
