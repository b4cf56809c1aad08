"""The provider layer end to end: the real clients (langchain-ollama over the ollama client,
langchain-openai over the openai SDK) against the scripted model server on 127.0.0.1."""

from __future__ import annotations

import time
from pathlib import Path

import openai
import pytest
from langchain_core.messages import AIMessageChunk
from pydantic import BaseModel, Field

from services.llm.breaker import BreakerState
from services.llm.errors import PrivacyViolation, ProviderUnavailable
from services.llm.health import aprovider_health, provider_health
from services.llm.local import LocalModel
from services.llm.metrics import ProviderMetrics
from services.llm.privacy import PrivacyRefusal, ProviderKind, Sensitivity
from services.llm.providers import ModelTask, ProviderHandle, build_providers
from services.llm.scripted_server import RecordedRequest, Reply, ScriptedModelServer
from services.llm.usage import UsageCallback
from services.settings import LLMProvider, Settings, SettingsError, load_settings

KEY = "sk-or-test-key"
SQL_MODEL, GENERAL_MODEL = "qwen2.5-coder:1.5b", "qwen2.5:3b"
CLOUD_MODEL, FALLBACK = "openai/gpt-4o-mini", "meta-llama/llama-3.3-70b-instruct"
EMBEDDED_MODEL = "qwen2.5-coder-1.5b"
TIMEOUT_S = 1.0
ATTEMPTS = 2
PROTOCOL = {"ollama": "ollama", "openrouter": "openai", "embedded": "openai"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def server():
    models = (SQL_MODEL, GENERAL_MODEL, CLOUD_MODEL, FALLBACK, EMBEDDED_MODEL)
    with ScriptedModelServer(models=models) as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_server(server: ScriptedModelServer):
    server.play(Reply("ok"))
    server.clear()
    server.healthy = True


@pytest.fixture
def settings(server: ScriptedModelServer, tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        var_dir=tmp_path,
        model_cache_dir=tmp_path / "cache",
        ollama_base_url=server.url,
        ollama_model_sql=SQL_MODEL,
        ollama_model_general=GENERAL_MODEL,
        openrouter_api_key=KEY,
        openrouter_base_url=f"{server.url}/v1",
        openrouter_model=CLOUD_MODEL,
        openrouter_fallback_models=FALLBACK,
        openrouter_app_url="https://assist.example",
        ollama_timeout_s=TIMEOUT_S,
        openrouter_timeout_s=TIMEOUT_S,
        llm_timeout_s=TIMEOUT_S,
        llm_max_attempts=ATTEMPTS,
        llm_backoff_s=0.01,
        llm_backoff_max_s=0.02,
        llm_breaker_failures=3,
        llm_breaker_cooldown_s=30,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def audits() -> list[PrivacyRefusal]:
    return []


@pytest.fixture
def metrics() -> ProviderMetrics:
    return ProviderMetrics()


def embedded_chat(settings: Settings, server: ScriptedModelServer):
    """The chat model `LocalModel.start()` returns, built by LocalModel itself (its
    OpenAI-compatible branch, which loads no weights) against the scripted server."""
    local = LocalModel(
        settings.model_copy(
            update={
                "llm_provider": LLMProvider.OPENAI_COMPATIBLE,
                "llm_base_url": f"{server.url}/v1",
                "llm_model_name": EMBEDDED_MODEL,
            }
        )
    )
    return local.start()


@pytest.fixture
def provider(settings, server, clock, audits, metrics):
    """`provider(name, **setting_overrides)` -> that provider's handle."""

    def build(name: str, **overrides) -> ProviderHandle:
        chosen = settings.model_copy(update=overrides)
        if name == "embedded":
            chosen = chosen.model_copy(update={"ollama_base_url": None})
            handles = build_providers(
                chosen,
                embedded=embedded_chat(chosen, server),
                audit=audits.append,
                metrics=metrics,
                clock=clock,
            )
        else:
            handles = build_providers(chosen, audit=audits.append, metrics=metrics, clock=clock)
        handle = handles["cloud" if name == "openrouter" else "local"]
        assert handle.name == name
        return handle

    return build


def chats(server: ScriptedModelServer, name: str) -> list[RecordedRequest]:
    return server.recorded(PROTOCOL[name])  # type: ignore[arg-type]


async def collect(chat, prompt: str = "hi", **kwargs) -> AIMessageChunk:
    whole = None
    async for chunk in chat.astream(prompt, **kwargs):
        whole = chunk if whole is None else whole + chunk
    assert whole is not None
    return whole


# -- chat and streaming through each real client ----------------------------------------------


async def test_ollama_chat_uses_the_model_of_each_task(provider, server):
    handle = provider("ollama")
    server.play(Reply("SELECT 1"), Reply("one user"))
    sql = await handle.for_request(Sensitivity.CONFIDENTIAL, ModelTask.SQL).ainvoke("count")
    answer = await handle.for_request(Sensitivity.CONFIDENTIAL).ainvoke("say it")
    assert (sql.content, answer.content) == ("SELECT 1", "one user")
    sent = chats(server, "ollama")
    assert [r.model for r in sent] == [SQL_MODEL, GENERAL_MODEL]
    assert sent[0].path == "/api/chat" and sent[0].last_user_text() == "count"
    assert handle.kind is ProviderKind.LOCAL and handle.model(ModelTask.SQL) == SQL_MODEL


async def test_ollama_non_streaming_request(provider, server):
    chat = provider("ollama").for_request("public")
    server.play(Reply("whole answer at once"))
    message = await chat.ainvoke("hi", stream=False)
    assert message.content == "whole answer at once"
    assert chats(server, "ollama")[0].stream is False
    assert message.usage_metadata["input_tokens"] == 11


async def test_ollama_streams_chunk_by_chunk(provider, server):
    chat = provider("ollama").for_request("public")
    server.play(Reply("rows are coming in pieces"))
    pieces = [chunk.content async for chunk in chat.astream("hi")]
    assert len([p for p in pieces if p]) == 5
    assert "".join(pieces) == "rows are coming in pieces"
    assert chats(server, "ollama")[0].stream is True


async def test_openrouter_sends_headers_preferences_and_fallbacks(provider, server):
    chat = provider("openrouter").for_request("public")
    server.play(Reply("from the cloud", cost_usd=0.0042))
    assert (await chat.ainvoke("hi")).content == "from the cloud"
    [sent] = chats(server, "openrouter")
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["http-referer"] == "https://assist.example"
    assert sent.headers["x-title"] == "Trading AI Assist"
    assert sent.body["model"] == CLOUD_MODEL
    assert sent.body["models"] == [CLOUD_MODEL, FALLBACK]
    assert sent.body["provider"]["data_collection"] == "deny"


async def test_openrouter_streams_server_sent_events(provider, server):
    chat = provider("openrouter").for_request(Sensitivity.INTERNAL)
    server.play(Reply("streamed from the cloud", cost_usd=0.001))
    pieces = [chunk.content async for chunk in chat.astream("hi")]
    assert "".join(pieces) == "streamed from the cloud"
    assert len([p for p in pieces if p]) == 4
    [sent] = chats(server, "openrouter")
    assert sent.stream and sent.body["stream_options"] == {"include_usage": True}


async def test_embedded_provider_wraps_the_local_model(provider, server):
    handle = provider("embedded")
    chat = handle.for_request(Sensitivity.CONFIDENTIAL, ModelTask.SQL)
    server.play(Reply("SELECT 2"), Reply("streamed locally"))
    assert (await chat.ainvoke("hi")).content == "SELECT 2"
    assert (await collect(chat)).content == "streamed locally"
    assert [r.model for r in chats(server, "embedded")] == [EMBEDDED_MODEL, EMBEDDED_MODEL]
    assert handle.kind is ProviderKind.LOCAL


def test_sync_calls_retry_too(provider, server):
    chat = provider("openrouter").for_request("public")
    server.play(Reply(status=502), Reply("second time lucky"))
    assert chat.invoke("hi").content == "second time lucky"
    server.play(Reply(status=503), Reply("streamed in sync"))
    assert "".join(c.content for c in chat.stream("hi")) == "streamed in sync"
    assert len(chats(server, "openrouter")) == 4


async def test_tools_are_bound_through_the_wrapper(provider, server):
    class LookupOrder(BaseModel):
        """Look up one order."""

        order_id: int = Field(description="The order's id.")

    chat = provider("openrouter").for_request("public").bind_tools([LookupOrder])
    await chat.ainvoke("where is order 7?")
    [sent] = chats(server, "openrouter")
    assert sent.body["tools"][0]["function"]["name"] == "LookupOrder"


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


# -- privacy below the router -------------------------------------------------------------------


async def test_confidential_request_never_gets_a_cloud_model(provider, server, audits, metrics):
    cloud = provider("openrouter")
    with pytest.raises(PrivacyViolation) as caught:
        cloud.for_request(Sensitivity.CONFIDENTIAL)
    assert caught.value.provider == "openrouter"
    [refusal] = audits
    assert (refusal.provider, refusal.model) == ("openrouter", CLOUD_MODEL)
    assert (refusal.sensitivity, refusal.where) == ("confidential", "handle")
    assert metrics.snapshot().providers["openrouter"].privacy_refusals == 1
    assert server.recorded() == []
    # a local provider takes it
    local = provider("ollama").for_request(Sensitivity.CONFIDENTIAL)
    assert (await local.ainvoke("my balance?")).content == "ok"


@pytest.mark.parametrize("label", ["secret", "", None])
def test_unknown_or_missing_labels_fail_closed(provider, audits, label):
    with pytest.raises(PrivacyViolation):
        provider("openrouter").for_request(label)  # type: ignore[arg-type]
    assert len(audits) == 1


@pytest.mark.parametrize("streamed", [False, True])
async def test_a_cloud_model_refuses_a_confidential_run_at_call_time(
    provider, server, audits, streamed
):
    chat = provider("openrouter").for_request(Sensitivity.PUBLIC)  # handed out for a public one
    config = {"metadata": {"sensitivity": "confidential"}}  # then misused by a buggy router
    with pytest.raises(PrivacyViolation):
        if streamed:
            await collect(chat, config=config)
        else:
            await chat.ainvoke("my balance?", config=config)
    assert [(a.sensitivity, a.where) for a in audits] == [("confidential", "call")]
    assert server.recorded() == []
    # the same model serves a run labelled public
    assert (await chat.ainvoke("hi", config={"metadata": {"sensitivity": "public"}})).content


def test_a_failing_audit_hook_does_not_let_the_request_through(settings):
    def broken_hook(_refusal: PrivacyRefusal) -> None:
        raise RuntimeError("audit database down")

    cloud = build_providers(settings, audit=broken_hook)["cloud"]
    with pytest.raises(PrivacyViolation):
        cloud.for_request(Sensitivity.CONFIDENTIAL)


# -- which providers exist --------------------------------------------------------------------


def test_providers_follow_the_configuration(settings, server):
    bare = settings.model_copy(update={"ollama_base_url": None, "openrouter_api_key": None})
    assert build_providers(bare) == {}
    embedded = build_providers(bare, embedded=embedded_chat(settings, server))
    assert list(embedded) == ["local"] and embedded["local"].name == "embedded"
    assert embedded["local"].model() == EMBEDDED_MODEL
    both = build_providers(settings)
    assert {role: h.name for role, h in both.items()} == {"local": "ollama", "cloud": "openrouter"}
    assert both["cloud"].kind is ProviderKind.CLOUD


# -- health checks ------------------------------------------------------------------------------


def test_health_of_every_configured_provider(settings, server):
    results = provider_health(settings, embedded_url=f"{server.url}/v1")
    assert {(r.provider, r.model) for r in results} == {
        ("embedded", EMBEDDED_MODEL),
        ("ollama", SQL_MODEL),
        ("ollama", GENERAL_MODEL),
        ("openrouter", CLOUD_MODEL),
    }
    assert all(r.ok and r.detail == "ok" for r in results), results
    assert all(r.latency_ms is not None and r.latency_ms >= 0 for r in results)


async def test_async_health_matches(settings, server):
    results = await aprovider_health(settings, embedded_url=f"{server.url}/v1")
    assert len(results) == 4 and all(r.ok for r in results)


def test_health_reports_an_unhealthy_server(settings, server):
    server.healthy = False
    results = provider_health(settings, embedded_url=f"{server.url}/v1")
    assert len(results) == 4
    assert all(not r.ok and "HTTP 503" in r.detail for r in results)


def test_health_reports_a_missing_model_and_an_unreachable_server(settings, server):
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    broken = settings.model_copy(
        update={
            "ollama_model_general": "llama3:70b",
            "openrouter_base_url": f"http://127.0.0.1:{closed}/v1",
        }
    )
    results = {(r.provider, r.model): r for r in provider_health(broken, timeout_s=2)}
    assert results[("ollama", SQL_MODEL)].ok
    missing = results[("ollama", "llama3:70b")]
    assert not missing.ok and "not available" in missing.detail
    unreachable = results[("openrouter", CLOUD_MODEL)]
    assert not unreachable.ok and "ConnectError" in unreachable.detail
    embedded = results[("embedded", EMBEDDED_MODEL)]  # not running, no weights in tmp cache
    assert not embedded.ok and "model prepare" in embedded.detail


# -- the settings this layer reads ------------------------------------------------------------


def test_provider_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("OPENROUTER_FALLBACK_MODELS", "anthropic/claude-3.5-haiku, mistralai/x")
    monkeypatch.setenv("OLLAMA_MODEL_SQL", "sqlcoder:7b")
    monkeypatch.setenv("LLM_BREAKER_COOLDOWN_S", "12.5")
    loaded = load_settings(_env_file=None)
    assert loaded.openrouter_fallback_models == ["anthropic/claude-3.5-haiku", "mistralai/x"]
    assert loaded.ollama_model_sql == "sqlcoder:7b"
    assert loaded.llm_breaker_cooldown_s == 12.5
    assert loaded.openrouter_data_collection == "deny"  # the default keeps prompts unstored


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OLLAMA_MODEL_SQL", "no spaces please"),
        ("OPENROUTER_FALLBACK_MODELS", "good/model, bad model"),
        ("OPENROUTER_DATA_COLLECTION", "sometimes"),
        ("LLM_MAX_ATTEMPTS", "0"),
        ("LLM_BREAKER_FAILURES", "many"),
        ("OPENROUTER_TIMEOUT_S", "-1"),
    ],
)
def test_invalid_provider_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings(_env_file=None)
