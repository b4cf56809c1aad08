"""Running accepted SQL on the read replica, bounded in rows and time.

The runner is the last line behind the guard and trusts nothing it is given: every statement
runs in a transaction that is rolled back (PostgreSQL's session-level advisory locks, which
outlive a rollback, are released too), a statement that returns no rows is an error, SQLite
is interrupted at the deadline (PostgreSQL's replica sessions carry a statement timeout), and
at most `max_rows` rows are fetched. The SQL goes to the driver as it is, with no parameters.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from services.telemetry import span


class Column(BaseModel):
    name: str
    type: str = Field(description="number, text, date, datetime, boolean or null")


class QueryResult(BaseModel):
    columns: list[Column]
    rows: list[list[Any]]
    truncated: bool = Field(description="True when more rows existed than the cap allowed.")
    elapsed_ms: float


class QueryError(RuntimeError):
    """The database refused or aborted the query; the message is safe to show."""


class ReplicaRunner:
    def __init__(self, engine: Engine, *, max_rows: int, timeout_s: float):
        self.engine = engine
        self.max_rows = max_rows
        self.timeout_s = timeout_s

    def run(self, sql: str) -> QueryResult:
        """The rows, in a span naming the database and how many rows came back (not the SQL,
        whose literals may be personal data)."""
        system = self.engine.dialect.name
        with span("sql.execute", {"db.system.name": system, "db.operation.name": "SELECT"}) as s:
            result = self._run(sql)
            s.set_attributes(
                {"db.response.returned_rows": len(result.rows), "sql.truncated": result.truncated}
            )
        return result

    def _run(self, sql: str) -> QueryResult:
        started = time.perf_counter()
        deadline = started + self.timeout_s
        try:
            with self.engine.connect() as conn:
                raw = conn.connection.driver_connection
                is_sqlite = conn.dialect.name == "sqlite"
                if is_sqlite:
                    raw.set_progress_handler(lambda: int(time.perf_counter() > deadline), 20_000)
                try:
                    # straight to the driver: text() would read ':word' inside a string
                    # literal as a bind parameter, and no_parameters keeps '%' literal
                    result = conn.execution_options(no_parameters=True).exec_driver_sql(sql)
                    if not result.returns_rows:  # a command, not a query: rolled back below
                        raise QueryError("the statement returned no rows; only queries may run")
                    names = list(result.keys())
                    fetched = result.fetchmany(self.max_rows + 1)
                finally:
                    if is_sqlite:
                        raw.set_progress_handler(None, 0)
                    conn.rollback()
                    if conn.dialect.name == "postgresql":
                        _release_session_locks(conn)
        except (OperationalError, DBAPIError) as exc:
            message = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            if "interrupted" in message or "statement timeout" in message:
                message = f"query took longer than {self.timeout_s:g} s and was stopped"
            raise QueryError(message) from exc
        rows = [[_plain(v) for v in row] for row in fetched[: self.max_rows]]
        return QueryResult(
            columns=[Column(name=n, type=_kind(rows, i)) for i, n in enumerate(names)],
            rows=rows,
            truncated=len(fetched) > self.max_rows,
            elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        )


def _release_session_locks(conn: Connection) -> None:
    """PostgreSQL's session-level advisory locks outlive a rollback; a pooled connection must
    not hand one to the next query."""
    try:
        conn.exec_driver_sql("SELECT pg_advisory_unlock_all()")
        conn.rollback()
    except DBAPIError:
        if not conn.invalidated:
            conn.invalidate()  # a connection in doubt does not go back to the pool


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    return value


def _kind(rows: list[list[Any]], index: int) -> str:
    for row in rows:
        value = row[index]
        if value is None:
            continue
        if isinstance(value, bool):
            return "boolean"
        if isinstance(value, int | float):
            return "number"
        if isinstance(value, datetime):
            return "datetime"
        if isinstance(value, date):
            return "date"
        return "text"
    return "null"
