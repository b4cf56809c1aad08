"""Timeouts, bounded retries and a circuit breaker around one provider's chat model.

`ResilientChatModel` is itself a LangChain chat model, so graph code uses it like any other. Each
call gets up to `RetryPolicy.max_attempts` attempts, each bounded by `timeout_s`, with doubling
(capped, lightly jittered) waits between them, as long as the provider's breaker allows. Only
failures that say something about the provider (timeouts, dropped connections, 5xx, 429, replies
that are not JSON, rejected credentials) are retried and counted against the breaker; an error in
the request itself propagates unchanged. When it gives up it raises
`ProviderUnavailable(provider, reason)` with the last error as its cause.

A stream is retried only while nothing has been yielded; once text has gone out, a failure ends
the stream with `ProviderUnavailable` rather than repeating what the caller already has. For a
stream, `timeout_s` bounds the wait for each chunk.

Every answer is stamped with the provider's name and kind in `response_metadata`, so the usage
callback and the metrics can tell providers apart. A cloud model also re-checks the run's
`sensitivity` metadata on every call: a confidential run never reaches it, even through a model
handed out earlier for a public request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
import httpx2  # openai >= 3.3 speaks HTTP through httpx2; its stream errors surface raw
import openai
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.exceptions import (
    ModelAPIError,
    ModelAuthenticationError,
    ModelConnectionError,
    ModelNotFoundError,
    ModelPermissionDeniedError,
    ModelRateLimitError,
    ModelTimeoutError,
)
from langchain_core.language_models import LanguageModelInput
from langchain_core.language_models.chat_models import BaseChatModel, LangSmithParams
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, BaseMessageChunk
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableBinding, RunnableConfig, ensure_config
from opentelemetry.trace import Span, SpanKind
from pydantic import BaseModel, ConfigDict, Field

from services.llm.breaker import CircuitBreaker
from services.llm.errors import ProviderUnavailable
from services.llm.metrics import PROCESS_METRICS, ProviderMetrics
from services.llm.privacy import SENSITIVITY_KEY, AuditHook, ProviderKind, guard_request
from services.llm.usage import KIND_KEY, PROVIDER_KEY, usage_from_message
from services.telemetry import span

log = logging.getLogger(__name__)


class RetryPolicy(BaseModel):
    """How long to wait for a provider and how often to try it.

    >>> policy = RetryPolicy(backoff_s=0.5, backoff_max_s=3, jitter=0)
    >>> [policy.backoff(retry) for retry in (1, 2, 3, 4, 5)]
    [0.5, 1.0, 2.0, 3.0, 3.0]
    """

    model_config = ConfigDict(frozen=True)

    timeout_s: float = Field(60.0, gt=0, description="Per attempt; per chunk when streaming.")
    max_attempts: int = Field(3, ge=1, le=10, description="The first attempt included.")
    backoff_s: float = Field(0.5, ge=0)
    backoff_max_s: float = Field(8.0, ge=0)
    jitter: float = Field(0.2, ge=0, le=1, description="± this fraction of each wait, at random.")

    def backoff(self, retry: int, rand: float = 0.5) -> float:
        """The wait before retry number `retry` (1 for the first retry); `rand` in [0, 1)."""
        doubled = self.backoff_s * 2 ** (retry - 1)
        return min(self.backoff_max_s, doubled * (1 + self.jitter * (2 * rand - 1)))


class FailureKind(StrEnum):
    TIMEOUT = "timed out"
    CONNECTION = "connection failed"
    SERVER_ERROR = "server error"
    RATE_LIMITED = "rate limited"
    MALFORMED = "malformed response"
    REJECTED = "credentials or model rejected"


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    retryable: bool
    detail: str


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None and isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
    return status if isinstance(status, int) else None


def classify(exc: BaseException) -> Failure | None:
    """What a provider's exception says about the provider; None if it is the request's fault.

    >>> classify(TimeoutError()).kind.value, classify(ValueError("bad argument")) is None
    ('timed out', True)
    """
    status = _status(exc)
    detail = _detail(exc, status)
    if isinstance(
        exc,
        TimeoutError
        | httpx.TimeoutException
        | httpx2.TimeoutException
        | openai.APITimeoutError
        | ModelTimeoutError,
    ):
        return Failure(FailureKind.TIMEOUT, retryable=True, detail=detail)
    if isinstance(
        exc,
        ConnectionError
        | httpx.TransportError
        | httpx2.TransportError
        | openai.APIConnectionError
        | ModelConnectionError,
    ):
        return Failure(FailureKind.CONNECTION, retryable=True, detail=detail)
    if isinstance(exc, json.JSONDecodeError | openai.APIResponseValidationError):
        return Failure(FailureKind.MALFORMED, retryable=True, detail=detail)
    if status == 429 or isinstance(exc, ModelRateLimitError):
        return Failure(FailureKind.RATE_LIMITED, retryable=True, detail=detail)
    if status == 408:
        return Failure(FailureKind.TIMEOUT, retryable=True, detail=detail)
    # -1 is the ollama client's "error reported inside the stream"
    if (status is not None and (status >= 500 or status == -1)) or isinstance(exc, ModelAPIError):
        return Failure(FailureKind.SERVER_ERROR, retryable=True, detail=detail)
    if status in (401, 403, 404) or isinstance(
        exc, ModelAuthenticationError | ModelPermissionDeniedError | ModelNotFoundError
    ):
        return Failure(FailureKind.REJECTED, retryable=False, detail=detail)
    return None


def _detail(exc: BaseException, status: int | None) -> str:
    suffix = f" (HTTP {status})" if status and status > 0 else ""
    return f"{type(exc).__name__}{suffix}"


class ResilientChatModel(BaseChatModel):
    """One provider's chat model behind a retry policy and that provider's circuit breaker."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    inner: BaseChatModel
    provider: str
    kind: ProviderKind
    model_name: str
    policy: RetryPolicy = Field(default_factory=RetryPolicy)
    breaker: CircuitBreaker
    metrics: ProviderMetrics = Field(default=PROCESS_METRICS, exclude=True)
    audit: AuditHook | None = Field(default=None, exclude=True)
    stream_kwargs: dict[str, Any] = Field(
        default_factory=dict, description="Extra arguments for streamed calls (stream_usage)."
    )
    rand: Callable[[], float] = Field(default=random.random, exclude=True)

    @property
    def _llm_type(self) -> str:
        return f"resilient-{self.provider}"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"provider": self.provider, "model": self.model_name, "kind": self.kind.value}

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        return LangSmithParams(
            ls_provider=self.provider, ls_model_name=self.model_name, ls_model_type="chat"
        )

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[LanguageModelInput, Any]:
        """Format the tools the way the wrapped client does, and bind them to this model."""
        bound = self.inner.bind_tools(tools, **kwargs)
        if not isinstance(bound, RunnableBinding):
            raise NotImplementedError(f"{self.provider} cannot bind tools here")
        return self.bind(**bound.kwargs)

    def stream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        # BaseChatModel.stream does not hand the run's metadata to _stream: check it here
        self._check_sensitivity(ensure_config(config).get("metadata"))
        yield from super().stream(input, config, stop=stop, **kwargs)

    async def astream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        self._check_sensitivity(ensure_config(config).get("metadata"))
        async for chunk in super().astream(input, config, stop=stop, **kwargs):
            yield chunk

    # -- bookkeeping shared by the four call paths -------------------------------------------

    def _check_privacy(self, run_manager: Any) -> None:
        self._check_sensitivity(getattr(run_manager, "metadata", None))

    def _check_sensitivity(self, metadata: Mapping[str, Any] | None) -> None:
        sensitivity = (metadata or {}).get(SENSITIVITY_KEY)
        if sensitivity is None:
            return  # the handle checked the label when it handed this model out
        try:
            guard_request(
                self.provider, self.kind, self.model_name, sensitivity, self.audit, where="call"
            )
        except PermissionError:
            self.metrics.record_privacy_refusal(self.provider)
            raise

    def _admit(self, last_error: BaseException | None) -> None:
        if self.breaker.allow():
            return
        self.metrics.record_short_circuit(self.provider)
        self.metrics.record_failure(self.provider)
        wait = self.breaker.retry_after_s()
        raise ProviderUnavailable(
            self.provider, f"circuit open, next try in {wait:.0f} s", retry_after_s=wait
        ) from last_error

    def _after_failure(self, exc: Exception, attempt: int, *, streamed: bool) -> float:
        """Record a failed attempt; return the wait before the next one, or raise."""
        failure = classify(exc)
        if failure is None:
            self.breaker.release()
            raise exc
        self.breaker.record_failure()
        self.metrics.record_attempt_failure(self.provider)
        log.warning(
            "%s attempt %d/%d failed: %s",
            self.provider,
            attempt,
            self.policy.max_attempts,
            failure.detail,
        )
        if streamed or not failure.retryable or attempt >= self.policy.max_attempts:
            self.metrics.record_failure(self.provider)
            where = " mid-stream" if streamed else ""
            plural = "s" if attempt > 1 else ""
            raise ProviderUnavailable(
                self.provider,
                f"{failure.kind.value}{where} ({failure.detail}) after {attempt} attempt{plural}",
            ) from exc
        self.metrics.record_retry(self.provider)
        return self.policy.backoff(attempt, self.rand())

    def _stamp(self, message: BaseMessage) -> None:
        message.response_metadata[PROVIDER_KEY] = self.provider
        message.response_metadata[KIND_KEY] = self.kind.value

    def _after_success(self, message: BaseMessage, started: float, traced: Span) -> None:
        self.breaker.record_success()
        usage = usage_from_message(message, provider=self.provider, model=self.model_name)
        self.metrics.record_success(usage, time.monotonic() - started)
        traced.set_attributes(
            {
                "gen_ai.response.model": usage.model,
                "gen_ai.usage.input_tokens": usage.prompt_tokens,
                "gen_ai.usage.output_tokens": usage.completion_tokens,
            }
        )

    def _span(self, *, streamed: bool):
        """One span per call, its retries included; not made current around a stream, which
        yields to its caller between chunks."""
        return span(
            f"chat {self.model_name}",
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": self.provider,
                "gen_ai.request.model": self.model_name,
                "trading_assist.provider.kind": self.kind.value,
                "trading_assist.streamed": streamed,
            },
            kind=SpanKind.CLIENT,
            current=not streamed,
        )

    # -- the call paths ---------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._check_privacy(run_manager)
        self.metrics.record_call(self.provider)
        last: BaseException | None = None
        with self._span(streamed=False) as traced:
            for attempt in range(1, self.policy.max_attempts + 1):
                self._admit(last)
                started, settled = time.monotonic(), False
                try:
                    message = self.inner.invoke(messages, stop=stop, **kwargs)
                    settled = True
                except Exception as exc:
                    settled, last = True, exc
                    time.sleep(self._after_failure(exc, attempt, streamed=False))
                    continue
                finally:
                    if not settled:
                        self.breaker.release()
                return self._result(message, started, traced)
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self._check_privacy(run_manager)
        self.metrics.record_call(self.provider)
        last: BaseException | None = None
        with self._span(streamed=False) as traced:
            for attempt in range(1, self.policy.max_attempts + 1):
                self._admit(last)
                started, settled = time.monotonic(), False
                try:
                    async with asyncio.timeout(self.policy.timeout_s):
                        message = await self.inner.ainvoke(messages, stop=stop, **kwargs)
                    settled = True
                except Exception as exc:
                    settled, last = True, exc
                    await asyncio.sleep(self._after_failure(exc, attempt, streamed=False))
                    continue
                finally:
                    if not settled:  # cancelled: no verdict on the provider
                        self.breaker.release()
                return self._result(message, started, traced)
        raise AssertionError("unreachable: the last attempt raises")  # pragma: no cover

    def _result(self, message: BaseMessage, started: float, traced: Span) -> ChatResult:
        if not isinstance(message, AIMessage):
            message = AIMessage(content=message.content)
        self._stamp(message)
        self._after_success(message, started, traced)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        self._check_privacy(run_manager)
        self.metrics.record_call(self.provider)
        last: BaseException | None = None
        with self._span(streamed=True) as traced:
            for attempt in range(1, self.policy.max_attempts + 1):
                self._admit(last)
                started, settled, whole = time.monotonic(), False, None
                try:
                    for chunk in self.inner.stream(
                        messages, stop=stop, **{**self.stream_kwargs, **kwargs}
                    ):
                        piece = self._piece(chunk, first=whole is None)
                        whole = piece.message if whole is None else whole + piece.message
                        if run_manager:
                            run_manager.on_llm_new_token(piece.text, chunk=piece)
                        yield piece
                    settled = True
                except Exception as exc:
                    settled, last = True, exc
                    time.sleep(self._after_failure(exc, attempt, streamed=whole is not None))
                    continue
                finally:
                    if not settled:  # the caller stopped reading: no verdict on the provider
                        self.breaker.release()
                self._after_success(whole or AIMessageChunk(content=""), started, traced)
                return

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        self._check_privacy(run_manager)
        self.metrics.record_call(self.provider)
        last: BaseException | None = None
        with self._span(streamed=True) as traced:
            for attempt in range(1, self.policy.max_attempts + 1):
                self._admit(last)
                started, settled, whole = time.monotonic(), False, None
                chunks = self.inner.astream(messages, stop=stop, **{**self.stream_kwargs, **kwargs})
                try:
                    async with aclosing(chunks):
                        while True:
                            try:
                                async with asyncio.timeout(self.policy.timeout_s):
                                    chunk = await anext(chunks)
                            except StopAsyncIteration:
                                break
                            piece = self._piece(chunk, first=whole is None)
                            whole = piece.message if whole is None else whole + piece.message
                            if run_manager:
                                await run_manager.on_llm_new_token(piece.text, chunk=piece)
                            yield piece
                    settled = True
                except Exception as exc:
                    settled, last = True, exc
                    await asyncio.sleep(
                        self._after_failure(exc, attempt, streamed=whole is not None)
                    )
                    continue
                finally:
                    if not settled:  # cancelled, or the caller stopped reading
                        self.breaker.release()
                self._after_success(whole or AIMessageChunk(content=""), started, traced)
                return

    def _piece(self, chunk: BaseMessageChunk, *, first: bool) -> ChatGenerationChunk:
        message = chunk if isinstance(chunk, AIMessageChunk) else AIMessageChunk(chunk.content)
        if first:  # stamped once: response_metadata strings are concatenated when merged
            self._stamp(message)
        return ChatGenerationChunk(message=message)
