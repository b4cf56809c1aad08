"""The action planner's reading of a model reply: what the person did not say is asked for,
never guessed; a tool the caller may not use is not offered."""

from __future__ import annotations

import json

from pydantic import Field, model_validator

from agents.actions.planner import Clarify, ToolCall, read_reply, response_format
from services.identity import Caller, Role
from tools.registry import ToolContext, ToolInput, ToolRegistry


class OrderIn(ToolInput):
    symbol: str = Field(description="Ticker.")
    quantity: float | None = Field(None, description="Units.")
    notional: float | None = Field(None, description="Money to spend.")

    @model_validator(mode="after")
    def _one_size(self):
        if (self.quantity is None) == (self.notional is None):
            raise ValueError("say how many units or how much money")
        return self


class Done(ToolInput):
    ok: bool = Field(description="Done.")


registry = ToolRegistry()


@registry.tool(roles={Role.CUSTOMER})
def buy(ctx: ToolContext, args: OrderIn) -> Done:
    """Buy an instrument. Waits for your yes."""
    return Done(ok=True)


TOOLS = registry.available(Caller(user_id=5))


def reply(**arguments) -> str:
    return json.dumps({"tool": "buy", "arguments": arguments})


def test_a_stated_quantity_makes_a_call():
    planned = read_reply(reply(symbol="AAPL", quantity=2), "buy 2 AAPL", TOOLS)
    assert planned == ToolCall(tool="buy", arguments={"symbol": "AAPL", "quantity": 2})


def test_a_guessed_quantity_is_asked_for():
    planned = read_reply(reply(symbol="AAPL", quantity=1), "buy some AAPL", TOOLS)
    assert isinstance(planned, Clarify)
    assert "say how many units or how much money" in planned.question


def test_a_missing_argument_is_named():
    planned = read_reply(json.dumps({"tool": "buy", "arguments": {"quantity": 3}}), "buy 3", TOOLS)
    assert isinstance(planned, Clarify) and "symbol" in planned.question


def test_a_tool_not_offered_is_no_tool():
    planned = read_reply(json.dumps({"tool": "withdraw", "arguments": {}}), "withdraw", TOOLS)
    assert isinstance(planned, Clarify) and planned.question.startswith("I can't do that here")


def test_an_unparseable_reply_is_a_question():
    assert isinstance(read_reply('{"tool": "bu', "buy 2 AAPL", TOOLS), Clarify)


def test_an_extra_argument_is_left_for_the_registry_to_refuse():
    planned = read_reply(reply(symbol="AAPL", quantity=2, owner="bob"), "buy 2 AAPL", TOOLS)
    assert isinstance(planned, ToolCall) and planned.arguments["owner"] == "bob"


def test_the_response_format_offers_each_tool_and_none():
    schema = response_format(TOOLS)["json_schema"]["schema"]
    tools = [option["properties"]["tool"]["const"] for option in schema["anyOf"]]
    assert tools == ["buy", "none"]
    assert "required" not in schema["anyOf"][0]["properties"]["arguments"]


async def test_the_tool_the_router_names_is_the_only_call_offered_under_the_same_prompt():
    from agents.actions.planner import plan
    from services.llm.scripted import ScriptedChatModel

    more = ToolRegistry()

    @more.tool(roles={Role.CUSTOMER})
    def quote(ctx: ToolContext, args: Done) -> Done:
        """A symbol's latest price."""
        return args

    offered: list[tuple[str, list[str]]] = []

    def respond(messages, kwargs) -> str:
        options = kwargs["response_format"]["json_schema"]["schema"]["anyOf"]
        offered.append((messages[0].content, [o["properties"]["tool"]["const"] for o in options]))
        return reply(symbol="AAPL", quantity=1)

    model = ScriptedChatModel(responder=respond)
    tools = [*TOOLS, *more.available(Caller(user_id=5))]
    assert isinstance(await plan(model, "buy 1 AAPL", tools, only="buy"), ToolCall)
    await plan(model, "buy 1 AAPL", tools, only="not_offered")  # then every tool
    (narrowed_prompt, narrowed), (prompt, every) = offered
    assert narrowed == ["buy", "none"] and every == ["buy", "quote", "none"]
    assert narrowed_prompt == prompt  # its processed prefix serves both
