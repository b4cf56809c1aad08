"""Ollama through langchain-ollama: one model per task, from settings."""

from __future__ import annotations

from langchain_ollama import ChatOllama

from services.settings import Settings


def ollama_chat(settings: Settings, model: str) -> ChatOllama:
    """The raw client; `services.llm.providers` wraps it with retries and the breaker."""
    if not settings.ollama_base_url:
        raise ValueError("OLLAMA_BASE_URL is not set")
    return ChatOllama(
        base_url=settings.ollama_base_url,
        model=model,
        temperature=0,
        client_kwargs={"timeout": settings.ollama_timeout_s},
    )
