"""Timeouts, 5xx, malformed JSON and dropped connections; retries and the per-provider
circuit breaker."""

from __future__ import annotations

import time

import openai
import pytest

from services.llm.breaker import BreakerState
from services.llm.errors import ProviderUnavailable
from services.llm.providers import ModelTask
from services.llm.scripted_server import Reply
from tests.integration.providers.helpers import (
    ATTEMPTS,
    TIMEOUT_S,
    chats,
    collect,
)

# -- failures: timeouts, 5xx, malformed JSON, dropped connections ------------------------------

FAULTS = {
    "timeout": (Reply(delay_s=3 * TIMEOUT_S), "timed out"),
    "http 503": (Reply(status=503), "server error"),
    "malformed json": (Reply("not quite", malformed=True), "malformed response"),
    "dropped connection": (Reply(drop_connection=True), "connection failed"),
}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("name", ["ollama", "openrouter", "embedded"])
async def test_a_failing_call_is_retried_then_given_up(provider, server, metrics, name, fault):
    reply, reason = FAULTS[fault]
    chat = provider(name).for_request("public")
    server.play(reply)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable) as caught:
        await chat.ainvoke("hi")
    assert caught.value.provider == name
    assert reason in caught.value.reason and f"after {ATTEMPTS} attempts" in caught.value.reason
    assert caught.value.__cause__ is not None
    assert time.monotonic() - started < ATTEMPTS * TIMEOUT_S + 2  # every attempt was bounded
    sent = len(chats(server, name))
    # the embedded model's client retries once by itself (LocalModel's max_retries=1)
    assert sent == ATTEMPTS if name != "embedded" else sent >= ATTEMPTS
    counters = metrics.snapshot().providers[name]
    assert (counters.calls, counters.failures, counters.retries) == (1, 1, ATTEMPTS - 1)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("name", ["ollama", "openrouter", "embedded"])
async def test_a_failing_stream_is_retried_until_text_has_gone_out(provider, server, name, fault):
    reply, reason = FAULTS[fault]
    chat = provider(name).for_request("public")
    server.play(reply)
    received: list[str] = []
    with pytest.raises(ProviderUnavailable) as caught:
        async for chunk in chat.astream("hi"):
            received.append(chunk.content)
    assert reason in caught.value.reason
    if fault == "malformed json":  # the bad line comes after text: retrying would repeat it
        assert "mid-stream" in caught.value.reason and "".join(received) == "not quite"
        assert len(chats(server, name)) == 1
    else:
        assert "".join(received) == ""
        assert len(chats(server, name)) >= ATTEMPTS


@pytest.mark.parametrize("name", ["ollama", "openrouter", "embedded"])
async def test_retries_then_success(provider, server, metrics, name):
    handle = provider(name, llm_max_attempts=3)
    chat = handle.for_request("public")
    # the embedded model's own client would retry a 500 by itself: give it failures it does not
    first = Reply("x", malformed=True) if name == "embedded" else Reply(status=500)
    server.play(first, Reply("x", malformed=True), Reply("third time"))
    message = await chat.ainvoke("hi")
    assert message.content == "third time"
    assert len(chats(server, name)) == 3
    assert handle.breaker.state is BreakerState.CLOSED
    assert handle.breaker.snapshot().consecutive_failures == 0
    counters = metrics.snapshot().providers[name]
    assert (counters.successes, counters.retries, counters.failures) == (1, 2, 0)


async def test_streamed_call_retries_before_the_first_chunk(provider, server):
    chat = provider("ollama").for_request("public")
    server.play(Reply(status=503), Reply("after one retry"))
    assert (await collect(chat)).content == "after one retry"
    assert len(chats(server, "ollama")) == 2


async def test_the_requests_own_errors_are_not_retried_or_held_against_the_provider(
    provider, server, metrics
):
    handle = provider("openrouter")
    server.play(Reply(status=400))
    with pytest.raises(openai.BadRequestError):
        await handle.for_request("public").ainvoke("hi")
    assert len(chats(server, "openrouter")) == 1
    assert handle.breaker.snapshot().consecutive_failures == 0
    assert metrics.snapshot().providers["openrouter"].failures == 0


@pytest.mark.parametrize(("name", "status"), [("openrouter", 401), ("ollama", 404)])
async def test_rejected_credentials_or_model_give_up_at_once(provider, server, name, status):
    handle = provider(name)
    server.play(Reply(status=status))
    with pytest.raises(ProviderUnavailable, match="rejected"):
        await handle.for_request("public").ainvoke("hi")
    assert len(chats(server, name)) == 1
    assert handle.breaker.snapshot().consecutive_failures == 1


# -- the circuit breaker, per provider ----------------------------------------------------------


@pytest.mark.parametrize("name", ["ollama", "openrouter", "embedded"])
async def test_breaker_opens_refuses_fast_then_half_opens_and_closes(provider, server, clock, name):
    handle = provider(name, llm_max_attempts=1)
    chat = handle.for_request("public")
    server.play(Reply(status=503))
    for _ in range(3):
        with pytest.raises(ProviderUnavailable, match="server error"):
            await chat.ainvoke("hi")
    assert handle.breaker.state is BreakerState.OPEN
    sent = len(chats(server, name))

    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="circuit open") as caught:
        await chat.ainvoke("hi")
    assert time.monotonic() - started < 0.5
    assert caught.value.retry_after_s == 30
    # every task's model of the provider shares its breaker; streams are refused too
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        await handle.for_request("public", ModelTask.SQL).ainvoke("hi")
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        await collect(chat)
    assert len(chats(server, name)) == sent  # nothing reached the server

    clock.now += 29
    assert handle.breaker.state is BreakerState.OPEN
    clock.now += 1
    assert handle.breaker.state is BreakerState.HALF_OPEN
    server.play(Reply("back again"))
    assert (await chat.ainvoke("hi")).content == "back again"
    assert handle.breaker.state is BreakerState.CLOSED


async def test_a_failed_probe_opens_the_breaker_again(provider, server, clock, metrics):
    handle = provider("openrouter", llm_max_attempts=1)
    chat = handle.for_request("public")
    server.play(Reply(status=503))
    for _ in range(3):
        with pytest.raises(ProviderUnavailable):
            await chat.ainvoke("hi")
    clock.now += 30
    with pytest.raises(ProviderUnavailable, match="server error"):
        await chat.ainvoke("hi")  # the probe fails
    assert handle.breaker.state is BreakerState.OPEN
    with pytest.raises(ProviderUnavailable, match="circuit open"):
        await chat.ainvoke("hi")
    assert len(chats(server, "openrouter")) == 4
    counters = metrics.snapshot().providers["openrouter"]
    assert (counters.calls, counters.failures, counters.short_circuited) == (5, 5, 1)


async def test_breakers_are_per_provider(provider, server):
    cloud, local = provider("openrouter", llm_max_attempts=1), provider("ollama")
    server.play(Reply(status=503))
    for _ in range(3):
        with pytest.raises(ProviderUnavailable):
            await cloud.for_request("public").ainvoke("hi")
    assert cloud.breaker.state is BreakerState.OPEN
    server.play(Reply("local still answers"))
    assert (await local.for_request("public").ainvoke("hi")).content == "local still answers"
    assert local.breaker.state is BreakerState.CLOSED
