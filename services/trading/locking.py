"""One transaction that holds the account while it checks and writes, so two orders racing
for the same cash cannot both see it free.

SQLite has no row locks: `BEGIN IMMEDIATE` takes the database's write lock before the first
read, and a second writer waits for it (the engine's busy timeout). PostgreSQL locks the
account row (`SELECT ... FOR UPDATE`, `lock_account`) inside the transaction; the second
transaction waits there and then reads what the first committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, select

from services.db.models import TradingAccount


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that commits on success and rolls back on any error."""
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def lock_account(conn: Connection, account_id: int, *, lock: bool = True):  # noqa: ANN201
    """The account's row (a RowMapping), locked until the transaction ends when `lock` (a
    no-op on SQLite, where `write_transaction` already holds the whole database)."""
    table = TradingAccount.__table__
    query = select(table).where(table.c.id == account_id)
    if lock:
        query = query.with_for_update()
    return conn.execute(query).mappings().first()
