"""Shared pieces of the provider tests: names, a fake clock, recorded-request helpers."""

from __future__ import annotations

from langchain_core.messages import AIMessageChunk

from services.llm.local import LocalModel
from services.llm.scripted_server import RecordedRequest, ScriptedModelServer
from services.settings import LLMProvider, Settings

KEY = "sk-or-test-key"
SQL_MODEL, GENERAL_MODEL = "qwen2.5-coder:1.5b", "qwen2.5:3b"
CLOUD_MODEL, FALLBACK = "openai/gpt-4o-mini", "meta-llama/llama-3.3-70b-instruct"
EMBEDDED_MODEL = "qwen2.5-coder-1.5b"
TIMEOUT_S = 1.0
ATTEMPTS = 2
PROTOCOL = {"ollama": "ollama", "openrouter": "openai", "embedded": "openai"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def embedded_local(settings: Settings, server: ScriptedModelServer) -> LocalModel:
    """The local model in its OpenAI-compatible branch, which loads no weights, pointed at the
    scripted server."""
    return LocalModel(
        settings.model_copy(
            update={
                "llm_provider": LLMProvider.OPENAI_COMPATIBLE,
                "llm_base_url": f"{server.url}/v1",
                "llm_model_name": EMBEDDED_MODEL,
            }
        )
    )


def embedded_chat(settings: Settings, server: ScriptedModelServer):
    """The chat model `LocalModel.start()` returns, built by LocalModel itself."""
    return embedded_local(settings, server).start()


def chats(server: ScriptedModelServer, name: str) -> list[RecordedRequest]:
    return server.recorded(PROTOCOL[name])  # type: ignore[arg-type]


async def collect(chat, prompt: str = "hi", **kwargs) -> AIMessageChunk:
    whole = None
    async for chunk in chat.astream(prompt, **kwargs):
        whole = chunk if whole is None else whole + chunk
    assert whole is not None
    return whole
