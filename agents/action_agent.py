"""Requests to do something (buy, cancel, pay, notify): understood, never carried out here.

The model reads the request into a typed `ActionRequest` (through the `json_schema` output the
local models follow reliably). Writes need the user's explicit confirmation and the typed tools
that perform them; until those exist the agent says what it understood and that nothing was
done, so a request to trade can never be mistaken for a trade.
"""

from __future__ import annotations

import json
import logging
from typing import Literal

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import Runnable
from pydantic import BaseModel, Field, ValidationError

from agents import prompts

log = logging.getLogger(__name__)

ActionName = Literal[
    "place_order", "cancel_order", "deposit", "withdraw", "change_subscription", "notify", "other"
]


class ActionRequest(BaseModel):
    action: ActionName
    symbol: str | None = Field(None, description="Instrument, e.g. BTC-USD.")
    side: Literal["buy", "sell"] | None = None
    quantity: float | None = None
    amount: float | None = Field(None, description="Money amount for payments.")
    currency: str | None = None
    order_id: int | None = None
    detail: str | None = Field(None, description="Anything else the request says.")

    def summary(self) -> str:
        """
        >>> ActionRequest(action="place_order", side="buy", quantity=0.1, symbol="BTC").summary()
        'place order: buy 0.1 BTC'
        >>> ActionRequest(action="cancel_order", order_id=42).summary()
        'cancel order: order 42'
        """
        parts = [self.side, _number(self.quantity), self.symbol, _number(self.amount)]
        parts += [self.currency, f"order {self.order_id}" if self.order_id else None]
        what = " ".join(p for p in parts if p)
        name = self.action.replace("_", " ")
        return f"{name}: {what}" if what else name


def _number(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"


RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "action", "schema": ActionRequest.model_json_schema()},
}


async def understand(llm: Runnable, request: str) -> ActionRequest | None:
    """The action asked for, or None when the model's reply does not describe one."""
    reply = await llm.ainvoke(
        [SystemMessage(prompts.ACTION_SYSTEM), HumanMessage(request)],
        response_format=RESPONSE_FORMAT,
        max_tokens=120,
    )
    try:
        return ActionRequest.model_validate(json.loads(str(reply.content)))
    except (ValueError, ValidationError):
        log.warning("action reply was not an action: %.200r", reply.content)
        return None


async def answer(llm: Runnable, request: str) -> tuple[str, ActionRequest | None]:
    action = await understand(llm, request)
    summary = action.summary() if action else "do something on your account"
    return prompts.ACTION_NOT_AVAILABLE.format(summary=summary), action
