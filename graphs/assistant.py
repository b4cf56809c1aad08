"""The assistant as the CLI, the API and the chat UI use it: a question in, an answer out.

It owns the graph and what the graph needs (engines, the guard's policy, the chat model),
checks the request before the graph sees it, and writes the audit trail.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from contextvars import ContextVar
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from agents import prompts
from agents.chart import ChartSpec, suggest_chart
from agents.model_selector import ModelSelector
from agents.question_cues import Term
from agents.rag_agent import RagAgent
from agents.router import Router
from agents.routing_policy import load_routing_policy
from agents.sql_agent import SqlAgent
from agents.sql_memory import SqlMemory
from graphs.chat.graph import build_chat_graph
from graphs.chat.nodes import ChatAgents
from graphs.chat.state import ChatContext, stored_types
from graphs.checkpointer import open_checkpointer, prune
from retrieval.embeddings import Embedder
from retrieval.index import DocumentIndex
from retrieval.library import DocumentLibrary
from retrieval.schema_linking import SchemaLinker
from services import audit
from services.catalog import catalog_from_engine, catalog_from_metadata
from services.db.engines import make_engine, make_replica_engine, sqlite_file
from services.db.migrate import require_schema
from services.db.models import Base
from services.errors import AssistantError
from services.identity import Caller, Role
from services.llm.errors import PrivacyViolation, ProviderUnavailable
from services.llm.privacy import PrivacyRefusal
from services.llm.providers import build_providers
from services.llm.usage import Usage, UsageCallback
from services.settings import Settings
from services.sql_examples import add_example, load_examples
from services.users import caller_for
from sql_guard.policy import platform_policy
from sql_guard.runner import Column, ReplicaRunner

log = logging.getLogger(__name__)


# The platform's bookkeeping, and document text (searched through the index, which applies each
# document's access rules), are not for the SQL agent
INTERNAL_TABLES = {"sql_examples", "document_versions", "document_chunks"}


# Words the platform defines, applied whatever the model writes (agents/question_cues.py).
# Staff are users too; a partially filled order is still working.
PLATFORM_TERMS = [
    Term(word="customer", table="users", column="role", values=[Role.CUSTOMER.value]),
    Term(word="open", table="orders", column="status", values=["open", "partially_filled"]),
]


def platform_notes(caller: Caller) -> str:
    """The platform's own conventions, told to the model after the schema."""
    return prompts.PLATFORM_NOTES.format(
        scope=prompts.SCOPE_CUSTOMER.format(user_id=caller.user_id)
        if caller.is_scoped
        else prompts.SCOPE_STAFF,
        today=date.today().isoformat(),
    )


class PartAnswer(BaseModel):
    """One part of a compound request and how it was answered."""

    question: str
    query_type: str
    answer: str
    sql: str | None = None
    citations: list[dict[str, Any]] = Field(default_factory=list)
    action: dict[str, Any] | None = None


class ChatAnswer(BaseModel):
    answer: str = Field(description="The answer as a sentence.")
    sql: str | None = Field(None, description="The SQL that ran, after the guard's rewrites.")
    rows: list[list[Any]] = Field(default_factory=list)
    columns: list[Column] = Field(default_factory=list)
    truncated: bool = False
    chart: ChartSpec | None = Field(None, description="How to draw the rows, when they suit it.")
    citations: list[dict[str, Any]] = Field(
        default_factory=list, description="Document passages the answer cites, [1] first."
    )
    route: str = Field(description="The request's kind: sql, document, action, general, reasoning.")
    routing: dict[str, Any] = Field(
        default_factory=dict, description="The router's labels, provider and reasons."
    )
    parts: list[PartAnswer] = Field(default_factory=list)
    attempts: int = 0
    elapsed_ms: float
    usage: Usage | None = Field(None, description="Tokens and cost of the model calls.")
    thread_id: str = Field(description="Pass it back to continue the conversation.")
    answer_id: int | None = Field(None, description="Quote it when giving feedback.")


class ChatEvent(BaseModel):
    event: Literal["route", "sql", "rows", "citations", "answer", "done", "error"]
    data: dict[str, Any]


_asking: ContextVar[Caller | None] = ContextVar("asking", default=None)


