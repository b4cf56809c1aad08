"""Execution accuracy of the NL->SQL pipeline on a golden set, beside a plain baseline.

A prediction is right when its rows equal the gold query's rows on the same database: as a
multiset, in order only when the gold query orders its result, with columns matched in any
order (a right answer that lists `name, age` instead of `age, name` is still right). A
prediction that fails to parse, is refused or fails to run is wrong. The baseline is the same
model given the plain CREATE TABLE statements and the question, with no guard, no examples, no
linking and no retries: what LangChain's SQL chain does. A pipeline question's latency is the
whole answer, its sentence included (`agents.answer_composer`), as the chat gives it; the SQL's
share is kept beside it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import sqlite3
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage
from pydantic import BaseModel, Field
from sqlalchemy import Engine, create_engine

from agents.answer_composer import compose_answer
from agents.sql import prompts
from agents.sql.agent import MAX_SQL_TOKENS, SqlAgent, parse_draft
from agents.sql.memory import SqlMemory
from agents.sql.semantic.instructions import InstructionMatcher
from agents.sql.semantic.metric_path import MetricPath
from evals.golden import GoldenQuestion
from graphs.build import sql_catalog
from retrieval.embeddings import Embedder
from retrieval.schema_linking import SchemaLinker
from services.catalog import Catalog, catalog_from_engine
from services.errors import AssistantError
from services.identity import Caller, Role
from services.llm.resilient import classify
from services.semantic.model import SemanticModel
from sql_guard.clock_pin import on_platform_clock
from sql_guard.policy import open_policy, platform_policy
from sql_guard.runner import QueryError, ReplicaRunner

log = logging.getLogger(__name__)
EVAL_ROW_CAP = 100_000
PLATFORM_TABLES = {"users", "orders", "trading_accounts", "positions"}


class QuestionResult(BaseModel):
    id: str
    category: str
    question: str
    gold_sql: str
    predicted_sql: str | None = None
    correct: bool = False
    error: str | None = None
    latency_s: float = Field(0.0, description="The whole answer: SQL and its sentence.")
    sql_latency_s: float = Field(0.0, description="The SQL alone.")
    answer: str | None = None
    source: str | None = None


class RunSummary(BaseModel):
    name: str
    correct: int
    total: int
    accuracy: float
    latency_p50_s: float
    latency_p95_s: float
    by_category: dict[str, dict[str, float]]


class EvalReport(BaseModel):
    golden: str
    model: str
    questions: int
    pipeline: RunSummary
    baseline: RunSummary | None = None
    gain: float | None = Field(None, description="Pipeline accuracy minus baseline accuracy.")
    pipeline_results: list[QuestionResult]
    baseline_results: list[QuestionResult] = Field(default_factory=list)


# -- comparing results -----------------------------------------------------------------------
def _normal(value: Any) -> Any:
    """SQLite hands back 79 or 79.0 for the same number depending on how it was computed;
    both must compare equal, also where columns are matched by their values' text."""
    if isinstance(value, float):
        value = round(value, 4) + 0.0
        return int(value) if value.is_integer() else value
    if isinstance(value, bytes):
        return value.hex()
    return value


def _rows(rows: list) -> list[tuple]:
    return [tuple(_normal(v) for v in row) for row in rows]


def _column_orders(pred: list[tuple], gold: list[tuple], width: int, limit: int = 120):
    """Orders of the predicted columns under which each matches a gold column's values."""

    def values(rows, i):
        return sorted(map(repr, (r[i] for r in rows)))

    gold_cols = [values(gold, j) for j in range(width)]
    pred_cols = [values(pred, i) for i in range(width)]
    choices = [[i for i in range(width) if pred_cols[i] == gold_cols[j]] for j in range(width)]
    found = 0
    for order in itertools.product(*choices):
        if len(set(order)) == width:
            yield order
            found += 1
            if found >= limit:
                return


def results_match(pred_rows: list, gold_rows: list, ordered: bool) -> bool:
    """
    >>> results_match([(2, "b"), (1, "a")], [("a", 1), ("b", 2)], ordered=False)
    True
    >>> results_match([(2, "b"), (1, "a")], [("a", 1), ("b", 2)], ordered=True)
    False
    >>> results_match([(1,)], [(1,), (1,)], ordered=False)
    False
    >>> results_match([(79.0, "a")], [("a", 79)], ordered=False)
    True
    """
    pred, gold = _rows(pred_rows), _rows(gold_rows)
    if len(pred) != len(gold):
        return False
    if not gold:
        return True
    width = len(gold[0])
    if len(pred[0]) != width:
        return False
    for order in _column_orders(pred, gold, width):
        mapped = [tuple(row[i] for i in order) for row in pred]
        if (mapped == gold) if ordered else (Counter(mapped) == Counter(gold)):
            return True
    return False


def is_ordered(sql: str) -> bool:
    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except sqlglot.errors.ParseError:
        return False
    return tree.args.get("order") is not None


