"""Tokens and cost of each model call, read from what the provider reported.

Every chat model built by `services.llm.providers` answers with a message whose
`response_metadata` names the provider (`PROVIDER_KEY`) and whose `usage_metadata` carries the
token counts; OpenRouter's reported cost travels in `response_metadata["token_usage"]["cost"]`.
`usage_from_message` turns that into a `Usage`; `UsageCallback` collects one per call of a run
(pass it in the run config's `callbacks`).

>>> from langchain_core.messages import AIMessage
>>> usage_from_message(AIMessage(
...     "hi",
...     usage_metadata={"input_tokens": 9, "output_tokens": 2, "total_tokens": 11},
...     response_metadata={"model_name": "qwen2.5:3b", PROVIDER_KEY: "ollama",
...                        KIND_KEY: "local"},
... ))
Usage(provider='ollama', model='qwen2.5:3b', prompt_tokens=9, completion_tokens=2, cost_usd=0.0)
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from pydantic import BaseModel, Field

PROVIDER_KEY = "ta_provider"  # response_metadata: which provider answered
KIND_KEY = "ta_provider_kind"  # response_metadata: "local" or "cloud"


class Usage(BaseModel):
    provider: str
    model: str = Field(description="The model that answered (a fallback, if one was used).")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = Field(
        0.0, description="What the provider charged; 0 for local models, None if not reported."
    )

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def _reported_cost(metadata: Mapping[str, Any]) -> float | None:
    token_usage = metadata.get("token_usage")
    if isinstance(token_usage, Mapping):
        cost = token_usage.get("cost")
        if isinstance(cost, int | float) and not isinstance(cost, bool):
            return float(cost)
    return None


def usage_from_message(message: BaseMessage, *, provider: str = "", model: str = "") -> Usage:
    """The usage a provider reported with this message; missing counts read as 0."""
    metadata = message.response_metadata or {}
    counts = getattr(message, "usage_metadata", None) or {}
    local = metadata.get(KIND_KEY) == "local"
    return Usage(
        provider=str(metadata.get(PROVIDER_KEY) or provider or "unknown"),
        model=str(metadata.get("model_name") or metadata.get("model") or model or "unknown"),
        prompt_tokens=int(counts.get("input_tokens") or 0),
        completion_tokens=int(counts.get("output_tokens") or 0),
        cost_usd=0.0 if local else _reported_cost(metadata),
    )


class UsageCallback(BaseCallbackHandler):
    """Collects a `Usage` for every chat-model call that ends in the runs it is attached to.

    Only calls whose answer names a provider are counted, so a wrapper and the client it wraps
    are never counted twice.
    """

    run_inline = True  # cheap: no need for a thread hop in async runs

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usages: list[Usage] = []

    def on_llm_end(
        self,
        response: LLMResult,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        for generations in response.generations:
            for generation in generations:
                if not isinstance(generation, ChatGeneration):
                    continue
                if PROVIDER_KEY not in (generation.message.response_metadata or {}):
                    continue
                usage = usage_from_message(generation.message)
                with self._lock:
                    self._usages.append(usage)

    @property
    def usages(self) -> list[Usage]:
        with self._lock:
            return list(self._usages)

    def total(self) -> Usage:
        """All calls added up; `cost_usd` is None if any cloud call did not report its cost."""
        usages = self.usages
        costs = [u.cost_usd for u in usages]
        return Usage(
            provider=",".join(sorted({u.provider for u in usages})) or "none",
            model=",".join(sorted({u.model for u in usages})) or "none",
            prompt_tokens=sum(u.prompt_tokens for u in usages),
            completion_tokens=sum(u.completion_tokens for u in usages),
            cost_usd=None if None in costs else sum(c or 0.0 for c in costs),
        )
