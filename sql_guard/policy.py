"""Which tables and columns each role may query, and how rows are scoped to their owner.

The platform's own policy is derived from the SQLAlchemy models: a table with a `user_id` column
is owned by that user (`users` by its `id`), and a column whose comment says "(personal data)" or
"(payment data)" is sensitive. A policy file (YAML or JSON, same fields as `Policy`) points the
guard at any other database.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pydantic import BaseModel, Field
from sqlalchemy import Boolean, Date, DateTime, Float, Integer, MetaData, Numeric

from services.identity import Role

Schema = dict[str, dict[str, str]]  # SQLGlot's mapping format: {table: {column: type}}


class Policy(BaseModel):
    tables: Schema = Field(description="Allow-listed catalog in SQLGlot mapping format.")
    owner_columns: dict[str, str] = Field(
        default_factory=dict, description="Table -> column holding the owning user's id."
    )
    sensitive_columns: dict[str, list[str]] = Field(
        default_factory=dict, description="Table -> columns with personal or payment data."
    )
    role_tables: dict[Role, list[str]] = Field(
        default_factory=dict,
        description="Tables each role may query; a role absent here may query every table.",
    )
    sensitive_roles: list[Role] = Field(
        default_factory=lambda: [Role.CUSTOMER, Role.ADMIN],
        description="Roles that may read sensitive columns (customers only ever see their own).",
    )
    max_rows: int = Field(200, ge=1, description="Outer LIMIT added or lowered to this.")

    def tables_for(self, role: Role) -> set[str]:
        return set(self.role_tables.get(role, self.tables))


def _sql_type(column_type) -> str:  # noqa: ANN001 - any SQLAlchemy type
    if isinstance(column_type, Integer):
        return "INT"
    if isinstance(column_type, Numeric | Float):
        return "DOUBLE"
    if isinstance(column_type, DateTime):
        return "TIMESTAMP"
    if isinstance(column_type, Date):
        return "DATE"
    if isinstance(column_type, Boolean):
        return "BOOLEAN"
    return "TEXT"


def policy_from_metadata(metadata: MetaData, max_rows: int = 200) -> Policy:
    tables: Schema = {}
    owners: dict[str, str] = {}
    sensitive: dict[str, list[str]] = {}
    for table in metadata.sorted_tables:
        tables[table.name] = {c.name: _sql_type(c.type) for c in table.columns}
        if table.name == "users":
            owners[table.name] = "id"
        elif "user_id" in table.columns:
            owners[table.name] = "user_id"
        marked = [
            c.name
            for c in table.columns
            if "(personal data)" in (c.comment or "") or "(payment data)" in (c.comment or "")
        ]
        if marked:
            sensitive[table.name] = marked
    customer_tables = sorted(set(owners) | {"market_prices"})
    staff_tables = sorted(set(tables) - {"audit_log"})
    return Policy(
        tables=tables,
        owner_columns=owners,
        sensitive_columns=sensitive,
        role_tables={Role.CUSTOMER: customer_tables, Role.SUPPORT: staff_tables},
        max_rows=max_rows,
    )


def platform_policy(max_rows: int = 200) -> Policy:
    from services.db.models import Base

    return policy_from_metadata(Base.metadata, max_rows)


def load_policy(path: Path) -> Policy:
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return Policy.model_validate(data)


def open_policy(schema: Schema, max_rows: int = 200) -> Policy:
    """A policy for an arbitrary schema: every table allowed, nothing scoped or sensitive."""
    return Policy(tables=schema, max_rows=max_rows)
