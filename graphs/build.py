"""How the assistant's chat graph is put together, once, on first use.

The facade (`graphs.assistant`) builds its services when it is made; the graph waits for the
first request because it needs the database: the SQL agent reads its catalog from it and checks
the semantic model against it (a broken file answers nothing). What that build needs, and only
that, is here, so the facade reads as what a request goes through.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager

from langchain_core.language_models.chat_models import BaseChatModel
from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy import Engine

from agents.rag.agent import RagAgent
from agents.routing.evidence import RoutingEvidence
from agents.routing.model_selector import ModelSelector
from agents.routing.router import Router
from agents.sql import prompts
from agents.sql.agent import SqlAgent
from agents.sql.memory import SqlMemory
from agents.sql.semantic.instructions import InstructionMatcher
from agents.sql.semantic.metric_path import MetricPath
from graphs.chat.graph import build_chat_graph
from graphs.chat.nodes import ChatAgents
from graphs.chat.state import stored_types
from graphs.checkpointer import open_checkpointer
from retrieval.embeddings import Embedder, MultilingualEmbedder
from retrieval.index import DocumentIndex
from retrieval.schema_evidence import SchemaEvidence
from retrieval.schema_linking import SchemaLinker
from services.catalog import Catalog, catalog_from_engine, catalog_from_metadata
from services.db.models import Base
from services.identity import Caller
from services.llm.providers import ProviderHandle
from services.semantic.model import SemanticModel
from services.settings import Settings
from sql_guard.policy import Policy
from sql_guard.runner import ReplicaRunner
from sql_guard.semantic_check import require_sound
from tools.context import ToolServices
from tools.registry import ToolKind, ToolRegistry

# The platform's bookkeeping, and document text (searched through the index, which applies each
# document's access rules), are not for the SQL agent
INTERNAL_TABLES = {
    "sql_examples",
    "sql_example_reviews",
    "document_versions",
    "document_chunks",
    "notification_preferences",  # notifications' bookkeeping (services/notifications)
    "notification_events",
    "outbox_events",
    "processed_events",
    "api_keys",  # credentials of other systems (services/auth)
    "user_passwords",  # the chat UI's sign-in passwords, hashed (services/auth)
    "stripe_customers",  # payments' bookkeeping (services/payments)
    "stripe_events",
}


def sql_catalog(replica: Engine) -> Catalog:
    """The tables the SQL agent is told about: the database's, less the platform's own
    bookkeeping."""
    return catalog_from_engine(
        replica, base=catalog_from_metadata(Base.metadata), volatile=frozenset({"audit_log"})
    ).without(INTERNAL_TABLES)


def platform_notes(caller: Caller) -> str:
    """The platform's own conventions, told to the model after the schema."""
    return prompts.PLATFORM_NOTES.format(
        scope=prompts.SCOPE_CUSTOMER.format(user_id=caller.user_id)
        if caller.is_scoped
        else prompts.SCOPE_STAFF,
    )


def runner(replica: Engine, settings: Settings) -> ReplicaRunner:
    """Runs the SQL agent's queries on the read replica, within the row and time limits."""
    return ReplicaRunner(replica, max_rows=settings.sql_row_limit, timeout_s=settings.sql_timeout_s)


def require_sound_model(
    semantic: SemanticModel,
    catalog: Catalog,
    policy: Policy,
    runner: ReplicaRunner,
    dialect: str,
    tools: ToolRegistry,
) -> None:
    """Check the semantic model against the database and the read tools it may name."""
    read_tools = tools.names(ToolKind.READ)
    require_sound(semantic, catalog, policy, runner, dialect, read_tools)


def sql_agent(
    settings: Settings,
    llm: BaseChatModel,
    embedder: Embedder | None,
    *,
    replica: Engine,
    policy: Policy,
    semantic: SemanticModel,
    tools: ToolRegistry,
    dialect: str,
    min_database: float,
    min_any_language: float,
    examples: Callable[[], list[tuple[str, str]]],
    remember: Callable[[SqlMemory], None],
) -> SqlAgent:
    """Built on first use: the catalog is read from the database, which must exist, and
    the semantic model checked against it (a broken file answers nothing). With an embedder the
    memory of verified questions is made from `examples` and handed to `remember` before the
    check, as the assistant's feedback keeps adding to it."""
    catalog = sql_catalog(replica)
    memory: SqlMemory | None = None
    if embedder is not None:
        memory = SqlMemory(embedder, examples())
        remember(memory)
    run = runner(replica, settings)
    require_sound_model(semantic, catalog, policy, run, dialect, tools)
    return SqlAgent(
        llm,
        catalog=catalog,
        policy=policy,
        runner=run,
        dialect=dialect,
        max_retries=settings.sql_max_retries,
        notes=platform_notes,
        semantic=semantic,
        advice=InstructionMatcher(embedder, semantic.instructions)
        if embedder is not None
        else None,
        metrics=MetricPath(embedder, semantic)
        if embedder is not None and settings.sql_metric_path
        else None,
        linker=SchemaLinker(embedder, catalog)
        if embedder is not None and settings.sql_schema_linking
        else None,
        subjects=SchemaEvidence(
            embedder,
            catalog,
            semantic,
            multilingual=MultilingualEmbedder(),
            multilingual_below=min_database,
        )
        if embedder is not None
        else None,
        min_database=min_database,
        min_any_language=min_any_language,
        memory=memory,
        samples=settings.sql_samples,
        examples=settings.sql_examples,
    )


def routing_evidence(
    index: DocumentIndex | None, subjects: SchemaEvidence | None
) -> RoutingEvidence | None:
    """What the platform holds, for the router to weigh: the documents and the database's
    subjects, or nothing when there is neither."""
    if index is not None or subjects is not None:
        return RoutingEvidence(index, subjects)
    return None


def conversation_store(settings: Settings) -> AbstractAsyncContextManager[BaseCheckpointSaver]:
    """The checkpointer that keeps conversations, restoring only the types a chat state holds."""
    return open_checkpointer(settings.checkpoint_url, stored_types())


def chat_graph(
    settings: Settings,
    *,
    router: Router,
    providers: Mapping[str, ProviderHandle],
    sql: SqlAgent,
    rag: RagAgent | None,
    tools: ToolRegistry,
    tool_services: ToolServices,
    checkpointer: BaseCheckpointSaver,
):
    """The compiled chat graph over the agents, keeping its conversations in `checkpointer`."""
    agents = ChatAgents(
        router=router,
        models=ModelSelector(providers),
        sql=sql,
        rag=rag,
        step_budget=settings.graph_step_budget,
        tools=tools,
        tool_services=tool_services,
        confirmation_ttl_s=settings.action_confirmation_ttl_s,
    )
    return build_chat_graph(agents, checkpointer=checkpointer)
