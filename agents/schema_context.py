"""The schema as the model sees it: compact DDL with each table's and column's comment."""

from __future__ import annotations

from sqlalchemy import MetaData

from sql_guard.policy import Policy


def render_schema(metadata: MetaData, policy: Policy, tables: set[str]) -> str:
    """DDL for the given tables, in a stable order so the prompt prefix stays cacheable.

    >>> from services.db.models import Base
    >>> from sql_guard.policy import platform_policy
    >>> print(render_schema(Base.metadata, platform_policy(), {"positions"}).splitlines()[0])
    CREATE TABLE positions ( -- Current holdings per account and instrument, from the fills.
    """
    blocks = []
    for table in metadata.sorted_tables:
        if table.name not in tables:
            continue
        types = policy.tables[table.name]
        lines = [f"CREATE TABLE {table.name} ( -- {table.comment}"]
        for column in table.columns:
            lines.append(f"  {column.name} {types[column.name]}, -- {column.comment}")
        lines.append(");")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)
