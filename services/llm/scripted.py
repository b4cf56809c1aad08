"""A deterministic chat model for tests: replies come from a script, not from weights.

It is a real LangChain chat model, so graph code cannot tell it from the embedded one; each call
is recorded so tests can assert what the agents sent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

Responder = Callable[[Sequence[BaseMessage], dict[str, Any]], str]


class ScriptedChatModel(BaseChatModel):
    """Answers with `responder(messages, call_kwargs)`; records every call in `calls`."""

    responder: Responder
    calls: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        self.calls.append({"messages": list(messages), "kwargs": kwargs})
        text = self.responder(messages, kwargs)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def replies(*texts: str) -> Responder:
    """A responder that plays the given replies in order, then repeats the last one."""
    queue = list(texts)

    def respond(_messages: Sequence[BaseMessage], _kwargs: dict[str, Any]) -> str:
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return respond