# -- databases -------------------------------------------------------------------------------
@dataclass
class Database:
    path: Path
    engine: Engine
    catalog: Catalog
    raw_ddl: str
    is_platform: bool

    def execute(self, sql: str) -> list[tuple]:
        """Rows of `sql` on the platform's clock: a gold query asking the database for 'now'
        counts from the moment the guarded prediction was pinned to."""
        runner = ReplicaRunner(self.engine, max_rows=EVAL_ROW_CAP, timeout_s=30)
        return runner.run(on_platform_clock(sql)).rows


def _descriptions(path: Path) -> dict[str, dict[str, str]]:
    """defog ships column descriptions in `<db>.json` beside the database; use them. Its
    ewallet names tables as in its PostgreSQL original (`consumer_div.users`); the SQLite
    copy has no schemas, so the table is the name after the last dot."""
    meta = path.with_suffix(".json")
    if not meta.exists():
        return {}
    data = json.loads(meta.read_text())
    tables = data.get("table_metadata", {}) if isinstance(data, dict) else {}
    return {
        t.rsplit(".", 1)[-1]: {c["column_name"]: c.get("column_description", "") for c in cols}
        for t, cols in tables.items()
    }


def open_database(path: Path) -> Database:
    if not path.exists():
        raise FileNotFoundError(f"no database at {path}")
    engine = create_engine(f"sqlite:///file:{path.resolve()}?mode=ro&uri=true")
    with sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True) as conn:
        raw = [
            r[0]
            for r in conn.execute(
                "SELECT sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL "
                "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
            )
        ]
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    platform = names >= PLATFORM_TABLES
    # the platform's own database is shown to the model as the platform shows it (its
    # bookkeeping tables left out): with them the schema passes the size shown whole, each
    # question gets its own linked part of it, and no processed prompt is ever reused
    catalog = (
        sql_catalog(engine)
        if platform
        else catalog_from_engine(engine, descriptions=_descriptions(path))
    )
    return Database(path, engine, catalog, ";\n".join(raw) + ";", platform)


# -- the two contenders ----------------------------------------------------------------------
def _caller(question: GoldenQuestion) -> Caller:
    if question.user_id is not None:
        return Caller(user_id=question.user_id, role=Role.CUSTOMER)
    return Caller(role=Role.ADMIN)


def pipeline_agent(
    llm: BaseChatModel,
    db: Database,
    embedder: Embedder | None,
    samples: int,
    notes: Callable[[Caller], str],
    memory_examples: list[tuple[str, str]],
    semantic: SemanticModel | None = None,
    metric_path: bool = True,
    examples: int = 2,
) -> SqlAgent:
    """The platform's database gets the platform's semantic model; defog's and Spider's run
    without one (their operators never wrote one), with defog's per-question instructions.
    `examples` is the platform's `sql_examples`: how many verified similar questions the
    model sees."""
    semantic = semantic if db.is_platform else None
    policy = (
        platform_policy(EVAL_ROW_CAP)
        if db.is_platform
        else open_policy(db.catalog.mapping(), max_rows=EVAL_ROW_CAP)
    )
    return SqlAgent(
        llm,
        catalog=db.catalog,
        policy=policy,
        runner=ReplicaRunner(db.engine, max_rows=EVAL_ROW_CAP, timeout_s=30),
        dialect="sqlite",
        max_retries=2,
        notes=notes if db.is_platform else (lambda _c: ""),
        semantic=semantic,
        advice=InstructionMatcher(embedder, semantic.instructions)
        if embedder and semantic
        else None,
        metrics=MetricPath(embedder, semantic) if embedder and semantic and metric_path else None,
        linker=SchemaLinker(embedder, db.catalog) if embedder else None,
        memory=SqlMemory(embedder, memory_examples) if embedder and db.is_platform else None,
        samples=samples,
        examples=examples,
    )


async def run_pipeline(agent: SqlAgent, db: Database, q: GoldenQuestion) -> QuestionResult:
    result = QuestionResult(id=q.id, category=q.category, question=q.question, gold_sql=q.gold_sql)
    started = time.perf_counter()
    try:
        outcome = await agent.answer(q.question, _caller(q), q.instructions or None)
        result.predicted_sql, result.source = outcome.sql, outcome.source
        result.sql_latency_s = time.perf_counter() - started
        result.answer = await compose_answer(agent.llm, q.question, outcome.result)
        result.latency_s = time.perf_counter() - started
        result.correct = _judge(db, q, outcome.result.rows)
    except (AssistantError, QueryError) as exc:
        result.latency_s = time.perf_counter() - started
        result.error = str(exc)
    except Exception as exc:
        _model_failed(result, exc, started)
    return result


def _model_failed(result: QuestionResult, exc: Exception, started: float) -> None:
    """A model call that failed (a timeout on a loaded machine, a dropped connection) is this
    question's error, not the end of a run that may have an hour of answers behind it; any
    other exception is a bug and is raised."""
    failure = classify(exc)
    if failure is None:
        raise exc
    result.latency_s = time.perf_counter() - started
    result.error = f"the model {failure.kind.value}: {failure.detail}"
    log.warning("question %s: %s", result.id, result.error)


