"""Ollama through langchain-ollama: one model per task, from settings."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage
from langchain_ollama import ChatOllama

from services.settings import Settings

OPTION_ALIASES = {"max_tokens": "num_predict", "temperature": "temperature", "seed": "seed"}


class OllamaChat(ChatOllama):
    """ChatOllama that also takes the OpenAI-style call options the agents pass to every model
    (`max_tokens`, `temperature`, `seed`); Ollama wants them inside `options`, and its client
    rejects them as keywords."""

    def _chat_params(
        self, messages: list[BaseMessage], stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        moved = {OPTION_ALIASES[k]: kwargs.pop(k) for k in list(kwargs) if k in OPTION_ALIASES}
        params = super()._chat_params(messages, stop, **kwargs)
        if moved:
            params["options"] = {**(params.get("options") or {}), **moved}
        return params


def ollama_chat(settings: Settings, model: str) -> ChatOllama:
    """The raw client; `services.llm.providers` wraps it with retries and the breaker.

    >>> from services.settings import Settings
    >>> chat = ollama_chat(Settings(_env_file=None, ollama_base_url="http://127.0.0.1:1"), "m")
    >>> options = chat._chat_params([], max_tokens=5, temperature=0.7, seed=3)["options"]
    >>> options["num_predict"], options["seed"]
    (5, 3)
    """
    if not settings.ollama_base_url:
        raise ValueError("OLLAMA_BASE_URL is not set")
    return OllamaChat(
        base_url=settings.ollama_base_url,
        model=model,
        temperature=0,
        client_kwargs={"timeout": settings.ollama_timeout_s},
    )
