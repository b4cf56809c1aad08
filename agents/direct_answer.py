"""Answers that need neither SQL nor documents: help for small talk, and a model's reasoning
for open questions ("should I rebalance?"), which the routing policy may send to the cloud."""

from __future__ import annotations

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import Runnable

from agents import prompts

MAX_REASONING_TOKENS = 300


def help_text() -> str:
    return prompts.GENERAL_ANSWER


async def reason(llm: Runnable, question: str) -> str:
    reply = await llm.ainvoke(
        [SystemMessage(prompts.REASONING_SYSTEM), HumanMessage(question)],
        max_tokens=MAX_REASONING_TOKENS,
    )
    text = str(reply.content).strip()
    return text or "I have no answer to that."
