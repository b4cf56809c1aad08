"""OpenRouter through langchain-openai: attribution headers, provider preferences, fallbacks.

OpenRouter speaks OpenAI's chat-completions protocol. Requests carry:
- `HTTP-Referer` and `X-Title`, OpenRouter's app attribution headers;
- `provider` preferences in the body (`data_collection: "deny"` by default: only providers that
  do not store prompts);
- `models`: the first-choice model followed by the fallbacks OpenRouter tries, in order, when
  it fails. The `model` of the answer names the one that served the request.

OpenRouter reports each request's cost in `usage.cost` (credits, i.e. US dollars).
`ChatOpenRouter` keeps that figure for streamed answers too, in the same place a whole answer
has it: `response_metadata["token_usage"]`.
"""

from __future__ import annotations

from typing import Any

from langchain_core.outputs import ChatGenerationChunk
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from services.settings import Settings


class ChatOpenRouter(ChatOpenAI):
    """`ChatOpenAI` that keeps OpenRouter's reported usage (with its cost) on streamed chunks."""

    def _convert_chunk_to_generation_chunk(
        self,
        chunk: dict,
        default_chunk_class: type,
        base_generation_info: dict | None,
    ) -> ChatGenerationChunk | None:
        generation_chunk = super()._convert_chunk_to_generation_chunk(
            chunk, default_chunk_class, base_generation_info
        )
        usage = chunk.get("usage")
        if generation_chunk is not None and isinstance(usage, dict):
            generation_chunk.message.response_metadata["token_usage"] = dict(usage)
        return generation_chunk


def openrouter_headers(settings: Settings) -> dict[str, str]:
    headers = {"X-Title": settings.openrouter_app_title}
    if settings.openrouter_app_url:
        headers["HTTP-Referer"] = settings.openrouter_app_url
    return headers


def openrouter_body(settings: Settings) -> dict[str, Any]:
    """The OpenRouter-specific part of every request body."""
    primary = settings.openrouter_model
    fallbacks = [m for m in dict.fromkeys(settings.openrouter_fallback_models) if m != primary]
    body: dict[str, Any] = {
        "provider": {
            "data_collection": settings.openrouter_data_collection,
            "allow_fallbacks": True,
        }
    }
    if fallbacks:
        body["models"] = [primary, *fallbacks]
    return body


def openrouter_chat(settings: Settings) -> ChatOpenRouter:
    """The raw client; `services.llm.providers` wraps it with retries and the breaker."""
    if not settings.openrouter_api_key:
        raise ValueError("OPENROUTER_API_KEY is not set")
    return ChatOpenRouter(
        base_url=settings.openrouter_base_url,
        api_key=SecretStr(settings.openrouter_api_key),
        model=settings.openrouter_model,
        temperature=0,
        timeout=settings.openrouter_timeout_s,
        max_retries=0,  # retries are ResilientChatModel's, with the breaker's say
        stream_usage=True,
        default_headers=openrouter_headers(settings),
        extra_body=openrouter_body(settings),
    )
