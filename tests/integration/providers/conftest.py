"""Fixtures of the provider tests: the scripted model server on 127.0.0.1, settings that point
every provider at it, and handles built by the real registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.llm.metrics import ProviderMetrics
from services.llm.privacy import PrivacyRefusal
from services.llm.providers import ProviderHandle, build_providers
from services.llm.scripted_server import Reply, ScriptedModelServer
from services.settings import Settings
from tests.integration.providers.helpers import (
    ATTEMPTS,
    CLOUD_MODEL,
    EMBEDDED_MODEL,
    FALLBACK,
    GENERAL_MODEL,
    KEY,
    SQL_MODEL,
    TIMEOUT_S,
    FakeClock,
    embedded_chat,
)


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
