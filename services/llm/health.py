"""Does each configured provider answer? One probe per provider, cheap enough for `doctor`.

- Ollama: `GET /api/tags`; ok when it answers and lists the model (one entry per task model);
- OpenRouter: `GET {base}/models` with the key; ok when the first-choice model is listed;
- an OpenAI-compatible local server: `GET {base}/models`;
- the embedded model: `GET /health` of its in-process server when it runs (`embedded_url`),
  otherwise whether its weights are prepared (nothing is loaded to find out).

`provider_health` is synchronous (for the CLI); `aprovider_health` runs the probes concurrently
(for an async health endpoint). Neither raises: a failure is an entry with `ok=False`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from pydantic import BaseModel

from services.llm.model_files import MODELS, model_path
from services.llm.openrouter import openrouter_headers
from services.settings import LLMProvider, Settings


class ProviderHealth(BaseModel):
    provider: str
    model: str
    ok: bool
    detail: str
    latency_ms: float | None = None


Judge = Callable[[httpx.Response, float], list[ProviderHealth]]


@dataclass(frozen=True)
class _Probe:
    provider: str
    models: tuple[str, ...]
    url: str
    judge: Judge
    headers: dict[str, str] = field(default_factory=dict)

    def failed(self, detail: str, latency_ms: float | None) -> list[ProviderHealth]:
        return [
            ProviderHealth(
                provider=self.provider, model=m, ok=False, detail=detail, latency_ms=latency_ms
            )
            for m in self.models
        ]

    def verdict(self, response: httpx.Response, latency_ms: float) -> list[ProviderHealth]:
        if response.status_code != 200:
            return self.failed(f"HTTP {response.status_code} from {self.url}", latency_ms)
        try:
            return self.judge(response, latency_ms)
        except (ValueError, KeyError, TypeError) as exc:
            return self.failed(f"unexpected answer from {self.url}: {exc}", latency_ms)


def _listed(provider: str, models: tuple[str, ...], names: set[str], latency_ms: float):
    return [
        ProviderHealth(
            provider=provider,
            model=m,
            ok=m in names,
            detail="ok" if m in names else f"model {m} is not available there",
            latency_ms=latency_ms,
        )
        for m in models
    ]


def _ollama_probe(settings: Settings) -> _Probe:
    models = tuple(dict.fromkeys((settings.ollama_model_sql, settings.ollama_model_general)))

    def judge(response: httpx.Response, latency_ms: float) -> list[ProviderHealth]:
        names: set[str] = set()
        for entry in response.json()["models"]:
            names.update(n for n in (entry.get("name"), entry.get("model")) if n)
        return _listed("ollama", models, names, latency_ms)

    base = str(settings.ollama_base_url).rstrip("/")
    return _Probe("ollama", models, f"{base}/api/tags", judge)


def _openai_models_probe(
    provider: str, base_url: str, model: str, headers: dict[str, str], *, must_list: bool
) -> _Probe:
    def judge(response: httpx.Response, latency_ms: float) -> list[ProviderHealth]:
        names = {str(entry["id"]) for entry in response.json()["data"]}
        if must_list:
            return _listed(provider, (model,), names, latency_ms)
        return [
            ProviderHealth(
                provider=provider, model=model, ok=True, detail="ok", latency_ms=latency_ms
            )
        ]

    return _Probe(provider, (model,), f"{base_url.rstrip('/')}/models", judge, headers)


def _embedded_probe(settings: Settings, root_url: str) -> _Probe:
    model = settings.embedded_model.value

    def judge(_response: httpx.Response, latency_ms: float) -> list[ProviderHealth]:
        return [
            ProviderHealth(
                provider="embedded", model=model, ok=True, detail="ok", latency_ms=latency_ms
            )
        ]

    return _Probe("embedded", (model,), f"{root_url.rstrip('/')}/health", judge)


def _embedded_weights(settings: Settings) -> ProviderHealth:
    spec = MODELS[settings.embedded_model]
    path = model_path(spec, settings.model_cache_dir)
    ready = path.exists()
    detail = (
        "not running in this process; weights prepared"
        if ready
        else "weights not prepared: run `trading-assist model prepare`"
    )
    return ProviderHealth(provider="embedded", model=spec.name.value, ok=ready, detail=detail)


def _plan(
    settings: Settings, embedded_url: str | None
) -> tuple[list[_Probe], list[ProviderHealth]]:
    probes: list[_Probe] = []
    static: list[ProviderHealth] = []
    if settings.llm_provider is LLMProvider.OPENAI_COMPATIBLE:
        probes.append(
            _openai_models_probe(
                "openai-compatible",
                str(settings.llm_base_url),
                settings.llm_model_name,
                {},
                must_list=False,
            )
        )
    elif embedded_url:
        probes.append(_embedded_probe(settings, embedded_url.removesuffix("/v1")))
    else:
        static.append(_embedded_weights(settings))
    if settings.ollama_base_url:
        probes.append(_ollama_probe(settings))
    if settings.openrouter_api_key:
        headers = {
            "Authorization": f"Bearer {settings.openrouter_api_key}",
            **openrouter_headers(settings),
        }
        probes.append(
            _openai_models_probe(
                "openrouter",
                settings.openrouter_base_url,
                settings.openrouter_model,
                headers,
                must_list=True,
            )
        )
    return probes, static


def _error(exc: httpx.HTTPError) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def provider_health(
    settings: Settings, *, embedded_url: str | None = None, timeout_s: float = 5.0
) -> list[ProviderHealth]:
    """Probe every configured provider, one after the other."""
    probes, results = _plan(settings, embedded_url)
    with httpx.Client(timeout=timeout_s) as client:
        for probe in probes:
            started = time.perf_counter()
            try:
                response = client.get(probe.url, headers=probe.headers)
            except httpx.HTTPError as exc:
                elapsed = (time.perf_counter() - started) * 1000
                results.extend(probe.failed(_error(exc), elapsed))
                continue
            results.extend(probe.verdict(response, (time.perf_counter() - started) * 1000))
    return results


async def aprovider_health(
    settings: Settings, *, embedded_url: str | None = None, timeout_s: float = 5.0
) -> list[ProviderHealth]:
    """Probe every configured provider concurrently."""
    probes, results = _plan(settings, embedded_url)

    async def run(client: httpx.AsyncClient, probe: _Probe) -> list[ProviderHealth]:
        started = time.perf_counter()
        try:
            response = await client.get(probe.url, headers=probe.headers)
        except httpx.HTTPError as exc:
            return probe.failed(_error(exc), (time.perf_counter() - started) * 1000)
        return probe.verdict(response, (time.perf_counter() - started) * 1000)

    async with httpx.AsyncClient(timeout=timeout_s) as client:
        for found in await asyncio.gather(*(run(client, p) for p in probes)):
            results.extend(found)
    return results
