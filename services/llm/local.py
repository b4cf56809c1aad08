"""The local chat model: the embedded llama.cpp server or a configured OpenAI-compatible one."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from pathlib import Path

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_openai import ChatOpenAI

from services.llm.embedded import EmbeddedLlamaServer, EmbeddedModelError
from services.llm.model_files import MODELS, model_path, verify
from services.settings import LLMProvider, Settings

log = logging.getLogger(__name__)


KEPT_PROMPTS = 6  # each saved prompt is tens of MB; older ones go


def _prune(folder: Path, keep: int) -> None:
    saved = sorted(folder.glob("*.bin"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in saved[keep:]:
        old.unlink(missing_ok=True)


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
                slot_dir=settings.model_cache_dir / "prompt-cache",
            )
            base_url, name = self._server.start(), spec.name.value
            self.description = f"embedded {name}"
        self._llm = ChatOpenAI(
            base_url=base_url,
            api_key="local",
            model=name,
            temperature=0,
            timeout=settings.llm_timeout_s,
            max_retries=0,  # retries are the provider layer's (ResilientChatModel)
        )
        return self._llm

    async def prime(
        self, messages: list[BaseMessage], slot: int, *, timeout_s: float | None = None
    ) -> None:
        """Have `slot` hold these messages processed. The embedded model keeps processed
        prompts on disk, so a prompt seen by an earlier process (the schema part of the SQL
        prompt, typically) is restored in a second instead of processed for tens.

        `timeout_s` replaces the request bound for this one call. The server's warm-up keeps
        the usual bound, so a first question never queues behind minutes of cold prompts; an
        evaluation gives a longer one, since a cold prompt it gave up on would be paid for
        again by its first questions, inside their timings."""
        bound = {} if timeout_s is None else {"timeout": timeout_s}
        pinned = self._llm.bind(max_tokens=1, extra_body={"id_slot": slot}, **bound)
        if self._server is None:
            await pinned.ainvoke(messages)
            return
        text = json.dumps([(m.type, m.content) for m in messages])
        name = hashlib.sha256(f"{self.description}\n{text}".encode()).hexdigest()[:32] + ".bin"
        saved = self._server.slot_dir / name
        if saved.exists() and await asyncio.to_thread(
            self._server.slot_action, slot, "restore", name
        ):
            log.info("prompt %s restored from disk into slot %d", name, slot)
            return
        await pinned.ainvoke(messages)
        if await asyncio.to_thread(self._server.slot_action, slot, "save", name):
            log.info("prompt %s processed and saved from slot %d", name, slot)
        _prune(self._server.slot_dir, keep=KEPT_PROMPTS)

    def close(self) -> None:
        if self._server:
            self._server.close()
            self._server = None
