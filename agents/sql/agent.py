"""Question -> SQL -> guard -> read replica.

The steps, top to bottom: find the tables the question needs (schema linking) and similar
verified questions (memory); reuse a verified query outright when the question is a near copy;
for an aggregate question the semantic model's measures fit, have the model choose measures,
groups and filters and let the semantic layer write the SQL; otherwise have the model write one
through a JSON schema, feeding the guard's or the database's objection back (at most
`max_retries` times); optionally draw several drafts and keep the result most of them agree on
(self-consistency). The semantic model's names (`FROM open_orders`, `fees_charged`) are
expanded by the guard, so every rule and the row scoping see base tables.

Before any of that, a question whose subject maps onto nothing the schema or the semantic model
holds (`retrieval.schema_evidence`) is declined, naming the subject in the question's own words:
a model handed "what share of client assets is in cold storage?" over a schema with no custody
data writes a query anyway, and its answer is an invented figure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable
from pydantic import BaseModel, Field, ValidationError
from sqlglot import exp

from agents.sql import prompts
from agents.sql.join_keys import misjoined
from agents.sql.memory import REUSE_SIMILARITY, Example, SqlMemory
from agents.sql.quiet_slips import mended
from agents.sql.repair import repair
from agents.sql.semantic.instructions import InstructionMatcher
from agents.sql.semantic.metric_path import METRIC_FORMAT, MetricPath, parse_metric_query
from agents.sql.semantic.prompt import mention_notes, semantic_notes
from agents.sql.tree import parse as parse_sql
from agents.sql.value_checks import foreign_values, unheld_values
from retrieval.schema_evidence import SchemaEvidence
from retrieval.schema_linking import SchemaLinker
from services import clock
from services.catalog import Catalog
from services.errors import AssistantError
from services.identity import Caller, Role
from services.llm.errors import is_cut_off
from services.semantic.expand import expand
from services.semantic.mentions import MentionFinder
from services.semantic.metric_query import MetricQueryError, compile_metric_query
from services.semantic.model import SemanticModel
from sql_guard.guard import check
from sql_guard.policy import Policy
from sql_guard.runner import QueryError, QueryResult, ReplicaRunner

log = logging.getLogger(__name__)

MAX_SQL_TOKENS = 400  # a query longer than this is a model that lost its way
# An example costs ~2 s of prompt processing on two cores: show only ones that resemble the question
MIN_EXAMPLE_SIMILARITY = 0.55
# At temperature 0 the embedded model answers an objection with the very draft it objected to
RETRY_TEMPERATURE = 0.5
CUT_OFF = f"the reply ran past {MAX_SQL_TOKENS} tokens; write a shorter query"
DIALECT_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL", "tsql": "T-SQL", "mysql": "MySQL"}


class SqlDraft(BaseModel):
    sql: str = Field(min_length=1, description="One read-only SELECT statement.")


RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "sql_draft", "schema": SqlDraft.model_json_schema()},
}


class SqlOutcome(BaseModel):
    draft: str = Field(description="The SQL the model wrote (or memory supplied).")
    sql: str = Field(description="The SQL that ran, after the guard's rewrites.")
    result: QueryResult
    attempts: int = Field(description="Model calls spent on the accepted draft.")
    source: str = Field("model", description="model, metric, memory or vote")
    tables: list[str] = Field(default_factory=list, description="Tables the prompt showed.")


def parse_draft(text: str) -> str:
    """The SQL in a model reply: JSON first, then a fenced block, then a bare SELECT.

    >>> parse_draft('{"sql": "SELECT 1"}')
    'SELECT 1'
    >>> parse_draft("```sql\\nSELECT 2\\n```")
    'SELECT 2'
    """
    stripped = text.strip()
    try:
        return SqlDraft.model_validate(json.loads(stripped)).sql.strip()
    except (ValueError, ValidationError):
        pass
    fenced = re.search(r"```(?:sql)?\s*(.+?)```", stripped, re.S | re.I)
    if fenced:
        return fenced.group(1).strip()
    bare = re.search(r"\b(SELECT|WITH)\b.+", stripped, re.S | re.I)
    if bare:
        return bare.group(0).strip()
    raise ValueError("the reply held no SQL")


def _parsed(text: str) -> str | None:
    try:
        return parse_draft(text)
    except ValueError:
        return None


def result_key(result: QueryResult) -> tuple:
    """Results that hold the same rows (in any order) share a key; used for voting."""
    rows = Counter(
        tuple(round(v, 6) if isinstance(v, float) else v for v in r) for r in result.rows
    )
    return tuple(sorted(rows.items(), key=repr))


def sample_seed(messages: Sequence[BaseMessage], draw: int) -> int:
    """The seed of a sampled draft: from the prompt's last message and the draw's number, so a
    question gets the same answer on every run (and two evaluation runs differ only where the
    code does; unseeded, the same pipeline varied by one or two questions per set). Only as far
    as the server's numbers repeat: llama.cpp computes a prompt it meets for the first time in
    other batches than one it has cached, which can change a sample.

    >>> q = [HumanMessage("Question: how many?")]
    >>> sample_seed(q, 2) == sample_seed(list(q), 2) != sample_seed(q, 3)
    True
    """
    return zlib.crc32(f"{messages[-1].content}\x00{draw}".encode())


def name_hint(problem: str, catalog: Catalog) -> str:
    """Where the names an objection mentions really live: the model's most common mistake is a
    column taken from a table the query never joined, and next to it a table named for a value
    (`FROM withdrawals`, where a withdrawal is a payment whose direction says so).

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> c = Catalog(tables=[TableInfo(name="accounts", columns=[
    ...     ColumnInfo(name="account_number", type="TEXT"),
    ...     ColumnInfo(name="kind", type="TEXT", values=["cash", "margin"])])])
    >>> name_hint("no column account_number in positions", c)
    ' (account_number is a column of accounts)'
    >>> name_hint("no such table: margins", c)
    " (margins: 'margin' is a value of accounts.kind)"
    """
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", problem))
    unquoted = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", re.sub(r"'[^']*'", "", problem)))
    homes: dict[str, list[str]] = {}
    values: dict[str, list[str]] = {}
    for table in catalog.tables:
        for column in table.columns:
            if column.name in words:
                homes.setdefault(column.name, []).append(table.name)
            for value in column.values:
                for word in unquoted & {value, f"{value}s", f"{value}es"} - {column.name}:
                    values.setdefault(f"{word}: '{value}'", []).append(
                        f"{table.name}.{column.name}"
                    )
    hints = [f"{c} is a column of {', '.join(t)}" for c, t in homes.items()]
    hints += [f"{w} is a value of {', '.join(cs)}" for w, cs in values.items()]
    return f" ({'; '.join(hints)})" if hints else ""


class OffSchema(AssistantError):
    """The question's subject is nowhere in the schema or the semantic model."""

    def __init__(self, subject: str):
        super().__init__("off_schema", prompts.OFF_SCHEMA.format(subject=subject))
        self.subject = subject


