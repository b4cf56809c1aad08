"""The providers this deployment has, built from settings, and the privacy guard in front of them.

`build_providers(settings)` returns up to two handles:

- `"local"`: Ollama when `OLLAMA_BASE_URL` is set (a model per task), otherwise the embedded
  llama.cpp model (or the `LLM_PROVIDER=openai-compatible` server) whose chat model
  `LocalModel.start()` returned, passed in as `embedded`;
- `"cloud"`: OpenRouter when `OPENROUTER_API_KEY` is set.

Each handle wraps its chat models in `ResilientChatModel` (timeouts, retries, one circuit breaker
per provider). The only way to get a chat model from a handle is `for_request(sensitivity, task)`,
which refuses a cloud model for a request that is not cleared for the cloud, raising
`PrivacyViolation` after calling the audit hook: privacy holds below the router, whatever the
router asks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_openai import ChatOpenAI

from services.llm.breaker import BreakerState, CircuitBreaker, Clock
from services.llm.metrics import PROCESS_METRICS, ProviderMetrics
from services.llm.ollama_chat import ollama_chat
from services.llm.openrouter import openrouter_chat
from services.llm.privacy import AuditHook, ProviderKind, Sensitivity, guard_request
from services.llm.resilient import ResilientChatModel, RetryPolicy
from services.settings import LLMProvider, Settings

log = logging.getLogger(__name__)


class ModelTask(StrEnum):
    SQL = "sql"  # writing SQL
    GENERAL = "general"  # routing, answers, everything else


@dataclass(frozen=True)
class ProviderHandle:
    name: str  # "ollama", "embedded", "openai-compatible", "openrouter"
    kind: ProviderKind
    breaker: CircuitBreaker
    # private: `for_request` is the only way to a chat model, so the guard cannot be skipped
    _chat_models: Mapping[ModelTask, ResilientChatModel] = field(repr=False)
    audit: AuditHook | None = field(default=None, repr=False)
    metrics: ProviderMetrics = field(default=PROCESS_METRICS, repr=False)

    def model(self, task: ModelTask = ModelTask.GENERAL) -> str:
        """The model name this handle uses for a task."""
        return self._chat_models[task].model_name

    def for_request(
        self, sensitivity: Sensitivity | str, task: ModelTask = ModelTask.GENERAL
    ) -> BaseChatModel:
        """The chat model for a request of this sensitivity, or `PrivacyViolation`."""
        chat = self._chat_models[task]
        try:
            guard_request(self.name, self.kind, chat.model_name, sensitivity, self.audit)
        except PermissionError:
            self.metrics.record_privacy_refusal(self.name)
            raise
        return chat


def _log_transition(name: str, old: BreakerState, new: BreakerState) -> None:
    level = logging.WARNING if new is BreakerState.OPEN else logging.INFO
    log.log(level, "provider %s circuit %s -> %s", name, old.value, new.value)


def _policy(settings: Settings, timeout_s: float) -> RetryPolicy:
    return RetryPolicy(
        timeout_s=timeout_s,
        max_attempts=settings.llm_max_attempts,
        backoff_s=settings.llm_backoff_s,
        backoff_max_s=settings.llm_backoff_max_s,
    )


def _handle(
    settings: Settings,
    name: str,
    kind: ProviderKind,
    raw: Mapping[ModelTask, tuple[str, BaseChatModel]],
    timeout_s: float,
    *,
    audit: AuditHook | None,
    metrics: ProviderMetrics,
    clock: Clock,
) -> ProviderHandle:
    breaker = CircuitBreaker(
        name,
        failure_threshold=settings.llm_breaker_failures,
        cooldown_s=settings.llm_breaker_cooldown_s,
        clock=clock,
        on_change=_log_transition,
    )
    chat_models = {
        task: ResilientChatModel(
            inner=inner,
            provider=name,
            kind=kind,
            model_name=model,
            policy=_policy(settings, timeout_s),
            breaker=breaker,
            metrics=metrics,
            audit=audit,
            # OpenAI-protocol servers report usage in a stream only when asked
            stream_kwargs={"stream_usage": True} if isinstance(inner, ChatOpenAI) else {},
        )
        for task, (model, inner) in raw.items()
    }
    return ProviderHandle(name, kind, breaker, chat_models, audit=audit, metrics=metrics)


def build_providers(
    settings: Settings,
    *,
    embedded: BaseChatModel | None = None,
    audit: AuditHook | None = None,
    metrics: ProviderMetrics | None = None,
    clock: Clock = time.monotonic,
) -> dict[str, ProviderHandle]:
    """The configured providers by role ("local", "cloud"); see the module docstring.

    Without Ollama and without `embedded` there is no "local" entry: this function never
    starts the embedded model (that loads weights; `LocalModel` owns it).
    """
    metrics = metrics or PROCESS_METRICS
    common = {"audit": audit, "metrics": metrics, "clock": clock}
    handles: dict[str, ProviderHandle] = {}
    if settings.ollama_base_url:
        raw = {
            task: (model, ollama_chat(settings, model))
            for task, model in (
                (ModelTask.SQL, settings.ollama_model_sql),
                (ModelTask.GENERAL, settings.ollama_model_general),
            )
        }
        handles["local"] = _handle(
            settings, "ollama", ProviderKind.LOCAL, raw, settings.ollama_timeout_s, **common
        )
    elif embedded is not None:
        if settings.llm_provider is LLMProvider.OPENAI_COMPATIBLE:
            name, model = "openai-compatible", settings.llm_model_name
        else:
            name, model = "embedded", settings.embedded_model.value
        raw = {task: (model, embedded) for task in ModelTask}
        handles["local"] = _handle(
            settings, name, ProviderKind.LOCAL, raw, settings.llm_timeout_s, **common
        )
    if settings.openrouter_api_key:
        cloud = openrouter_chat(settings)
        raw = {task: (settings.openrouter_model, cloud) for task in ModelTask}
        handles["cloud"] = _handle(
            settings,
            "openrouter",
            ProviderKind.CLOUD,
            raw,
            settings.openrouter_timeout_s,
            **common,
        )
    return handles
