"""Token and cost accounting per request."""

from __future__ import annotations

import pytest

from services.llm.privacy import Sensitivity
from services.llm.providers import ModelTask
from services.llm.scripted_server import Reply
from services.llm.usage import UsageCallback
from tests.integration.providers.helpers import (
    FALLBACK,
    collect,
)

# -- usage and cost -----------------------------------------------------------------------------


async def test_openrouter_cost_and_the_model_that_answered_are_recorded(provider, server, metrics):
    chat = provider("openrouter").for_request("public")
    usage = UsageCallback()
    server.play(
        Reply(
            "fallback answered",
            prompt_tokens=120,
            completion_tokens=30,
            cost_usd=0.0042,
            model=FALLBACK,
        )
    )
    await chat.ainvoke("hi", config={"callbacks": [usage]})
    [recorded] = usage.usages
    assert (recorded.provider, recorded.model) == ("openrouter", FALLBACK)
    assert (recorded.prompt_tokens, recorded.completion_tokens) == (120, 30)
    assert recorded.cost_usd == pytest.approx(0.0042)
    counters = metrics.snapshot().providers["openrouter"]
    assert (counters.prompt_tokens, counters.completion_tokens) == (120, 30)
    assert counters.cost_usd == pytest.approx(0.0042)


async def test_openrouter_cost_is_kept_when_streaming(provider, server, metrics):
    chat = provider("openrouter").for_request("public")
    usage = UsageCallback()
    server.play(Reply("streamed and priced", prompt_tokens=40, completion_tokens=8, cost_usd=7e-4))
    await collect(chat, config={"callbacks": [usage]})
    [recorded] = usage.usages
    assert (recorded.prompt_tokens, recorded.completion_tokens) == (40, 8)
    assert recorded.cost_usd == pytest.approx(0.0007)
    assert metrics.snapshot().providers["openrouter"].cost_usd == pytest.approx(0.0007)


async def test_cloud_answer_without_a_cost_is_counted_as_unpriced(provider, server, metrics):
    usage = UsageCallback()
    await provider("openrouter").for_request("public").ainvoke("hi", config={"callbacks": [usage]})
    assert usage.usages[0].cost_usd is None and usage.total().cost_usd is None
    assert metrics.snapshot().providers["openrouter"].unpriced_calls == 1


@pytest.mark.parametrize("name", ["ollama", "embedded"])
@pytest.mark.parametrize("streamed", [False, True])
async def test_local_providers_cost_nothing(provider, server, metrics, name, streamed):
    chat = provider(name).for_request(Sensitivity.CONFIDENTIAL)
    usage = UsageCallback()
    # even a server that reports a cost is not charging us: the model runs on our machines
    server.play(Reply("local", prompt_tokens=50, completion_tokens=7, cost_usd=1.5))
    config = {"callbacks": [usage]}
    if streamed:
        await collect(chat, config=config)
    else:
        await chat.ainvoke("hi", config=config)
    [recorded] = usage.usages
    assert recorded.provider == name and recorded.cost_usd == 0.0
    assert (recorded.prompt_tokens, recorded.completion_tokens) == (50, 7)
    counters = metrics.snapshot().providers[name]
    assert counters.cost_usd == 0.0 and counters.prompt_tokens == 50


async def test_usage_of_a_whole_run_adds_up(provider, server):
    usage = UsageCallback()
    config = {"callbacks": [usage]}
    server.play(
        Reply("sql", prompt_tokens=100, completion_tokens=10),
        Reply("answer", prompt_tokens=30, completion_tokens=20, cost_usd=0.25),
    )
    await provider("ollama").for_request("public", ModelTask.SQL).ainvoke("q", config=config)
    await provider("openrouter").for_request("public").ainvoke("q", config=config)
    total = usage.total()
    assert (total.prompt_tokens, total.completion_tokens) == (130, 30)
    assert total.cost_usd == pytest.approx(0.25)
    assert total.provider == "ollama,openrouter"
