"""Question -> SQL -> guard -> read replica, with the guard's or the database's objection fed
back to the model (at most `max_retries` times) when a draft cannot be used."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable
from datetime import date

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import MetaData

from agents import prompts
from agents.schema_context import render_schema
from services.errors import AssistantError
from services.identity import Caller
from sql_guard.guard import check
from sql_guard.policy import Policy
from sql_guard.runner import QueryError, QueryResult, ReplicaRunner

log = logging.getLogger(__name__)


class SqlDraft(BaseModel):
    sql: str = Field(min_length=1, description="One read-only SELECT statement.")


RESPONSE_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "sql_draft", "schema": SqlDraft.model_json_schema()},
}


class SqlOutcome(BaseModel):
    draft: str = Field(description="The SQL the model wrote.")
    sql: str = Field(description="The SQL that ran, after the guard's rewrites.")
    result: QueryResult
    attempts: int


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


class SqlAgent:
    def __init__(
        self,
        llm: BaseChatModel,
        *,
        policy: Policy,
        metadata: MetaData,
        runner: ReplicaRunner,
        dialect: str,
        max_retries: int,
        today: Callable[[], date] = date.today,
    ):
        self.llm = llm.bind(response_format=RESPONSE_FORMAT)
        self.policy = policy
        self.metadata = metadata
        self.runner = runner
        self.dialect = dialect
        self.max_retries = max_retries
        self.today = today

    def messages(self, question: str, caller: Caller) -> list[BaseMessage]:
        schema = render_schema(self.metadata, self.policy, self.policy.tables_for(caller.role))
        system = prompts.SQL_SYSTEM.format(
            schema=schema,
            scope=prompts.SCOPE_CUSTOMER if caller.is_scoped else prompts.SCOPE_STAFF,
            today=self.today().isoformat(),
        )
        return [SystemMessage(system), HumanMessage(question)]

    async def answer(self, question: str, caller: Caller) -> SqlOutcome:
        messages = self.messages(question, caller)
        problem = "the model gave no SQL"
        code = "model_no_sql"
        for attempt in range(1, self.max_retries + 2):
            reply = await self.llm.ainvoke(messages)
            text = str(reply.content)
            try:
                draft = parse_draft(text)
            except ValueError:
                problem, code = "the reply was not JSON with an sql field", "model_no_sql"
                log.warning("attempt %d: model reply held no SQL: %.200r", attempt, text)
            else:
                verdict = check(draft, policy=self.policy, caller=caller, dialect=self.dialect)
                if verdict.allowed:
                    try:
                        result = await asyncio.to_thread(self.runner.run, verdict.sql)
                        return SqlOutcome(
                            draft=draft, sql=verdict.sql, result=result, attempts=attempt
                        )
                    except QueryError as exc:
                        problem, code = f"the database said: {exc}", "sql_failed"
                else:
                    problem, code = verdict.explain(), "sql_rejected"
                log.warning("attempt %d: %s rejected: %s", attempt, draft, problem)
            messages = [
                *messages,
                AIMessage(text),
                HumanMessage(prompts.SQL_RETRY.format(problem=problem)),
            ]
        raise AssistantError(code, f"I could not write a query that answers this: {problem}")