async def run_baseline(llm: BaseChatModel, db: Database, q: GoldenQuestion) -> QuestionResult:
    result = QuestionResult(id=q.id, category=q.category, question=q.question, gold_sql=q.gold_sql)
    question = q.question
    if q.user_id is not None:
        question += f" (I am the user with id {q.user_id}.)"
    if q.instructions:
        question = f"{q.instructions}\n{question}"
    started = time.perf_counter()
    try:
        reply = await llm.ainvoke(
            [HumanMessage(prompts.BASELINE.format(schema=db.raw_ddl, question=question))],
            max_tokens=MAX_SQL_TOKENS,
        )
        result.predicted_sql = parse_draft(str(reply.content)).rstrip(";")
        rows = db.execute(result.predicted_sql)
        result.latency_s = time.perf_counter() - started
        result.correct = _judge(db, q, rows)
    except (ValueError, QueryError) as exc:
        result.latency_s = time.perf_counter() - started
        result.error = str(exc)
    except Exception as exc:
        _model_failed(result, exc, started)
    return result


def _judge(db: Database, q: GoldenQuestion, rows: list) -> bool:
    for gold in [q.gold_sql, *q.gold_sql_alternatives]:
        try:
            if results_match(rows, db.execute(gold), is_ordered(gold)):
                return True
        except QueryError as exc:
            log.warning("gold SQL of %s fails: %s", q.id, exc)
    return False


def summarise(name: str, results: list[QuestionResult]) -> RunSummary:
    by_category: dict[str, list[bool]] = defaultdict(list)
    for r in results:
        by_category[r.category].append(r.correct)
    latencies = sorted(r.latency_s for r in results) or [0.0]
    correct = sum(r.correct for r in results)
    return RunSummary(
        name=name,
        correct=correct,
        total=len(results),
        accuracy=round(correct / max(1, len(results)), 4),
        latency_p50_s=round(statistics.median(latencies), 3),
        latency_p95_s=round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 3),
        by_category={
            c: {"correct": sum(v), "total": len(v), "accuracy": round(sum(v) / len(v), 4)}
            for c, v in sorted(by_category.items())
        },
    )


async def evaluate(
    questions: list[GoldenQuestion],
    db_dir: Path,
    llm: BaseChatModel,
    *,
    embedder: Embedder | None,
    baseline: bool,
    samples: int = 1,
    notes: Callable[[Caller], str] = lambda _c: "",
    semantic: SemanticModel | None = None,
    metric_path: bool = True,
    examples: int = 2,
    memory_examples: list[tuple[str, str]] | None = None,
    progress: Callable[[str, QuestionResult], None] | None = None,
    primer: Callable[[list[BaseMessage], int], Awaitable[None]] | None = None,
) -> tuple[list[QuestionResult], list[QuestionResult]]:
    """Questions run grouped by database, all pipeline runs of a database before its baseline
    runs, so each schema prefix is processed once per contender. With a `primer` each role's
    schema prompt is processed before the first question is timed, as the server does at
    start (`Assistant.warm_up`): without it the first question paid for 4,700 tokens of
    prompt, two minutes on two cores, and could time out."""
    piped: list[QuestionResult] = []
    based: list[QuestionResult] = []
    by_db: dict[str, list[GoldenQuestion]] = defaultdict(list)
    for q in sorted(questions, key=lambda q: (q.db, q.id)):
        by_db[q.db].append(q)
    for name, group in by_db.items():
        db = open_database(db_dir / name)
        agent = pipeline_agent(
            llm,
            db,
            embedder,
            samples,
            notes,
            memory_examples or [],
            semantic=semantic,
            metric_path=metric_path,
            examples=examples,
        )
        try:
            if primer is not None:
                await warm_up(agent, group, primer)
            for q in group:
                piped.append(await run_pipeline(agent, db, q))
                if progress:
                    progress("pipeline", piped[-1])
            for q in group if baseline else []:
                based.append(await run_baseline(llm, db, q))
                if progress:
                    progress("baseline", based[-1])
        finally:
            db.engine.dispose()
    return piped, based


async def warm_up(
    agent: SqlAgent,
    questions: list[GoldenQuestion],
    primer: Callable[[list[BaseMessage], int], Awaitable[None]],
) -> None:
    """Process the schema prompt of each role the questions are asked as, one slot each."""
    callers = {caller.role: caller for caller in map(_caller, questions)}
    prefixes = [agent.stable_prefix(caller) for caller in callers.values()]
    for slot, prefix in enumerate(p for p in prefixes if p is not None):
        await primer(prefix, slot)


def run(questions, db_dir, llm, **kwargs) -> tuple[list[QuestionResult], list[QuestionResult]]:
    return asyncio.run(evaluate(questions, db_dir, llm, **kwargs))
