"""The local chat model: the embedded llama.cpp server or a configured OpenAI-compatible one."""

from __future__ import annotations

import logging

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_openai import ChatOpenAI

from services.llm.embedded import EmbeddedLlamaServer, EmbeddedModelError
from services.llm.model_files import MODELS, model_path, verify
from services.settings import LLMProvider, Settings

log = logging.getLogger(__name__)


class LocalModel:
    """Owns the local model's lifetime: `start()` returns a chat model, `close()` frees it."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._server: EmbeddedLlamaServer | None = None
        self.description = ""

    def start(self) -> BaseChatModel:
        settings = self.settings
        if settings.llm_provider is LLMProvider.OPENAI_COMPATIBLE:
            base_url, name = settings.llm_base_url, settings.llm_model_name
            self.description = f"{name} at {base_url}"
        else:
            spec = MODELS[settings.embedded_model]
            path = model_path(spec, settings.model_cache_dir)
            if not path.exists():
                raise EmbeddedModelError(
                    f"the {spec.name.value} weights are not prepared; run "
                    "`trading-assist model prepare` (or `make run`, which does it)"
                )
            verify(spec, path)
            self._server = EmbeddedLlamaServer(
                path,
                threads=settings.llm_threads,
                context_tokens=settings.llm_context_tokens,
                alias=spec.name.value,
            )
            base_url, name = self._server.start(), spec.name.value
            self.description = f"embedded {name}"
        return ChatOpenAI(
            base_url=base_url,
            api_key="local",
            model=name,
            temperature=0,
            timeout=settings.llm_timeout_s,
            max_retries=1,
        )

    def close(self) -> None:
        if self._server:
            self._server.close()
            self._server = None
