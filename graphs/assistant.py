"""The assistant as the CLI, the API and the chat UI use it: a question in, an answer out.

It owns the graph and what the graph needs (engines, the guard's policy, the chat model),
checks the request before the graph sees it, and writes the audit trail.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any, Literal

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from agents import prompts
from agents.chart import ChartSpec, suggest_chart
from agents.sql_agent import SqlAgent
from agents.sql_memory import SqlMemory
from graphs.chat.graph import build_chat_graph
from graphs.chat.state import ChatContext, ChatState
from retrieval.embeddings import Embedder
from retrieval.schema_linking import SchemaLinker
from services import audit
from services.catalog import catalog_from_engine, catalog_from_metadata
from services.db.engines import make_engine, make_replica_engine, sqlite_file
from services.db.migrate import require_schema
from services.db.models import Base
from services.errors import AssistantError
from services.identity import Caller, Role
from services.settings import Settings
from services.sql_examples import add_example, load_examples
from services.users import caller_for
from sql_guard.policy import platform_policy
from sql_guard.runner import Column, ReplicaRunner

log = logging.getLogger(__name__)


def platform_notes(caller: Caller) -> str:
    """The platform's own conventions, told to the model after the schema."""
    return prompts.PLATFORM_NOTES.format(
        scope=prompts.SCOPE_CUSTOMER.format(user_id=caller.user_id)
        if caller.is_scoped
        else prompts.SCOPE_STAFF,
        today=date.today().isoformat(),
    )


class ChatAnswer(BaseModel):
    answer: str = Field(description="The answer as a sentence.")
    sql: str | None = Field(None, description="The SQL that ran, after the guard's rewrites.")
    rows: list[list[Any]] = Field(default_factory=list)
    columns: list[Column] = Field(default_factory=list)
    truncated: bool = False
    chart: ChartSpec | None = Field(None, description="How to draw the rows, when they suit it.")
    route: str
    attempts: int = 0
    elapsed_ms: float
    answer_id: int | None = Field(None, description="Quote it when giving feedback.")


class ChatEvent(BaseModel):
    event: Literal["route", "sql", "rows", "answer", "done", "error"]
    data: dict[str, Any]