class Assistant:
    def __init__(
        self,
        settings: Settings,
        llm: BaseChatModel,
        *,
        embedder: Embedder | None = None,
        model_description: str = "",
        primer: Callable[[list[BaseMessage], int], Awaitable[None]] | None = None,
        index: DocumentIndex | None = None,
    ):
        """`llm` is the local model (unless Ollama is configured, which then takes its place);
        the cloud model comes from settings. `embedder` enables schema linking, the memory of
        verified questions and the router's classifier; without it (unit tests) the model sees
        every table it may query and the router uses its rules alone. `index` is the document
        index: with it come the document agent and the library that adds documents to it;
        without it document questions get a clear "no document index" answer."""
        self.settings = settings
        self.llm = llm
        self.embedder = embedder
        self.primer = primer
        self.model_description = model_description or type(llm).__name__
        self.engine: Engine = make_engine(settings.database_url)
        self.index = index
        self.rag = RagAgent(llm, index, settings.rag_top_k) if index is not None else None
        self.documents = (
            DocumentLibrary.from_settings(settings, self.engine, index)
            if index is not None
            else None
        )
        self.replica: Engine = make_replica_engine(
            settings.read_replica_url, settings.sql_timeout_s
        )
        self.policy = platform_policy(settings.sql_row_limit)
        self.routing_policy = load_routing_policy(settings.routing_policy_file)
        self.providers = build_providers(settings, embedded=llm, audit=self._audit_refusal)
        self.router = Router(self.routing_policy, embedder)
        self._graph = None
        self._pruning: asyncio.Task | None = None
        self._resources = AsyncExitStack()
        self.memory: SqlMemory | None = None
        self._db_file = sqlite_file(settings.database_url)
        self._schema_seen = False

    def _sql_agent(self) -> SqlAgent:
        """Built on first use: the catalog is read from the database, which must exist."""
        settings = self.settings
        catalog = catalog_from_engine(
            self.replica,
            base=catalog_from_metadata(Base.metadata),
            volatile=frozenset({"audit_log"}),
        ).without(INTERNAL_TABLES)
        if self.embedder is not None:
            self.memory = SqlMemory(
                self.embedder,
                load_examples(self.engine),
                persist=lambda q, sql: add_example(self.engine, q, sql),
            )
        dialect = (
            "postgres" if self.engine.dialect.name == "postgresql" else self.engine.dialect.name
        )
        return SqlAgent(
            self.llm,
            catalog=catalog,
            policy=self.policy,
            runner=ReplicaRunner(
                self.replica, max_rows=settings.sql_row_limit, timeout_s=settings.sql_timeout_s
            ),
            dialect=dialect,
            max_retries=settings.sql_max_retries,
            notes=platform_notes,
            terms=PLATFORM_TERMS,
            linker=SchemaLinker(self.embedder, catalog)
            if self.embedder is not None and settings.sql_schema_linking
            else None,
            memory=self.memory,
            samples=settings.sql_samples,
            examples=settings.sql_examples,
        )

    async def _ensure_graph(self):
        if self._graph is None:
            self.sql_agent = self._sql_agent()
            checkpointer = await self._resources.enter_async_context(
                open_checkpointer(self.settings.checkpoint_url, stored_types())
            )
            if days := self.settings.conversation_retention_days:
                # beside the first answer, not before it: the whole store is read
                self._pruning = asyncio.create_task(self._prune(checkpointer, days))
            agents = ChatAgents(
                router=self.router,
                models=ModelSelector(self.providers),
                sql=self.sql_agent,
                rag=self.rag,
                step_budget=self.settings.graph_step_budget,
            )
            self._graph = build_chat_graph(agents, checkpointer=checkpointer)
        return self._graph

    @staticmethod
    async def _prune(checkpointer, days: int) -> None:
        try:
            await prune(checkpointer, datetime.now(UTC) - timedelta(days=days))
        except Exception:  # a store it cannot read keeps its data, and the platform runs
            log.exception("old conversations could not be deleted")

    async def warm_up(self, callers: list[Caller] | None = None) -> None:
        """Have the model hold each caller's schema prompt processed (one slot each), so the
        first questions do not pay for it; by default staff and customers."""
        await self._ensure_graph()
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

    @staticmethod
    def _thread_key(caller: Caller, thread_id: str) -> str:
        """Threads are kept per user, so nobody continues (or reads) another's conversation."""
        owner = "operator" if caller.user_id is None else f"user-{caller.user_id}"
        return f"{owner}/{thread_id}"

    # -- answering -------------------------------------------------------------------------
    async def ask(self, question: str, caller: Caller, thread_id: str | None = None) -> ChatAnswer:
        final: ChatAnswer | None = None
        async for event in self.stream(question, caller, thread_id):
            if event.event == "error":
                raise AssistantError(event.data["code"], event.data["message"])
            if event.event == "done":
                final = ChatAnswer.model_validate(event.data)
        assert final is not None  # stream always ends with done or error
        return final

    async def stream(
        self, question: str, caller: Caller, thread_id: str | None = None
    ) -> AsyncIterator[ChatEvent]:
        """Events as the graph progresses: route, sql, rows, citations, answer, then done (or
        error). Without `thread_id` a new conversation starts; its id is in the done event."""
        started = time.perf_counter()
        thread_id = thread_id or uuid.uuid4().hex
        usage = UsageCallback()
        state: dict[str, Any] = {}
        token = _asking.set(caller)
        try:
            text = self._question(question)
            self.ensure_database()
            graph = await self._ensure_graph()
            if self.index is not None:  # documents another process ingested since
                await asyncio.to_thread(self.index.refresh)
            config = {
                "configurable": {"thread_id": self._thread_key(caller, thread_id)},
                "callbacks": [usage],
                "recursion_limit": 2 * self.settings.graph_step_budget + 6,
            }
            async for update in graph.astream(
                {"question": text},
                config,
                context=ChatContext(caller=caller),
                stream_mode="updates",
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
                usage=_usage(usage),
            )
            yield ChatEvent(event="error", data=exc.body().model_dump())
            return
        except Exception as exc:
            code, message = _failure(exc)
            if code == "internal_error":
                log.exception("chat failed")
            else:
                log.warning("chat failed: %s", exc)
            await self._audit(
                caller,
                "chat.answer",
                "error",
                question=question,
                code=code,
                error=repr(exc),
                usage=_usage(usage),
            )
            yield ChatEvent(event="error", data={"code": code, "message": message})
            return
        finally:
            _asking.reset(token)
        answer = _answer(state, usage, thread_id, started)
        answer.answer_id = await self._audit(
            caller,
            "chat.answer",
            "ok",
            question=question,
            thread_id=thread_id,
            route=answer.routing,
            sql=answer.sql,
            draft=_first_draft(state),
            rows=len(answer.rows),
            elapsed_ms=answer.elapsed_ms,
            usage=_usage(usage),
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
        await self._ensure_graph()
        if not detail.get("draft") or self.memory is None:
            return False
        await asyncio.to_thread(self.memory.remember, detail["question"].strip(), detail["draft"])
        await self._audit(caller, "chat.feedback", "ok", answer_id=answer_id)
        return True

    def _audit_refusal(self, refusal: PrivacyRefusal) -> None:
        """The provider layer refused a cloud call: that goes in the audit log, under the
        caller whose request it was."""
        caller = _asking.get() or Caller(role=Role.ADMIN)
        audit.record(
            self.engine, caller, "llm.privacy_refusal", "refused", **refusal.model_dump(mode="json")
        )

    async def _audit(self, caller: Caller, action: str, outcome: str, **detail: Any) -> int | None:
        try:
            return await asyncio.to_thread(
                audit.record, self.engine, caller, action, outcome, **detail
            )
        except Exception:  # an unwritable audit table must not hide the answer or the error
            log.exception("could not write the audit record")
            return None

    async def aclose(self) -> None:
        """Close the conversation store (once its pruning is done) and the database engines."""
        if self._pruning is not None:
            await self._pruning
            self._pruning = None
        await self._resources.aclose()
        self._graph = None
        self.close()

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
        decision = change["decision"]
        routing = decision.model_dump(mode="json")
        return [ChatEvent(event="route", data={"route": decision.query_type.value, **routing})]
    events: list[ChatEvent] = []
    for result in change.get("results", [])[-1:]:
        if result.outcome is not None:
            outcome = result.outcome
            events += [
                ChatEvent(event="sql", data={"sql": outcome.sql, "attempts": outcome.attempts}),
                ChatEvent(event="rows", data=outcome.result.model_dump(mode="json")),
            ]
        if result.citations:
            events.append(ChatEvent(event="citations", data={"citations": result.citations}))
    if node == "finish":
        events.append(ChatEvent(event="answer", data={"answer": change["answer"]}))
    return events


def _first_draft(state: dict[str, Any]) -> str | None:
    return next((r.outcome.draft for r in state.get("results", []) if r.outcome), None)


def _answer(
    state: dict[str, Any], usage: UsageCallback, thread_id: str, started: float
) -> ChatAnswer:
    results = state.get("results", [])
    decision = state["decision"]
    outcome = next((r.outcome for r in results if r.outcome), None)
    return ChatAnswer(
        answer=state["answer"],
        sql=outcome.sql if outcome else None,
        rows=outcome.result.rows if outcome else [],
        columns=outcome.result.columns if outcome else [],
        truncated=outcome.result.truncated if outcome else False,
        chart=suggest_chart(outcome.result) if outcome else None,
        citations=[c for r in results for c in r.citations],
        route=decision.query_type.value,
        routing=decision.model_dump(mode="json"),
        parts=[
            PartAnswer(
                question=r.part.text,
                query_type=r.part.query_type.value,
                answer=r.answer,
                sql=r.outcome.sql if r.outcome else None,
                citations=r.citations,
                action=r.action,
            )
            for r in results
        ],
        attempts=outcome.attempts if outcome else 0,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 1),
        usage=usage.total() if usage.usages else None,
        thread_id=thread_id,
    )


def _usage(usage: UsageCallback) -> dict[str, Any] | None:
    return usage.total().model_dump() if usage.usages else None


def _failure(exc: Exception) -> tuple[str, str]:
    """What the caller is told when answering failed outright."""
    import httpx
    import openai

    if isinstance(exc, PrivacyViolation):
        return "privacy_refused", "this request may only use a local model, and none is available"
    unavailable = ProviderUnavailable | openai.APIConnectionError | openai.APITimeoutError
    if isinstance(exc, unavailable | httpx.ConnectError):
        return "model_unavailable", "the local model is unavailable; please try again shortly"
    return "internal_error", "something went wrong while answering; the error was logged"
