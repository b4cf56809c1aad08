"""Which tables and columns each role may query, and how rows are scoped to their owner.

The platform's own policy (`platform_policy`) is derived from the SQLAlchemy models: a table with
a `user_id` column is owned by that user (`users` by its `id`), and a column whose comment says
"(personal data)" or "(payment data)" is sensitive. `open_policy` allows every table of any
schema to everyone, with nothing scoped or sensitive. `load_policy` reads a policy file.

Policy file format
------------------
(`sql_guard/POLICY.md` says the same at more length, for people writing one.)
A YAML or JSON file (by suffix: `.json` is JSON, anything else YAML) with these fields; only
`tables` is required:

    tables:                    # the allow-listed catalog, SQLGlot's mapping format
      orders: {id: INT, user_id: INT, symbol: TEXT, status: TEXT}
      users: {id: INT, email: TEXT, country: TEXT}
      prices: {symbol: TEXT, close: DOUBLE}
    owner_columns:             # table -> column holding the owning user's id; customers'
      orders: user_id          #   queries only ever see rows where it equals their id
      users: id
    sensitive_columns:         # table -> columns with personal or payment data
      users: [email]
    role_tables:               # role -> tables it may query; a role left out may query all
      customer: [orders, users, prices]
      support: [orders, users, prices]
    sensitive_roles: [customer, admin]   # roles that may read sensitive columns (default)
    allowed_functions: [my_udf]          # names added to the built-in function allow-list
    max_rows: 200                        # the outer LIMIT every query gets (default 200)

Customers' queries are rewritten so that every owned table only shows rows whose owner column
equals their user id; support and admin are not scoped. Roles are `customer`, `support` and
`admin`. Every name must exist: an owner or sensitive column of an unknown table, a role given
an unknown table, or a system catalog listed as a table (`sqlite_master`, `pg_*`,
`information_schema`, ...) is refused when the file is loaded. A function on the guard's
deny-list (sleeps, file readers, ...) stays refused even if listed in `allowed_functions`.

>>> policy = Policy.model_validate({"tables": {"t": {"a": "INT"}}, "owner_columns": {"t": "a"}})
>>> policy.tables_for(Role.CUSTOMER), policy.max_rows
({'t'}, 200)
>>> Policy.model_validate({"tables": {"t": {"a": "INT"}}, "owner_columns": {"t": "b"}})
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for Policy
  Value error, owner column t.b is not a column of the catalog ...
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, PrivateAttr, model_validator
from sqlalchemy import Boolean, Date, DateTime, Float, Integer, MetaData, Numeric

from services.identity import Role
from sql_guard.catalog import Catalog, build_catalog, is_system_name

Schema = dict[str, dict[str, str]]  # SQLGlot's mapping format: {table: {column: type}}

# The platform's own records: who did what (audit_log) and the SQL agent's memory of verified
# examples (sql_examples, whose SQL and questions come from every user). Admins only.
ADMIN_ONLY_TABLES = frozenset(
    {
        "audit_log",
        "sql_examples",
        "sql_example_reviews",  # customers' confirmations waiting for staff (services/sql_examples)
        "document_versions",
        "document_chunks",
        "outbox_events",  # domain events on their way to the bus (services/events)
        "processed_events",
        "api_keys",  # credentials of other systems (services/auth)
        "user_passwords",  # the chat UI's sign-in passwords, hashed (services/auth)
    }
)
# Tables without an owner that customers may read: market data and the instrument list.
PUBLIC_TABLES = frozenset({"market_prices", "quotes", "price_bars", "instruments"})


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
    allowed_functions: list[str] = Field(
        default_factory=list,
        description="Function names added to the built-in allow-list (never to denied ones).",
    )
    max_rows: int = Field(200, ge=1, description="Outer LIMIT added or lowered to this.")

    _catalogs: dict[str, Catalog] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _names_exist(self) -> Policy:
        for table in self.tables:
            schema, _, name = table.rpartition(".")
            if is_system_name(name, schema):
                raise ValueError(f"{table} is a system catalog and cannot be allow-listed")
        for table, column in self.owner_columns.items():
            if column not in self.tables.get(table, {}):
                raise ValueError(f"owner column {table}.{column} is not a column of the catalog")
        for table, columns in self.sensitive_columns.items():
            for column in columns:
                if column not in self.tables.get(table, {}):
                    raise ValueError(
                        f"sensitive column {table}.{column} is not a column of the catalog"
                    )
        for role, tables in self.role_tables.items():
            unknown = sorted(set(tables) - set(self.tables))
            if unknown:
                raise ValueError(f"role {role} is given unknown tables: {', '.join(unknown)}")
        return self

    def tables_for(self, role: Role) -> set[str]:
        return set(self.role_tables.get(role, self.tables))

    def catalog(self, dialect: str) -> Catalog:
        """This policy with names normalised for `dialect` (built once per dialect)."""
        catalog = self._catalogs.get(dialect)
        if catalog is None:
            catalog = self._catalogs[dialect] = build_catalog(self, dialect)
        return catalog


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
    # an admin-only table with a user_id (a user's API keys, password) is not the user's to read
    customer_tables = sorted((set(owners) - ADMIN_ONLY_TABLES) | (PUBLIC_TABLES & set(tables)))
    staff_tables = sorted(set(tables) - ADMIN_ONLY_TABLES)
    return Policy(
        tables=tables,
        owner_columns=owners,
        sensitive_columns=sensitive,
        # another system (Role.SERVICE) sees what support sees, personal data masked
        role_tables={
            Role.CUSTOMER: customer_tables,
            Role.SUPPORT: staff_tables,
            Role.SERVICE: staff_tables,
        },
        max_rows=max_rows,
    )


def platform_policy(max_rows: int = 200) -> Policy:
    """The platform's own catalog and roles: customers read the tables they own rows in and
    the market's prices; support reads every table but the audit log and the SQL agent's
    example memory, and no personal or payment data; admins read everything.

    >>> policy = platform_policy()
    >>> sorted(policy.sensitive_columns["users"])
    ['date_of_birth', 'email', 'full_name', 'phone']
    >>> [t for t in ("audit_log", "sql_examples") if t in policy.tables_for(Role.SUPPORT)]
    []
    >>> [role.value for role in Role if ADMIN_ONLY_TABLES <= policy.tables_for(role)]
    ['admin']
    """
    from services.db.models import Base

    return policy_from_metadata(Base.metadata, max_rows)


def load_policy(path: Path) -> Policy:
    """A policy file (YAML, or JSON when the name ends in .json); see the module docstring."""
    text = path.read_text(encoding="utf-8")
    data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    return Policy.model_validate(data)


def open_policy(schema: Schema, max_rows: int = 200) -> Policy:
    """A policy for an arbitrary schema: every table allowed, nothing scoped or sensitive.

    >>> open_policy({"t": {"a": "INT"}}).tables_for(Role.SUPPORT)
    {'t'}
    """
    return Policy(tables=schema, max_rows=max_rows)
