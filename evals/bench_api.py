"""What the platform costs a chat turn over real HTTP, apart from the model.

Two servers run side by side in this process, each uvicorn on 127.0.0.1 with the same options,
and one httpx client (keep-alive) asks each the same question `turns` times, one turn after
another, after a warm-up:

- the platform: `POST /v1/chat` of the real app on a throwaway demo database, as a customer
  with a development token, so each turn pays for authentication, the rate limit, the graph
  (router, SQL agent, composer), the SQL guard, the query on the read replica, the checkpoint
  and the audit row; the model is scripted and answers at once;
- a bare FastAPI endpoint taking the same body and answering the platform's own answer.

The platform's overhead per turn is the difference of the medians; budget 15 ms.

    trading-assist bench api [--turns 200] [--json]
"""

from __future__ import annotations

import json
import math
import re
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import BaseModel, Field
from sqlalchemy import text

from api.main import create_app
from api.routes.chat import ChatRequest
from cli.thread_server import serve_in_thread
from graphs.assistant import Assistant
from services import clock
from services.auth import dev_tokens
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.demo_data.generator import load_demo_data
from services.identity import Role
from services.llm.scripted import ScriptedChatModel
from services.settings import Settings

BUDGET_MS = 15.0
QUESTION = "How many open orders do I have?"
SQL = "SELECT COUNT(*) AS open_orders FROM orders WHERE status IN ('open', 'partially_filled')"
UNLIMITED = "1000000/minute"  # the limiter still counts every turn; it never refuses one here


class Side(BaseModel):
    turns: int
    per_s: float = Field(description="Turns per second, one after another.")
    p50_ms: float
    p99_ms: float
    mean_ms: float
    cpu_ms: float = Field(
        description="This process's CPU time per turn, client and server: unlike the wall "
        "clock, it does not grow when other programs share the cores."
    )


class ApiBenchReport(BaseModel):
    question: str
    platform: Side = Field(description="POST /v1/chat of the platform.")
    bare: Side = Field(description="A bare FastAPI endpoint, the same body and answer.")
    overhead_ms: float = Field(description="Platform p50 minus bare p50: the platform's cost.")
    overhead_cpu_ms: float = Field(description="The same in CPU time per turn.")
    ratio: float = Field(description="Platform p50 / bare p50.")
    budget_ms: float
    within_budget: bool


def side(samples_ms: Sequence[float], elapsed_s: float, cpu_s: float) -> Side:
    """
    >>> timing = side([1.0, 2.0, 3.0, 4.0], 0.01, 0.002)
    >>> timing.p50_ms, timing.p99_ms, timing.per_s, timing.cpu_ms
    (2.5, 4.0, 400.0, 0.5)
    """
    ordered = sorted(samples_ms)
    return Side(
        turns=len(ordered),
        per_s=round(len(ordered) / elapsed_s, 1),
        p50_ms=round(statistics.median(ordered), 3),
        p99_ms=round(ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)], 3),
        mean_ms=round(statistics.fmean(ordered), 3),
        cpu_ms=round(cpu_s * 1000 / len(ordered), 3),
    )


class _AsyncScripted(ScriptedChatModel):
    """The scripted model answering on the event loop, as every real provider does (their
    clients are async): the plain scripted model is run in a worker thread by LangChain, a
    hop per model call that is the model's cost, not the platform's. Its tests' responders
    may block; this bench's never does."""

    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        return self._generate(messages, stop, **kwargs)


def _scripted(messages: Sequence[BaseMessage], kwargs: dict[str, Any]) -> str:
    """The SQL agent's draft, then the composer's sentence from the rows it was shown."""
    if "response_format" in kwargs:
        return json.dumps({"sql": SQL})
    rows = re.search(r"Result rows: (.*)", str(messages[-1].content))
    return f"You have these open orders: {rows.group(1) if rows else 'none'}."


def _bare_app(answer: dict[str, Any]) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat")
    async def chat(body: ChatRequest) -> dict[str, Any]:
        return answer

    return app


def _time(client: httpx.Client, url: str, headers: dict[str, str], turns: int) -> Side:
    for _ in range(min(20, turns)):  # warm-up: connections, caches, the first thread
        client.post(url, json={"message": QUESTION}, headers=headers).raise_for_status()
    samples = []
    started, cpu = time.perf_counter(), time.process_time()
    for _ in range(turns):
        begun = time.perf_counter()
        client.post(url, json={"message": QUESTION}, headers=headers).raise_for_status()
        samples.append((time.perf_counter() - begun) * 1000)
    return side(samples, time.perf_counter() - started, time.process_time() - cpu)


def _customer(engine) -> int:
    with engine.connect() as conn:
        query = text("SELECT MIN(id) FROM users WHERE role = 'customer'")
        return conn.execute(query).scalar_one()


def run(turns: int = 200) -> ApiBenchReport:
    with tempfile.TemporaryDirectory() as tmp:
        var_dir = Path(tmp)
        settings = Settings(
            _env_file=None, var_dir=var_dir, rate_limit=UNLIMITED, rate_limit_chat=UNLIMITED
        )
        engine = make_engine(settings.database_url)
        try:
            upgrade(engine)
            load_demo_data(engine, seed=7, as_of=clock.today(), users=20)
            customer = _customer(engine)
        finally:
            engine.dispose()
        token = dev_tokens.mint(var_dir, customer, Role.CUSTOMER)
        headers = {"Authorization": f"Bearer {token}"}
        assistant = Assistant(settings, _AsyncScripted(responder=_scripted))
        with httpx.Client(timeout=30) as client:
            with serve_in_thread(create_app(assistant)) as base:
                answer = client.post(f"{base}/v1/chat", json={"message": QUESTION}, headers=headers)
                answer.raise_for_status()
                if answer.json()["route"] != "sql":
                    raise RuntimeError(f"the bench question was not answered by SQL: {answer.text}")
                platform = _time(client, f"{base}/v1/chat", headers, turns)
            with serve_in_thread(_bare_app(answer.json())) as base:
                bare = _time(client, f"{base}/v1/chat", headers, turns)
    overhead = round(platform.p50_ms - bare.p50_ms, 3)
    return ApiBenchReport(
        question=QUESTION,
        platform=platform,
        bare=bare,
        overhead_ms=overhead,
        overhead_cpu_ms=round(platform.cpu_ms - bare.cpu_ms, 3),
        ratio=round(platform.p50_ms / bare.p50_ms, 2),
        budget_ms=BUDGET_MS,
        within_budget=overhead <= BUDGET_MS,
    )