class Assistant:
    def __init__(
        self,
        settings: Settings,
        llm: BaseChatModel,
        *,
        embedder: Embedder | None = None,
        model_description: str = "",
        primer: Callable[[list[BaseMessage], int], Awaitable[None]] | None = None,
    ):
        """`embedder` enables schema linking and the memory of verified questions; without it
        (unit tests) the model sees every table it may query and no examples."""
        self.settings = settings
        self.llm = llm
        self.embedder = embedder
        self.primer = primer
        self.model_description = model_description or type(llm).__name__
        self.engine: Engine = make_engine(settings.database_url)
        self.replica: Engine = make_replica_engine(
            settings.read_replica_url, settings.sql_timeout_s
        )
        self.policy = platform_policy(settings.sql_row_limit)
        self._graph = None
        self.memory: SqlMemory | None = None
        self._db_file = sqlite_file(settings.database_url)
        self._schema_seen = False

    def _build(self):
        """Built on first use: the catalog is read from the database, which must exist."""
        settings = self.settings
        catalog = catalog_from_engine(
            self.replica,
            base=catalog_from_metadata(Base.metadata),
            volatile=frozenset({"audit_log"}),
        ).without({"sql_examples"})  # the agent's memory is not something users ask about
        if self.embedder is not None:
            self.memory = SqlMemory(
                self.embedder,
                load_examples(self.engine),
                persist=lambda q, sql: add_example(self.engine, q, sql),
            )
        dialect = (
            "postgres" if self.engine.dialect.name == "postgresql" else self.engine.dialect.name
        )
        agent = SqlAgent(
            self.llm,
            catalog=catalog,
            policy=self.policy,
            runner=ReplicaRunner(
                self.replica, max_rows=settings.sql_row_limit, timeout_s=settings.sql_timeout_s
            ),
            dialect=dialect,
            max_retries=settings.sql_max_retries,
            notes=platform_notes,
            linker=SchemaLinker(self.embedder, catalog)
            if self.embedder is not None and settings.sql_schema_linking
            else None,
            memory=self.memory,
            samples=settings.sql_samples,
            examples=settings.sql_examples,
        )
        self.sql_agent = agent
        return build_chat_graph(self.llm, agent)

    async def warm_up(self, callers: list[Caller] | None = None) -> None:
        """Have the model hold each caller's schema prompt processed (one slot each), so the
        first questions do not pay for it; by default staff and customers."""
        self._ensure_built()
        callers = callers or [Caller(role=Role.ADMIN), Caller(user_id=0, role=Role.CUSTOMER)]
        try:
            for slot, caller in enumerate(callers):
                prefix = self.sql_agent.stable_prefix(caller)
                if prefix is None:
                    continue
                if self.primer is not None:
                    await self.primer(prefix, slot)
                else:
                    await self.llm.ainvoke(prefix, max_tokens=1)
        except Exception:  # warming is an optimisation; a failure shows up on real requests
            log.exception("warm-up failed")

    def _ensure_built(self) -> None:
        if self._graph is None:
            self._graph = self._build()

    @property
    def graph(self):
        self._ensure_built()
        return self._graph

    # -- checks ----------------------------------------------------------------------------
    def ensure_database(self) -> None:
        """Inspect the schema once; afterwards each request only checks that the file is still
        there (inspecting every table on every request would put I/O on the hot path)."""
        if self._schema_seen and (self._db_file is None or self._db_file.exists()):
            return
        require_schema(self.engine)
        self._schema_seen = True

    def caller(self, user_id: int | None) -> Caller:
        self.ensure_database()
        return caller_for(self.engine, user_id)

    def _question(self, question: str) -> str:
        text = question.strip()
        if not text:
            raise AssistantError("empty_question", "the question is empty")
        if len(text) > self.settings.max_question_chars:
            raise AssistantError(
                "question_too_long",
                f"the question has {len(text)} characters; the limit is "
                f"{self.settings.max_question_chars}",
            )
        return text

    # -- answering -------------------------------------------------------------------------
    async def ask(self, question: str, caller: Caller) -> ChatAnswer:
        final: ChatAnswer | None = None
        async for event in self.stream(question, caller):
            if event.event == "error":
                raise AssistantError(event.data["code"], event.data["message"])
            if event.event == "done":
                final = ChatAnswer.model_validate(event.data)
        assert final is not None  # stream always ends with done or error
        return final

    async def stream(self, question: str, caller: Caller) -> AsyncIterator[ChatEvent]:
        """Events as the graph progresses: route, sql, rows, answer, then done (or error)."""
        started = time.perf_counter()
        state: dict[str, Any] = {}
        try:
            text = self._question(question)
            self.ensure_database()
            async for update in self.graph.astream(
                ChatState(question=text), context=ChatContext(caller=caller), stream_mode="updates"
            ):
                for node, change in update.items():
                    state.update(change or {})
                    for event in _events_for(node, change or {}):
                        yield event
        except AssistantError as exc:
            await self._audit(
                caller,
                "chat.answer",
                "rejected",
                question=question,
                code=exc.code,
                error=exc.message,
            )
            yield ChatEvent(event="error", data=exc.body().model_dump())
            return
        except Exception as exc:
            log.exception("chat failed")
            await self._audit(caller, "chat.answer", "error", question=question, error=repr(exc))
            message = (
                "the local model is unavailable"
                if _is_connection_error(exc)
                else ("something went wrong while answering; the error was logged")
            )
            code = "model_unavailable" if _is_connection_error(exc) else "internal_error"
            yield ChatEvent(event="error", data={"code": code, "message": message})
            return
        outcome = state.get("outcome")
        answer = ChatAnswer(
            answer=state["answer"],
            sql=outcome.sql if outcome else None,
            rows=outcome.result.rows if outcome else [],
            columns=outcome.result.columns if outcome else [],
            truncated=outcome.result.truncated if outcome else False,
            chart=suggest_chart(outcome.result) if outcome else None,
            route=state["route"],
            attempts=outcome.attempts if outcome else 0,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        )
        answer.answer_id = await self._audit(
            caller,
            "chat.answer",
            "ok",
            question=question,
            sql=answer.sql,
            draft=outcome.draft if outcome else None,
            rows=len(answer.rows),
            elapsed_ms=answer.elapsed_ms,
        )
        yield ChatEvent(event="done", data=answer.model_dump(mode="json"))

    async def remember(self, answer_id: int, caller: Caller) -> bool:
        """The caller confirmed one of their own answers: keep its question and the SQL the
        model wrote (before scoping) as a verified example. Only answers this assistant gave
        can be remembered, so feedback cannot plant SQL of its own."""
        entry = await asyncio.to_thread(audit.find, self.engine, answer_id)
        if entry is None or (entry["action"], entry["outcome"], entry["actor_user_id"]) != (
            "chat.answer",
            "ok",
            caller.user_id,
        ):
            raise AssistantError("unknown_answer", f"there is no answer {answer_id} of yours")
        detail = json.loads(entry["detail"])
        self._ensure_built()
        if not detail.get("draft") or self.memory is None:
            return False
        await asyncio.to_thread(self.memory.remember, detail["question"].strip(), detail["draft"])
        await self._audit(caller, "chat.feedback", "ok", answer_id=answer_id)
        return True

    async def _audit(self, caller: Caller, action: str, outcome: str, **detail: Any) -> int | None:
        try:
            return await asyncio.to_thread(
                audit.record, self.engine, caller, action, outcome, **detail
            )
        except Exception:  # an unwritable audit table must not hide the answer or the error
            log.exception("could not write the audit record")
            return None

    def close(self) -> None:
        self.engine.dispose()
        self.replica.dispose()


_shared: Assistant | None = None


def share(assistant: Assistant | None) -> None:
    """Make one assistant available to the chat UI, which Chainlit loads by file path."""
    global _shared
    _shared = assistant


def shared() -> Assistant:
    if _shared is None:
        raise AssistantError("model_unavailable", "the assistant is not running in this process")
    return _shared


def _events_for(node: str, change: dict[str, Any]) -> list[ChatEvent]:
    if node == "supervisor":
        return [ChatEvent(event="route", data={"route": change["route"]})]
    if node == "sql_agent":
        outcome = change["outcome"]
        result = outcome.result
        return [
            ChatEvent(event="sql", data={"sql": outcome.sql, "attempts": outcome.attempts}),
            ChatEvent(event="rows", data=result.model_dump(mode="json")),
        ]
    if "answer" in change:
        return [ChatEvent(event="answer", data={"answer": change["answer"]})]
    return []


def _is_connection_error(exc: Exception) -> bool:
    import httpx
    import openai

    return isinstance(exc, openai.APIConnectionError | openai.APITimeoutError | httpx.ConnectError)
