"""A request in plain words becomes one call of a registered tool, or a question back.

The local models do not emit OpenAI `tool_calls`, but they follow a `json_schema` response
format reliably, so the reply is constrained to `{"tool": <one of the caller's tools>,
"arguments": <that tool's input schema>}`. What the model fills in is then held to what the
person said (`grounding`) and to the tool's own input model: anything missing or ambiguous
becomes a clarifying question, never a guess.
"""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable
from pydantic import BaseModel, Field, ValidationError

from agents.actions import prompts
from agents.actions.grounding import grounded
from services.llm.errors import is_cut_off
from tools.registry import ToolSpec

log = logging.getLogger(__name__)

NONE = "none"
MAX_TOKENS = 200


class ToolCall(BaseModel):
    tool: str = Field(description="The registered tool to call.")
    arguments: dict[str, Any] = Field(description="Validated by the tool's input model.")


class Clarify(BaseModel):
    question: str = Field(description="What the person is asked before anything is done.")


def inline_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its `$defs` references written in place (grammar-constrained decoding and
    a nested `anyOf` both want one self-contained object).

    >>> inline_refs({"properties": {"side": {"$ref": "#/$defs/Side"}},
    ...              "$defs": {"Side": {"enum": ["buy", "sell"]}}})
    {'properties': {'side': {'enum': ['buy', 'sell']}}}
    """
    defs = schema.get("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return walk(copy.deepcopy(defs[node["$ref"].rsplit("/", 1)[1]]))
            return {k: walk(v) for k, v in node.items() if k != "$defs"}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(schema)


def response_format(tools: list[ToolSpec]) -> dict[str, Any]:
    options = [
        {
            "type": "object",
            "properties": {
                "tool": {"type": "string", "const": spec.name},
                "arguments": _arguments_schema(spec),
            },
            "required": ["tool", "arguments"],
        }
        for spec in tools
    ]
    options.append(
        {
            "type": "object",
            "properties": {"tool": {"type": "string", "const": NONE}},
            "required": ["tool"],
        }
    )
    return {
        "type": "json_schema",
        "json_schema": {"name": "tool_call", "schema": {"anyOf": options}},
    }


def _arguments_schema(spec: ToolSpec) -> dict[str, Any]:
    """The tool's input schema with nothing required: what was not said stays out, and the
    input model says what is missing afterwards."""
    schema = inline_refs(spec.input_model.model_json_schema())
    schema.pop("required", None)
    schema.pop("title", None)
    return schema


def tool_lines(tools: list[ToolSpec]) -> str:
    lines = []
    for spec in tools:
        fields = spec.input_model.model_fields
        arguments = "; ".join(f"{name} ({info.description})" for name, info in fields.items())
        summary = " ".join(spec.description.split())
        lines.append(
            prompts.TOOL_LINE.format(name=spec.name, description=summary, arguments=arguments)
        )
    return "\n".join(lines)


def stable_prefix(tools: list[ToolSpec]) -> list[BaseMessage]:
    """The part of the prompt every request of a caller with these tools shares: processed
    once at warm-up, a request to act pays only for its own words."""
    return [SystemMessage(prompts.SYSTEM.format(tools=tool_lines(tools)))]


async def plan(
    llm: Runnable, request: str, tools: list[ToolSpec], only: str | None = None
) -> ToolCall | Clarify:
    """The one tool call `request` asks for, among `tools` (those the caller may use). `only`,
    a tool the router found computes what is asked, narrows the reply to that tool's call; the
    prompt stays the same, so its processed prefix still serves."""
    if not tools:
        return Clarify(question=prompts.NO_TOOL.format(abilities="nothing in this deployment"))
    allowed = [spec for spec in tools if spec.name == only] or tools
    messages = [*stable_prefix(tools), HumanMessage(request)]
    try:
        reply = await llm.ainvoke(
            messages, response_format=response_format(allowed), max_tokens=MAX_TOKENS
        )
    except Exception as exc:
        if is_cut_off(exc):  # the model lost its way: ask again, never crash the turn
            log.warning("action reply cut off at %d tokens", MAX_TOKENS)
            return Clarify(question=prompts.CUT_OFF)
        raise
    return read_reply(str(reply.content), request, allowed)


def read_reply(content: str, request: str, tools: list[ToolSpec]) -> ToolCall | Clarify:
    """The model's JSON as a tool call whose arguments the tool accepts, or the question that
    gets what is missing."""
    by_name = {spec.name: spec for spec in tools}
    try:
        reply = json.loads(content)
        name = reply["tool"]
        arguments = reply.get("arguments") or {}
        if not isinstance(arguments, dict):
            raise TypeError("arguments is not an object")
    except (ValueError, KeyError, TypeError):
        log.warning("action reply was not a tool call: %.200r", content)
        return Clarify(question=prompts.CUT_OFF)
    spec = by_name.get(name)
    if spec is None:
        return Clarify(question=prompts.NO_TOOL.format(abilities=_abilities(tools)))
    arguments = {k: v for k, v in arguments.items() if v is not None and v != ""}
    arguments, dropped = grounded(arguments, request)
    if dropped:
        log.info("%s: dropped arguments the request never states: %s", name, dropped)
    try:
        spec.input_model.model_validate(arguments)
    except ValidationError as exc:
        if missing := _missing(exc):
            what = _first_sentence(spec.description).rstrip(".").lower()
            return Clarify(question=prompts.CLARIFY.format(what=what, missing=missing))
        # anything else wrong (a wrong type, an argument naming someone) is the registry's to
        # refuse, with its message and an audit record
    return ToolCall(tool=name, arguments=arguments)


def _missing(exc: ValidationError) -> str:
    """What the person has to add, in the input model's own words ('' when nothing is
    missing, or when a rule across fields, such as 'a quantity or an amount', is broken)."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"])
        if error["type"] == "missing":
            parts.append(field.replace("_", " "))
        elif not error["loc"] and error["type"] == "value_error":
            parts.append(str(error["ctx"].get("error", error["msg"])))
    return ", ".join(parts)


def _abilities(tools: list[ToolSpec]) -> str:
    return "; ".join(_first_sentence(spec.description).rstrip(".").lower() for spec in tools[:8])


def _first_sentence(text: str) -> str:
    """
    >>> _first_sentence("Place an order. It waits for your yes.")
    'Place an order.'
    """
    flat = " ".join(text.split())
    end = flat.find(". ")
    return flat if end < 0 else flat[: end + 1]
