"""How long a chat turn that ends in a confirmed order takes, the model included.

A customer asks to buy (`REQUEST`); the assistant reads the request into a `place_order` call
(the model fills the registry's JSON schema), previews it with the pre-trade checks and pauses
for a yes; the yes resumes the graph, which places the order in one transaction. Both halves
are timed, `turns` times after one warm-up turn, on a throwaway demo database:

- with the platform's local model (the embedded llama.cpp model, or the OpenAI-compatible
  server `LLM_PROVIDER` names);
- with a scripted model that replies the same call at once, in the same run: the platform's own
  share of the turn (routing, preview, checkpoint, order, ledger, audit, outbox).

Every turn must end in a filled order, or the bench fails.

    trading-assist bench order-turn [--turns 5] [--json]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel, Field
from sqlalchemy import Engine, func, select

from evals.bench_trading import fund, verified_traders
from graphs.assistant import Assistant
from services import clock
from services.db import models as m
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.demo_data.generator import load_demo_data
from services.identity import Caller, Role
from services.llm.scripted import ScriptedChatModel
from services.settings import Settings

REQUEST = "Buy 0.001 BTCUSD at market in my crypto account"
CALL = {"symbol": "BTCUSD", "side": "buy", "order_type": "market", "quantity": 0.001}


class Timing(BaseModel):
    turns: int
    ask_p50_ms: float = Field(description="Request to the pending action's summary.")
    confirm_p50_ms: float = Field(description="The yes to the filled order.")
    total_p50_ms: float = Field(description="Both halves of one turn.")
    total_max_ms: float


class OrderTurnReport(BaseModel):
    request: str
    model: str = Field(description="The model that read the request.")
    with_model: Timing
    scripted: Timing = Field(description="The same turns with a model that answers at once.")
    ratio: float = Field(description="Total p50 with the model / total p50 scripted.")
    orders_placed: int = Field(description="Orders the turns placed, warm-up turns included.")
    correct: bool = Field(description="Every turn, in both arms, placed one filled order.")


def timing(asks_s: Sequence[float], confirms_s: Sequence[float]) -> Timing:
    """
    >>> timing([1.0, 3.0], [0.5, 0.5]).total_p50_ms
    2500.0
    """
    totals = [a + c for a, c in zip(asks_s, confirms_s, strict=True)]
    return Timing(
        turns=len(totals),
        ask_p50_ms=round(statistics.median(asks_s) * 1000, 1),
        confirm_p50_ms=round(statistics.median(confirms_s) * 1000, 1),
        total_p50_ms=round(statistics.median(totals) * 1000, 1),
        total_max_ms=round(max(totals) * 1000, 1),
    )


def scripted_call(messages: Sequence[BaseMessage], kwargs: dict[str, Any]) -> str:
    """The scripted model's reply: the order's call, at once."""
    return json.dumps({"tool": "place_order", "arguments": CALL})


async def _turns(assistant: Assistant, caller: Caller, turns: int) -> Timing:
    """One warm-up turn, then `turns` timed ones."""
    asks, confirms = [], []
    for turn in range(turns + 1):
        began = time.perf_counter()
        asked = await assistant.ask(REQUEST, caller)
        pending = asked.pending_action
        if pending is None:
            raise RuntimeError(f"no order to confirm; the assistant said: {asked.answer}")
        asked_at = time.perf_counter()
        done = await assistant.resume(
            asked.thread_id, caller, approve=True, action_id=pending["id"]
        )
        confirmed_at = time.perf_counter()
        status = ((done.result or {}).get("output") or {}).get("order", {}).get("status")
        if status != "filled":
            raise RuntimeError(f"the confirmed order is {status}: {done.answer}")
        if turn:  # the first turn warms the model's prompt and the graph
            asks.append(asked_at - began)
            confirms.append(confirmed_at - asked_at)
    return timing(asks, confirms)


def _orders(engine: Engine, user_id: int) -> int:
    with engine.connect() as conn:
        query = select(func.count()).select_from(m.Order).where(m.Order.user_id == user_id)
        return conn.execute(query).scalar_one()


async def measure(
    settings: Settings, model: BaseChatModel, description: str, turns: int
) -> OrderTurnReport:
    """The bench on `settings`' database, which it fills with demo data."""
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        load_demo_data(engine, seed=7, as_of=clock.today(), users=60)
        user_id, account_id = verified_traders(engine)[0]
        fund(engine, user_id, account_id, 1_000_000.0)
        caller = Caller(user_id=user_id, role=Role.CUSTOMER)
        before = _orders(engine, user_id)
        results = []
        for chat in (model, ScriptedChatModel(responder=scripted_call)):
            assistant = Assistant(settings, chat, model_description=description)
            try:
                results.append(await _turns(assistant, caller, turns))
            finally:
                await assistant.aclose()
        placed = _orders(engine, user_id) - before
    finally:
        engine.dispose()
    real, scripted = results
    return OrderTurnReport(
        request=REQUEST,
        model=description,
        with_model=real,
        scripted=scripted,
        ratio=round(real.total_p50_ms / scripted.total_p50_ms, 1),
        orders_placed=placed,
        correct=placed == 2 * (turns + 1),
    )


def run(
    settings: Settings,
    model_on: Callable[[Settings], AbstractContextManager[tuple[BaseChatModel, str]]],
    turns: int,
) -> OrderTurnReport:
    """The bench on a throwaway database beside `settings` (the model's own settings kept);
    `model_on(settings)` holds the chat model and its description while the bench runs."""
    with tempfile.TemporaryDirectory() as folder:
        throwaway = settings.model_copy(
            update={
                "var_dir": Path(folder),
                "database_url": f"sqlite:///{folder}/trading_assist.db",
                "read_replica_url": f"sqlite:///file:{folder}/trading_assist.db?mode=ro&uri=true",
                "checkpoint_url": f"sqlite:///{folder}/checkpoints.db",
                "blob_storage_url": f"file://{folder}/blobs",
            }
        )
        with model_on(throwaway) as (model, description):
            return asyncio.run(measure(throwaway, model, description, turns))
