"""The assistant as the CLI, the API and the chat UI use it: a question in, an answer out.

It owns the graph and what the graph needs (engines, the guard's policy, the chat model),
checks the request before the graph sees it, and records each turn. How the graph is built is
`graphs.build`; the domain services its tools act through, `graphs.domain`; how conversations
are kept, listed and pruned, `graphs.threads`; the audit trail, `graphs.audit_trail`.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langgraph.types import Command
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from agents.actions.pending import Decision
from agents.actions.planner import ToolCall
from agents.actions.planner import stable_prefix as action_prefix
from agents.rag.agent import RagAgent
from agents.routing.followup import Turn
from agents.routing.policy import load_routing_policy
from agents.routing.router import Router
from agents.routing.vocabulary import load_routing_vocabulary
from agents.sql.memory import SqlMemory
from graphs import build, threads
from graphs.answers import (
    ChatAnswer,
    ChatEvent,
    ThreadDetail,
    ThreadSummary,
    build_answer,
    events_for,
    failure,
    final_answer,
    first_draft,
    usage_of,
)
from graphs.audit_trail import AuditTrail
from graphs.chat.state import MAX_HISTORY, ChatContext, read_state
from graphs.domain import domain_services
from graphs.feedback import ExampleFeedback
from retrieval.embeddings import Embedder
from retrieval.index import DocumentIndex
from retrieval.library import DocumentLibrary
from services.db.engines import make_engine, make_replica_engine, sqlite_file
from services.db.migrate import require_schema
from services.errors import AssistantError
from services.identity import Caller, Role
from services.llm.providers import build_providers
from services.llm.usage import UsageCallback
from services.semantic.loader import load_semantic_model
from services.settings import Settings
from services.trading.instruments import listed_symbols
from services.users import caller_for
from sql_guard.policy import platform_policy
from tools.registry import ToolKind
from tools.tool_set import platform_tools

log = logging.getLogger(__name__)


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
        verified questions, the router's classifier, its schema evidence (what the database
        holds about a request) and the SQL agent's refusal of questions the database holds
        nothing about; without it (unit tests) the model sees every table it may query and the
        router uses its rules and, with an index, what the documents hold. `index` is the document
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
        self.semantic = load_semantic_model(settings.semantic_model_file)
        self.routing_policy = load_routing_policy(settings.routing_policy_file)
        self.routing_vocabulary = load_routing_vocabulary(settings.routing_vocabulary_file)
        self.audit = AuditTrail(self.engine)
        self.providers = build_providers(settings, embedded=llm, audit=self.audit.refusal)
        self.tools = platform_tools()
        self.router = Router(
            self.routing_policy,
            embedder,
            tool_sensitivity={
                name: self.tools.get(name).sensitivity for name in self.tools.names(ToolKind.READ)
            },
            vocabulary=self.routing_vocabulary,
            symbols=self._listed_symbols(),
        )
        domain = domain_services(settings, self.engine, documents=self.documents, index=index)
        self.market, self.trading = domain.market, domain.trading
        self.notifications, self.payment_services = domain.notifications, domain.payments
        self.tool_services = domain.tool_services
        self._graph = None
        self._checkpointer = None  # the conversation store, opened with the graph
        self._pruning: asyncio.Task | None = None
        self._resources = AsyncExitStack()
        self.memory: SqlMemory | None = None
        self.feedback = ExampleFeedback(self.engine, lambda: self.memory, self.audit.record)
        self._db_file = sqlite_file(settings.database_url)
        self._schema_seen = False
        self.warmed = False  # readiness: set once warm_up() has finished, well or not

    def _listed_symbols(self) -> list[str]:
        """The instruments the firm lists, which the router names by their tickers; none while
        the database has no schema (the first request then says the database is missing)."""
        try:
            return listed_symbols(self.replica)
        except SQLAlchemyError as exc:
            log.warning("the router knows no instruments' symbols: %s", exc.__class__.__name__)
            return []

    @property
    def dialect(self) -> str:
        return "postgres" if self.engine.dialect.name == "postgresql" else self.engine.dialect.name

    def require_semantic_model(self) -> None:
        """Check the semantic model against the database; `SemanticModelError` naming the
        file's line when it is broken (the server calls this before it starts)."""
        self.ensure_database()
        catalog = build.sql_catalog(self.replica)
        runner = build.runner(self.replica, self.settings)
        build.require_sound_model(
            self.semantic, catalog, self.policy, runner, self.dialect, self.tools
        )

    async def _ensure_graph(self):
        """The graph, built on the first request (`graphs.build`): the SQL agent, the router's
        evidence of what the platform holds, the conversation store and its pruning."""
        if self._graph is None:
            self.sql_agent = build.sql_agent(
                self.settings,
                self.llm,
                self.embedder,
                replica=self.replica,
                policy=self.policy,
                semantic=self.semantic,
                tools=self.tools,
                dialect=self.dialect,
                min_database=self.routing_policy.evidence.database,
                min_any_language=self.routing_policy.evidence.database_any_language,
                examples=self.feedback.load,
                remember=self._remember,
            )
            evidence = build.routing_evidence(self.index, self.sql_agent.subjects)
            if evidence is not None:
                self.router.evidence = evidence
            checkpointer = await self._resources.enter_async_context(
                build.conversation_store(self.settings)
            )
            self._checkpointer = checkpointer
            if days := self.settings.conversation_retention_days:
                # beside the first answer, not before it: the whole store is read
                self._pruning = asyncio.create_task(threads.prune_old(checkpointer, days))
            self._graph = build.chat_graph(
                self.settings,
                router=self.router,
                providers=self.providers,
                sql=self.sql_agent,
                rag=self.rag,
                tools=self.tools,
                tool_services=self.tool_services,
                checkpointer=checkpointer,
            )
        return self._graph

    def _remember(self, memory: SqlMemory) -> None:
        """The SQL agent's memory, which approved feedback adds to from now on."""
        self.memory = memory

    async def warm_up(self, callers: list[Caller] | None = None) -> None:
        """Have the model hold each caller's schema prompt processed (one slot each), and the
        last caller's tool list, so the first questions and requests to act do not pay for
        them; by default staff and customers."""
        await self._ensure_graph()
        callers = callers or [Caller(role=Role.ADMIN), Caller(user_id=0, role=Role.CUSTOMER)]
        prefixes = [self.sql_agent.stable_prefix(caller) for caller in callers]
        # then a customer's request to act: the tool list is a prompt of its own
        prefixes.append(action_prefix(self.tools.available(callers[-1])))
        try:
            for slot, prefix in enumerate(p for p in prefixes if p is not None):
                if self.primer is not None:
                    await self.primer(prefix, slot)
                else:
                    await self.llm.ainvoke(prefix, max_tokens=1)
        except Exception:  # warming is an optimisation; a failure shows up on real requests
            log.exception("warm-up failed")
        finally:
            self.warmed = True

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

    # -- conversations -----------------------------------------------------------------------
    async def threads(self, caller: Caller) -> list[ThreadSummary]:
        """The caller's conversations, the latest first."""
        await self._ensure_graph()
        return await threads.summaries(self._checkpointer, caller)

    async def thread(self, caller: Caller, thread_id: str) -> ThreadDetail:
        """One of the caller's conversations: its turns (question, route, answer, SQL) and the
        action it waits on, if any; another user's thread is "not found", as a missing one."""
        graph = await self._ensure_graph()
        return await threads.detail(graph, caller, thread_id)

    async def delete_thread(self, caller: Caller, thread_id: str) -> None:
        """Forget one of the caller's conversations, whole."""
        await self.thread(caller, thread_id)  # a thread that is not theirs is not found
        await threads.delete(self._checkpointer, caller, thread_id)
        await self.audit.record(caller, "thread.delete", "ok", thread_id=thread_id)

    # -- answering -------------------------------------------------------------------------
    async def ask(self, question: str, caller: Caller, thread_id: str | None = None) -> ChatAnswer:
        return await final_answer(self.stream(question, caller, thread_id))

    async def resume(
        self, thread_id: str, caller: Caller, *, approve: bool, action_id: str | None = None
    ) -> ChatAnswer:
        """The caller's yes or no to the action waiting in their thread `thread_id`."""
        return await final_answer(self.stream_resume(thread_id, caller, approve, action_id))

    def stream(
        self,
        question: str,
        caller: Caller,
        thread_id: str | None = None,
        *,
        history: list[Turn] | None = None,
    ) -> AsyncIterator[ChatEvent]:
        """Events as the graph progresses: route, sql, rows, citations, answer, then done (or
        error); a write waiting for the caller's yes sends `confirm` before done. Without
        `thread_id` a new conversation starts (with `history` as its earlier turns, when a
        client keeps the conversation itself); its id is in the done event."""
        return self._run(caller, thread_id or uuid.uuid4().hex, question=question, history=history)

    async def propose(self, tool: str, arguments: dict[str, Any], caller: Caller) -> ChatAnswer:
        """A write another system asks for directly: previewed, and waiting in a new thread for
        the caller's yes exactly as if they had asked in the chat."""
        call = ToolCall(tool=tool, arguments=arguments)
        thread_id = uuid.uuid4().hex
        return await final_answer(self._run(caller, thread_id, question=f"call {tool}", call=call))

    def stream_resume(
        self, thread_id: str, caller: Caller, approve: bool, action_id: str | None = None
    ) -> AsyncIterator[ChatEvent]:
        return self._run(caller, thread_id, decision=(approve, action_id))

    async def _run(
        self,
        caller: Caller,
        thread_id: str,
        *,
        question: str | None = None,
        decision: tuple[bool, str | None] | None = None,
        call: ToolCall | None = None,
        history: list[Turn] | None = None,
    ) -> AsyncIterator[ChatEvent]:
        started = time.perf_counter()
        usage = UsageCallback()
        state: dict[str, Any] = {}
        pending: dict[str, Any] | None = None
        asked = question if question is not None else f"(resume {thread_id})"
        self.audit.answering(caller)
        try:
            self.ensure_database()
            graph = await self._ensure_graph()
            config = {
                "configurable": {"thread_id": threads.thread_key(caller, thread_id)},
                "callbacks": [usage],
                "recursion_limit": 2 * self.settings.graph_step_budget + 6,
            }
            if decision is None:
                # a tool call, or none: a call from an earlier turn never carries over
                graph_input: Any = {"question": self._question(asked), "tool_call": call}
                if history:  # only a new thread's: a kept conversation has its own
                    graph_input["history"] = history[-MAX_HISTORY:]
                if self.index is not None:  # documents another process ingested since
                    await asyncio.to_thread(self.index.refresh)
                await asyncio.to_thread(self.feedback.catch_up)  # examples approved elsewhere
            else:
                graph_input, state = await self._decision(graph, config, caller, *decision)
            async for update in graph.astream(
                graph_input,
                config,
                context=ChatContext(caller=caller),
                stream_mode="updates",
                # one checkpoint per turn (and at a pause for confirmation), not one per step:
                # a turn cut short is asked again, never resumed halfway (bench api: 7 ms of CPU
                # less a turn)
                durability="exit",
            ):
                for node, change in update.items():
                    if node == "__interrupt__":
                        pending = change[0].value
                        yield ChatEvent(event="confirm", data={"pending_action": pending})
                        continue
                    state.update(change or {})
                    for event in events_for(node, change or {}):
                        yield event
        except AssistantError as exc:
            await self.audit.record(
                caller,
                "chat.answer",
                "rejected",
                question=asked,
                code=exc.code,
                error=exc.message,
                usage=usage_of(usage),
                usages=usage.usages,
            )
            yield ChatEvent(event="error", data=exc.body().model_dump())
            return
        except Exception as exc:
            code, message = failure(exc)
            if code == "internal_error":
                log.exception("chat failed")
            else:
                log.warning("chat failed: %s", exc)
            await self.audit.record(
                caller,
                "chat.answer",
                "error",
                question=asked,
                code=code,
                error=repr(exc),
                usage=usage_of(usage),
                usages=usage.usages,
            )
            yield ChatEvent(event="error", data={"code": code, "message": message})
            return
        answer = build_answer(state, usage, thread_id, started, pending)
        answer.answer_id = await self.audit.record(
            caller,
            "chat.answer",
            "ok",
            question=asked,
            thread_id=thread_id,
            route=answer.routing,
            sql=answer.sql,
            draft=first_draft(state),
            rows=len(answer.rows),
            pending_action=pending,
            elapsed_ms=answer.elapsed_ms,
            usage=usage_of(usage),
            usages=usage.usages,
        )
        yield ChatEvent(event="done", data=answer.model_dump(mode="json"))

    async def _decision(
        self, graph, config: dict, caller: Caller, approve: bool, action_id: str | None
    ) -> tuple[Command, dict[str, Any]]:
        """The resume command for the action waiting in this thread, and the thread's state;
        refused when nothing (or another action) waits: a replayed or stale approval does
        nothing."""
        snapshot = await graph.aget_state(config)
        waiting = [i.value for i in snapshot.interrupts]
        if not waiting or (action_id is not None and waiting[0]["id"] != action_id):
            await self.audit.record(
                caller, "action.confirm", "rejected", action_id=action_id, code="no_pending_action"
            )
            what = f"action {action_id}" if action_id else "no action"
            raise AssistantError(
                "no_pending_action",
                f"{what} is waiting for your confirmation in this conversation"
                if not action_id
                else f"{what} is not waiting for your confirmation in this conversation",
            )
        resume = Decision(approve=approve, action_id=waiting[0]["id"])
        return Command(resume=resume.model_dump()), read_state(snapshot.values)

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
