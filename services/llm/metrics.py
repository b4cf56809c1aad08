"""In-process counters per provider: calls, failures, retries, tokens, cost, latency.

Thread-safe and dependency-free; `snapshot()` returns a pydantic model the API or a metrics
exporter can serve as it is.

>>> metrics = ProviderMetrics()
>>> metrics.record_call("ollama")
>>> metrics.record_success(Usage(provider="ollama", model="m", prompt_tokens=3), latency_s=0.5)
>>> counters = metrics.snapshot().providers["ollama"]
>>> counters.calls, counters.successes, counters.prompt_tokens, counters.latency_s_total
(1, 1, 3, 0.5)
"""

from __future__ import annotations

import threading
from collections import defaultdict

from pydantic import BaseModel, Field

from services.llm.usage import Usage


class ProviderCounters(BaseModel):
    calls: int = Field(0, description="Model calls asked of this provider.")
    successes: int = 0
    failures: int = Field(0, description="Calls that ended in ProviderUnavailable.")
    attempt_failures: int = Field(0, description="Single attempts that failed, retried or not.")
    retries: int = 0
    short_circuited: int = Field(0, description="Calls refused at once by an open breaker.")
    privacy_refusals: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = Field(0, description="Cloud answers that reported no cost.")
    latency_s_total: float = Field(0.0, description="Summed duration of the attempts that worked.")


class MetricsSnapshot(BaseModel):
    providers: dict[str, ProviderCounters]


class ProviderMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, ProviderCounters] = defaultdict(ProviderCounters)

    def _add(self, provider: str, **amounts: float) -> None:
        with self._lock:
            counters = self._counters[provider]
            for name, amount in amounts.items():
                setattr(counters, name, getattr(counters, name) + amount)

    def record_call(self, provider: str) -> None:
        self._add(provider, calls=1)

    def record_success(self, usage: Usage, latency_s: float) -> None:
        self._add(
            usage.provider,
            successes=1,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=usage.cost_usd or 0.0,
            unpriced_calls=1 if usage.cost_usd is None else 0,
            latency_s_total=latency_s,
        )

    def record_attempt_failure(self, provider: str) -> None:
        self._add(provider, attempt_failures=1)

    def record_retry(self, provider: str) -> None:
        self._add(provider, retries=1)

    def record_failure(self, provider: str) -> None:
        self._add(provider, failures=1)

    def record_short_circuit(self, provider: str) -> None:
        self._add(provider, short_circuited=1)

    def record_privacy_refusal(self, provider: str) -> None:
        self._add(provider, privacy_refusals=1)

    def snapshot(self) -> MetricsSnapshot:
        with self._lock:
            return MetricsSnapshot(
                providers={name: c.model_copy() for name, c in sorted(self._counters.items())}
            )


PROCESS_METRICS = ProviderMetrics()  # the default registry for this process
