"""A policy seen through one dialect's rules for identifiers.

The guard normalises every identifier of a query the way the dialect's engine resolves it
(SQLite, T-SQL and DuckDB ignore case, PostgreSQL folds unquoted names to lower case, MySQL
keeps table names as written), so the policy's names are normalised the same way once, here,
and every lookup afterwards is a plain dictionary access.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, NormalizationStrategy
from sqlglot.schema import MappingSchema

from services.identity import Role

SYSTEM_SCHEMAS = frozenset(
    "pg_catalog pg_toast information_schema sys mysql performance_schema master msdb tempdb "
    "model temp sqlite_temp".split()
)
SYSTEM_TABLE_PREFIXES = ("sqlite_", "pg_", "duckdb_")
SYSTEM_TABLES = frozenset(
    "sysobjects syscolumns syscomments sysusers syslogins sysdatabases sysprocesses sysindexes "
    "sysservers sysfiles sysxlogins sysmembers syspermissions systypes information_schema".split()
)


def is_system_name(name: str, schema: str = "") -> bool:
    """True for the database's own catalogs, which no policy may expose.

    >>> is_system_name("sqlite_master"), is_system_name("tables", "information_schema")
    (True, True)
    >>> is_system_name("orders")
    False
    """
    name, schema = name.lower(), schema.lower()
    return (
        schema in SYSTEM_SCHEMAS or name in SYSTEM_TABLES or name.startswith(SYSTEM_TABLE_PREFIXES)
    )


def normalize_name(name: str, strategy: NormalizationStrategy, quoted: bool = False) -> str:
    """A name as the engine resolves it.

    >>> normalize_name("Orders", NormalizationStrategy.LOWERCASE)
    'orders'
    >>> normalize_name("Orders", NormalizationStrategy.LOWERCASE, quoted=True)
    'Orders'
    >>> normalize_name("Orders", NormalizationStrategy.CASE_INSENSITIVE, quoted=True)
    'orders'
    """
    if strategy is NormalizationStrategy.CASE_INSENSITIVE:
        return name.lower()
    if strategy is NormalizationStrategy.LOWERCASE and not quoted:
        return name.lower()
    if strategy is NormalizationStrategy.UPPERCASE and not quoted:
        return name.upper()
    return name


def normalize_identifiers(
    tree: exp.Expression, dialect: str, nodes: Iterable[exp.Expression] | None = None
) -> None:
    """Normalise every identifier of `tree` in place (ignoring SQLGlot's comment directives,
    which a query could otherwise use to keep a name from being normalised). `nodes` are the
    tree's nodes when the caller has walked it already.

    >>> import sqlglot
    >>> t = sqlglot.parse_one('SELECT "Symbol" FROM Orders', read="postgres")
    >>> normalize_identifiers(t, "postgres"); t.sql("postgres")
    'SELECT "Symbol" FROM orders'
    """
    strategy = Dialect.get_or_raise(dialect).NORMALIZATION_STRATEGY
    if strategy is NormalizationStrategy.CASE_SENSITIVE:
        return
    for node in tree.walk() if nodes is None else nodes:
        if not isinstance(node, exp.Identifier):
            continue
        name = node.this
        if isinstance(name, str):
            normalized = normalize_name(name, strategy, bool(node.args.get("quoted")))
            if normalized != name:
                node.set("this", normalized)


@dataclass(frozen=True)
class Catalog:
    """The allow-listed tables of a policy with normalised names, ready for lookups."""

    dialect: str
    columns: dict[str, tuple[str, ...]]  # table -> its columns, in order
    types: dict[str, dict[str, str]]  # table -> column -> type
    owners: dict[str, str]  # table -> owner column
    sensitive: dict[str, frozenset[str]]  # table -> sensitive columns
    role_tables: dict[Role, frozenset[str] | None]  # None: every table
    sensitive_roles: frozenset[Role]
    extra_functions: frozenset[str]

    def tables_for(self, role: Role) -> frozenset[str]:
        tables = self.role_tables.get(role)
        return frozenset(self.columns) if tables is None else tables

    @cached_property
    def lower_tables(self) -> frozenset[str]:
        """The table names in lower case, for comparisons that ignore case."""
        return frozenset(name.lower() for name in self.columns)

    @cached_property
    def schema(self) -> MappingSchema:
        """SQLGlot's schema object, for the `qualify` fallback (built once per catalog)."""
        return MappingSchema(self.types, dialect=self.dialect, normalize=False)


def build_catalog(policy, dialect: str) -> Catalog:  # noqa: ANN001 - a Policy (import cycle)
    strategy = Dialect.get_or_raise(dialect).NORMALIZATION_STRATEGY

    def norm(name: str) -> str:
        return normalize_name(name, strategy)

    types = {
        norm(table): {norm(c): kind for c, kind in cols.items()}
        for table, cols in policy.tables.items()
    }
    return Catalog(
        dialect=dialect,
        columns={table: tuple(cols) for table, cols in types.items()},
        types=types,
        owners={norm(t): norm(c) for t, c in policy.owner_columns.items()},
        sensitive={norm(t): frozenset(map(norm, cs)) for t, cs in policy.sensitive_columns.items()},
        role_tables={
            Role(role): frozenset(map(norm, tables)) for role, tables in policy.role_tables.items()
        },
        sensitive_roles=frozenset(Role(r) for r in policy.sensitive_roles),
        extra_functions=frozenset(name.lower() for name in policy.allowed_functions),
    )