@dataclass
class _Attempt:
    draft: str | None
    problem: str  # why it was refused, or, beside an outcome, what speaks against it
    code: str
    outcome: SqlOutcome | None = None
    ran: str = ""  # the SQL that reached the guard (the draft, with terms or repaired)


class SqlAgent:
    def __init__(
        self,
        llm: BaseChatModel,
        *,
        catalog: Catalog,
        policy: Policy,
        runner: ReplicaRunner,
        dialect: str,
        max_retries: int,
        notes: Callable[[Caller], str] = lambda _caller: "",
        linker: SchemaLinker | None = None,
        memory: SqlMemory | None = None,
        samples: int = 1,
        examples: int = 2,
        max_prompt_tables: int = 20,
        semantic: SemanticModel | None = None,
        advice: InstructionMatcher | None = None,
        metrics: MetricPath | None = None,
        subjects: SchemaEvidence | None = None,
        min_database: float = 0.5,
        min_any_language: float = 1.0,
    ):
        """Up to `max_prompt_tables` tables the whole schema goes into the prompt, identical
        for every question so llama.cpp reuses its processed prefix (a fresh 2,000-token schema
        costs ~40 s on two cores, a cached one nothing). Larger schemas are cut down to the
        tables schema linking finds. `semantic` is what the business's words mean: shown after
        the schema, and its names expanded in the model's SQL before the guard; `advice`
        finds its instructions that apply to a question; `metrics` sends the aggregate
        questions its measures fit the structured way first (`agents.sql.semantic.metric_path`).
        `subjects` measures whether the database holds a question's subject at all; below
        `min_database` and `min_any_language` (the routing policy's `evidence.database` and
        `evidence.database_any_language`) the agent declines."""
        self.llm = llm
        # tables more roles read come first: a role's schema prompt is then the wider role's
        # up to the tables only that role reads, and llama.cpp serves a support agent's first
        # question from the admin's processed prompt instead of processing the schema anew
        self.catalog = catalog.ordered(
            lambda name: -sum(name in policy.tables_for(r) for r in Role)
        )
        self.policy = policy
        self.runner = runner
        self.dialect = dialect
        self.max_retries = max_retries
        self.notes = notes
        self.linker = linker
        self.memory = memory
        self.samples = samples
        self.examples = examples
        self.max_prompt_tables = max_prompt_tables
        self.semantic = semantic
        self.mentions = MentionFinder(semantic) if semantic else None
        self.advice = advice
        self.metrics = metrics
        self.subjects = subjects
        self.min_database = min_database
        self.min_any_language = min_any_language

    # -- prompt ----------------------------------------------------------------------------
    def _allowed(self, caller: Caller) -> set[str]:
        return self.policy.tables_for(caller.role) & {t.name for t in self.catalog.tables}

    def tables_for(self, question: str, caller: Caller) -> set[str]:
        """The tables the prompt shows: all the caller may query, or, for a schema too large
        to show whole, the ones schema linking finds. (Naming the linked tables as a hint
        beside a whole schema was measured on the demo set: the model then joined them all.)"""
        allowed = self._allowed(caller)
        if self.linker is None or len(allowed) <= self.max_prompt_tables:
            return allowed
        return self.linker.link(question) & allowed

    def messages(
        self,
        question: str,
        caller: Caller,
        tables: set[str],
        shots: list[Example],
        instructions: str | None = None,
    ) -> list[BaseMessage]:
        system = prompts.SQL_SYSTEM.format(
            dialect=DIALECT_NAMES.get(self.dialect, self.dialect),
            schema=self.catalog.ddl(tables),
            semantic=semantic_notes(self.semantic, clock.today()) if self.semantic else "",
            notes=self.notes(caller),
        )
        messages: list[BaseMessage] = [SystemMessage(system.strip())]
        for shot in shots:
            messages += [
                HumanMessage(prompts.QUESTION.format(instructions="", question=shot.question)),
                AIMessage(json.dumps({"sql": shot.sql})),
            ]
        extra = prompts.INSTRUCTIONS.format(text=instructions) if instructions else ""
        for advice in self.advice.match(question) if self.advice else []:
            extra += prompts.ADVICE.format(text=advice.text)
        if mentioned := self.mentions.find(question) if self.mentions else []:
            extra += prompts.NAMED.format(text=mention_notes(mentioned, self.dialect))
        messages.append(
            HumanMessage(prompts.QUESTION.format(instructions=extra, question=question))
        )
        return messages

    def stable_prefix(self, caller: Caller) -> list[BaseMessage] | None:
        """The part of the SQL prompt shared by every question of every caller of this role:
        the system message up to its last line, which names the caller (None when the schema
        is too large to be shown whole, so the prompt depends on the question)."""
        tables = self._allowed(caller)
        if len(tables) > self.max_prompt_tables:
            return None
        system = str(self.messages("", caller, tables, [])[0].content)
        return [SystemMessage(system.rsplit("\n", 1)[0])]

    # -- answering -------------------------------------------------------------------------
    async def answer(
        self,
        question: str,
        caller: Caller,
        instructions: str | None = None,
        *,
        llm: Runnable | None = None,
        earlier_sql: str | None = None,
    ) -> SqlOutcome:
        """`llm` overrides the agent's model for this question (the router's choice).
        `earlier_sql` is the query of the turn a follow-up changes: an answer whose rows are
        that query's rows again is doubted, since the follow-up asked for something else (the
        embedded model, handed "same for bank transfers" or "now only limit orders", often
        returned the earlier query as it was)."""
        llm = llm or self.llm
        shots = self.memory.search(question, self.examples) if self.memory else []
        shots = [s for s in shots if s.similarity >= MIN_EXAMPLE_SIMILARITY]
        if shots and shots[0].similarity >= REUSE_SIMILARITY:
            reused = await self._try(shots[0].sql, caller, attempts=0)
            if reused.outcome:
                log.info("reused verified SQL for %r", question)
                return reused.outcome.model_copy(update={"source": "memory"})
        await self._check_subject(question)
        tables = self.tables_for(question, caller)
        messages = self.messages(question, caller, tables, shots, instructions)
        if (
            self.metrics
            and self.metrics.fits(question)
            and (chosen := await self._metric_answer(llm, messages, caller))
        ):
            return chosen.model_copy(update={"tables": sorted(tables)})
        earlier = await self._result_of(earlier_sql, caller) if earlier_sql else None
        first = await self._with_retries(llm, messages, caller, earlier)
        if first.outcome is None:
            raise AssistantError(
                first.code, f"I could not write a query that answers this: {first.problem}"
            )
        outcome = first.outcome.model_copy(update={"tables": sorted(tables)})
        if self.samples <= 1:
            return outcome
        return await self._vote(llm, messages, caller, outcome)

    async def _check_subject(self, question: str) -> None:
        """Raise `OffSchema` when the database holds nothing close to the question."""
        if self.subjects is None:
            return
        match = await asyncio.to_thread(self.subjects.match, question)
        if match.holds(self.min_database, self.min_any_language):
            return
        subject = await asyncio.to_thread(self.subjects.subject, question)
        log.info(
            "declined %r: off the schema (%.2f, nearest %r)", question, match.score, match.nearest
        )
        raise OffSchema(subject)

    async def _result_of(self, sql: str, caller: Caller) -> tuple | None:
        """The result key of a query an earlier turn ran, run again for this caller; None
        when it no longer runs."""
        attempt = await self._executed(sql, caller, attempts=0)
        return result_key(attempt.outcome.result) if attempt.outcome else None

    async def _with_retries(
        self,
        llm: Runnable,
        messages: list[BaseMessage],
        caller: Caller,
        earlier: tuple | None = None,
    ) -> _Attempt:
        """A retry asks the question again with every objection so far noted after it. Shown
        its own rejected draft in a conversation, the embedded model wrote it again (14 of the
        17 questions left unanswered on the four sets stayed so; asked afresh, 9 of 17). An
        answer with a doubt is asked again too, and stands when no later draft clears it."""
        attempt = _Attempt(None, "the model gave no SQL", "model_no_sql")
        doubted: _Attempt | None = None  # the first answer that ran despite a doubt
        problems: list[str] = []
        for number in range(1, self.max_retries + 2):
            asked = messages
            if problems:
                note = prompts.SQL_RETRY.format(problems="; ".join(problems))
                asked = [*messages[:-1], HumanMessage(f"{messages[-1].content}\n{note}")]
            sampling = (
                {"temperature": RETRY_TEMPERATURE, "seed": sample_seed(asked, number)}
                if number > 1
                else {}
            )
            text = await self._reply(llm, asked, **sampling)
            if text is None:
                attempt = _Attempt(None, CUT_OFF, "model_no_sql")
                log.warning("attempt %d: %s", number, CUT_OFF)
            elif (draft := _parsed(text)) is None:
                attempt = _Attempt(None, "the reply was not JSON with an sql field", "model_no_sql")
                log.warning("attempt %d: model reply held no SQL: %.200r", number, text)
            else:
                attempt = await self._try(draft, caller, attempts=number, earlier=earlier)
                if attempt.outcome and not attempt.problem:
                    return attempt
                doubted = doubted or (attempt if attempt.outcome else None)
                log.warning("attempt %d: %s rejected: %s", number, draft, attempt.problem)
            problem = attempt.problem + name_hint(attempt.problem, self.catalog)
            if problem not in problems:
                problems.append(problem)
        return doubted or attempt

    async def _metric_answer(
        self, llm: Runnable, messages: list[BaseMessage], caller: Caller
    ) -> SqlOutcome | None:
        """The answer of the model's choice of measures, compiled by the semantic layer; None
        when it made none, or what it chose does not compile, run or stand its checks."""
        asked = [*messages[:-1], HumanMessage(f"{messages[-1].content}\n{prompts.METRIC_CHOICE}")]
        text = await self._reply(llm, asked, response_format=METRIC_FORMAT)
        query = parse_metric_query(text or "")
        if query is None or self.semantic is None:
            log.info("no metric query in %.200r", text)
            return None
        try:
            sql = compile_metric_query(query, self.semantic, self.dialect)
        except MetricQueryError as exc:
            log.info("metric query not compiled: %s", exc)
            return None
        attempt = await self._try(sql, caller, attempts=1)
        if attempt.outcome is None or attempt.problem:
            log.info("metric query %s not kept: %s", sql, attempt.problem)
            return None
        return attempt.outcome.model_copy(update={"source": "metric"})

    async def _reply(
        self,
        llm: Runnable,
        messages: list[BaseMessage],
        response_format: dict = RESPONSE_FORMAT,
        **sampling,
    ) -> str | None:
        """The model's reply, or None when it ran past `MAX_SQL_TOKENS` (OpenAI's client then
        raises, the half-written JSON being unparseable): the model lost its way, which is a
        draft to retry, not a failed provider."""
        try:
            reply = await llm.ainvoke(
                messages, response_format=response_format, max_tokens=MAX_SQL_TOKENS, **sampling
            )
        except Exception as exc:
            if is_cut_off(exc):
                return None
            raise
        return str(reply.content)

    async def _try(
        self, draft: str, caller: Caller, attempts: int, earlier: tuple | None = None
    ) -> _Attempt:
        """Run a draft (`_executed`); what speaks against the answer it gives becomes its
        problem (`_doubts`). `earlier` is the result key of the query a follow-up changes."""
        attempt = await self._executed(draft, caller, attempts)
        if attempt.outcome and (
            found := await self._doubts(attempt.ran, attempt.outcome, caller, earlier)
        ):
            attempt.problem, attempt.code = "; ".join(found), "sql_doubtful"
        return attempt

    async def _executed(self, draft: str, caller: Caller, attempts: int) -> _Attempt:
        """Run a draft with its quiet slips mended (`agents.sql.quiet_slips`); when the guard or
        the database refuses it, run its repair instead, if it has one (the refusal of the
        draft itself is what goes back to the model)."""
        sql = mended(draft, self.catalog, self.dialect)
        attempt = await self._run(draft, sql, caller, attempts)
        # repaired as base tables: `open_orders` is a row set, not a misspelt `orders`
        repaired = (
            None if attempt.outcome else repair(self._expanded(sql), self.catalog, self.dialect)
        )
        if repaired:
            second = await self._run(draft, repaired, caller, attempts)
            if second.outcome:
                log.info("repaired draft: %s -> %s", draft, repaired)
                attempt = second
        return attempt

    async def _doubts(
        self, sql: str, outcome: SqlOutcome, caller: Caller, earlier: tuple | None = None
    ) -> list[str]:
        """Values the query looks for where they are not, and joins on keys that point at
        different rows (`agents.sql.join_keys`), judged on the tables the caller may read only:
        an objection naming another table would tell the model what the caller may not see.
        The semantic model's names are expanded first, so their columns are known. A follow-up
        whose result is `earlier`, the result of the query it changes, changed nothing."""
        visible = self.catalog.without(
            {t.name for t in self.catalog.tables} - self._allowed(caller)
        )
        sql = self._expanded(sql)
        found = foreign_values(sql, visible, self.dialect) + misjoined(sql, visible, self.dialect)
        rows = outcome.result.rows
        if not rows or (len(rows) == 1 and all(v in (None, 0) for v in rows[0])):
            found += await asyncio.to_thread(
                unheld_values, sql, visible, self.dialect, lambda *a: self._holds(caller, *a)
            )
        if earlier is not None and result_key(outcome.result) == earlier:
            found.append(prompts.UNCHANGED)
        return found

    def _expanded(self, sql: str) -> str:
        """`sql` with the semantic model's names expanded; as it is when that fails (the guard
        says why)."""
        tree = parse_sql(sql, self.dialect) if self.semantic else None
        try:
            return expand(tree, self.semantic, self.dialect).sql(self.dialect) if tree else sql
        except ValueError:
            return sql

    def _holds(self, caller: Caller, table: str, column: str, value: str) -> bool | None:
        """Whether a row the caller may see holds `value` in `column`; None when the guard
        will not let the caller ask (a table or column not theirs to read)."""
        probe = exp.select("1").from_(table).where(exp.column(column).eq(value)).limit(1)
        verdict = check(
            probe.sql(self.dialect), policy=self.policy, caller=caller, dialect=self.dialect
        )
        if not verdict.allowed:
            return None
        try:
            return bool(self.runner.run(verdict.sql).rows)
        except QueryError:
            return None

    async def _run(self, draft: str, sql: str, caller: Caller, attempts: int) -> _Attempt:
        verdict = check(
            sql, policy=self.policy, caller=caller, dialect=self.dialect, semantic=self.semantic
        )
        if not verdict.allowed:
            return _Attempt(draft, verdict.explain(), "sql_rejected")
        try:
            result = await asyncio.to_thread(self.runner.run, verdict.sql)
        except QueryError as exc:
            return _Attempt(draft, f"the database said: {exc}", "sql_failed")
        outcome = SqlOutcome(draft=draft, sql=verdict.sql, result=result, attempts=attempts)
        return _Attempt(draft, "", "", outcome, ran=sql)

    async def _vote(
        self,
        llm: Runnable,
        messages: list[BaseMessage],
        caller: Caller,
        greedy: SqlOutcome,
    ) -> SqlOutcome:
        """Draw more drafts at a higher temperature; keep the result most drafts agree on (the
        greedy draft wins ties)."""
        candidates = [greedy]
        for draw in range(1, self.samples):
            text = await self._reply(
                llm, messages, temperature=0.7, seed=sample_seed(messages, draw)
            )
            if (draft := _parsed(text or "")) is None:
                continue
            tried = await self._try(draft, caller, attempts=greedy.attempts)
            if tried.outcome:
                candidates.append(tried.outcome)
        votes = Counter(result_key(c.result) for c in candidates)
        best_key, best_votes = votes.most_common(1)[0]
        if votes[result_key(greedy.result)] == best_votes:
            return greedy
        winner = next(c for c in candidates if result_key(c.result) == best_key)
        return winner.model_copy(update={"source": "vote", "tables": greedy.tables})
