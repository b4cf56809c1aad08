"""The guard's rules. Each one looks at the parsed tree, never at the SQL string.

A rule takes the `Subject` and returns the reasons it objects (an empty list when it has none).
`STAGES` orders them: every rule of a stage runs, so the caller hears all its problems at once,
and a later stage runs only when the earlier ones found nothing (checking the columns of a
statement that writes would only add noise).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import traverse_scope

from services.identity import Caller
from sql_guard.policy import Policy
from sql_guard.verdict import Reason

READ_ROOTS = (exp.Select, exp.SetOperation, exp.Subquery)

WRITE_NODES: tuple[type[exp.Expression], ...] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Command,
    exp.Into,
    exp.Lock,
    exp.Copy,
    exp.Set,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.Pragma,
    exp.Attach,
    exp.Detach,
    exp.Use,
    exp.Grant,
    exp.Revoke,
    exp.Analyze,
    exp.Describe,
    exp.LoadData,
    exp.Kill,
    exp.Cache,
    exp.Uncache,
    exp.Refresh,
    exp.Summarize,
    exp.Export,
    exp.Execute,
)

DENIED_FUNCTIONS = frozenset(
    # sleeps and CPU burners
    "pg_sleep pg_sleep_for pg_sleep_until sleep benchmark waitfor randomblob zeroblob "
    # file, network and remote readers
    "pg_read_file pg_read_binary_file pg_ls_dir pg_stat_file lo_import lo_export lo_get lo_put "
    "lo_open lo_create lo_unlink lo_from_bytea dblink dblink_exec dblink_connect dblink_open "
    "dblink_send_query query_to_xml query_to_xml_and_xmlschema query_to_xmlschema table_to_xml "
    "table_to_xmlschema table_to_xml_and_xmlschema cursor_to_xml database_to_xml "
    "database_to_xmlschema schema_to_xml load_extension readfile writefile edit fts3_tokenizer "
    "read_csv read_csv_auto read_parquet parquet_scan read_json read_json_auto read_text "
    "read_blob read_ndjson glob sniff_csv openrowset openquery opendatasource openxml "
    "load_file sys_exec sys_eval "
    # sequence side effects and admin functions
    "nextval setval currval lastval pg_terminate_backend pg_cancel_backend set_config "
    "pg_reload_conf pg_rotate_logfile pg_promote pg_switch_wal pg_create_restore_point "
    "pg_advisory_lock pg_advisory_xact_lock txid_current "
    # unbounded generators
    "generate_series generate_subscripts range unnest_series explode_sequence sequence".split()
)
DENIED_PREFIXES = ("xp_", "sp_", "lo_", "dblink", "pg_read", "pg_ls", "pg_stat_file")


@dataclass
class Subject:
    """Everything a rule may look at."""

    tree: exp.Expression
    dialect: str
    policy: Policy
    caller: Caller
    cte_names: set[str] = field(default_factory=set)

    def real_tables(self) -> list[exp.Table]:
        """Table references that are not CTE names."""
        return [
            t
            for t in self.tree.find_all(exp.Table)
            if not (t.name in self.cte_names and not t.db and not t.catalog)
        ]


Rule = Callable[[Subject], list[Reason]]


def function_name(node: exp.Func) -> str:
    """The name a function is called by, lower case.

    >>> import sqlglot
    >>> function_name(sqlglot.parse_one("SELECT pg_sleep(1)").find(exp.Func))
    'pg_sleep'
    """
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return node.sql_name().lower()


def read_only(subject: Subject) -> list[Reason]:
    """Only SELECT, set operations of SELECTs and their CTEs; nothing that writes or locks.

    >>> import sqlglot
    >>> s = Subject(sqlglot.parse_one("SELECT * INTO t2 FROM t"), "postgres", None, None)
    >>> [r.code for r in read_only(s)]
    ['write_statement']
    """
    if not isinstance(subject.tree, READ_ROOTS):
        kind = subject.tree.key.upper()
        return [Reason(code="not_select", message=f"only SELECT queries may run, not {kind}")]
    for node in subject.tree.walk():
        if isinstance(node, WRITE_NODES):
            what = "row lock (FOR UPDATE)" if isinstance(node, exp.Lock) else node.key.upper()
            return [Reason(code="write_statement", message=f"{what} is not allowed in a query")]
    return []


def denied_functions(subject: Subject) -> list[Reason]:
    """No sleeps, file or network readers, side-effecting or unbounded functions anywhere."""
    found = sorted(
        {
            name
            for node in subject.tree.find_all(exp.Func)
            if (name := function_name(node)) in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES)
        }
    )
    return [
        Reason(code="denied_function", message=f"function {name}() is not allowed")
        for name in found
    ]


def allowed_tables(subject: Subject) -> list[Reason]:
    """Only tables of the caller's catalog; no schema-qualified, system or file sources."""
    allowed = subject.policy.tables_for(subject.caller.role)
    reasons: list[Reason] = []
    for cte in subject.cte_names & set(subject.policy.tables):
        reasons.append(Reason(code="cte_shadows_table", message=f"a CTE may not be named {cte}"))
    for table in subject.real_tables():
        if not isinstance(table.this, exp.Identifier):
            reasons.append(
                Reason(code="table_source", message=f"{table.sql()} is not a table of the catalog")
            )
        elif table.db or table.catalog:
            reasons.append(
                Reason(
                    code="qualified_table", message=f"{table.sql()}: use unqualified table names"
                )
            )
        elif table.name not in allowed:
            known = table.name in subject.policy.tables
            reasons.append(
                Reason(
                    code="table_not_allowed" if known else "unknown_table",
                    message=f"table {table.name} is not available to the {subject.caller.role} role"
                    if known
                    else f"no such table: {table.name}",
                )
            )
    return _unique(reasons)


def known_columns(subject: Subject) -> list[Reason]:
    """Every column exists in the table it is read from (SQLGlot's qualify), and sensitive
    columns are only read by roles allowed to see them."""
    try:
        qualified = qualify(
            subject.tree.copy(),
            schema=subject.policy.tables,
            dialect=subject.dialect,
            validate_qualify_columns=True,
            quote_identifiers=False,
            identify=False,
        )
    except OptimizeError as exc:
        return [Reason(code="unknown_column", message=str(exc).splitlines()[0])]
    if subject.caller.role in subject.policy.sensitive_roles:
        return []
    reasons = []
    for scope in traverse_scope(qualified):
        for column in scope.columns:
            source = scope.sources.get(column.table)
            if isinstance(
                source, exp.Table
            ) and column.name in subject.policy.sensitive_columns.get(source.name, ()):
                reasons.append(
                    Reason(
                        code="sensitive_column",
                        message=f"{source.name}.{column.name} holds personal or payment data that "
                        f"the {subject.caller.role} role may not read",
                    )
                )
    return _unique(reasons)


def _unique(reasons: list[Reason]) -> list[Reason]:
    return list(dict.fromkeys(reasons))


STAGES: tuple[tuple[Rule, ...], ...] = (
    (read_only,),
    (denied_functions, allowed_tables),
    (known_columns,),
)
