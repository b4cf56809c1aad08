"""Which providers exist for a configuration, and whether each answers."""

from __future__ import annotations

from services.llm.health import aprovider_health, provider_health
from services.llm.privacy import ProviderKind
from services.llm.providers import build_providers
from tests.integration.providers.helpers import (
    CLOUD_MODEL,
    EMBEDDED_MODEL,
    GENERAL_MODEL,
    SQL_MODEL,
    embedded_chat,
)

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
