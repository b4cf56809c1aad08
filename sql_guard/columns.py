"""Which catalog column every column reference of a query reads.

The resolution walks SQLGlot's scopes and the policy's catalog directly: a qualified reference
is looked up by its table alias, an unqualified one among the sources of its own SELECT, then
(for correlated subqueries) of the enclosing ones, as the database does; `*` and `t.*` read
every column of their sources. A reference that resolves nowhere is an unknown column, one that
resolves to two sources is ambiguous.

When a query uses a form this resolution does not model (JOIN ... USING, NATURAL JOIN, star
modifiers such as `* EXCLUDE (...)`, column references on a set operation), it hands the query
to SQLGlot's `qualify`, which validates every column against the same schema and expands every
star; the reads are then taken from the qualified tree. `qualify` costs about three parses, so it
runs only for those forms. Either way, where the resolution is unsure whether a name is an
output alias or a column of an outer query, it counts the read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, ScopeType, traverse_scope, walk_in_scope

from sql_guard.catalog import Catalog
from sql_guard.verdict import Reason

Source = exp.Table | Scope


@dataclass
class ColumnResolution:
    reads: set[tuple[str, str]] = field(default_factory=set)  # (catalog table, column)
    problems: list[Reason] = field(default_factory=list)
    used_qualify: bool = False


class _NeedsQualify(Exception):
    """The query uses a form the direct resolution does not model."""


def resolve_columns(
    tree: exp.Expression, scopes: list[Scope], catalog: Catalog
) -> ColumnResolution:
    """Resolve every column reference of `tree` against `catalog`.

    >>> from sql_guard.policy import platform_policy
    >>> from sql_guard.rules.subject import Subject
    >>> s = Subject.parse("SELECT u.email, o.symbol FROM users u JOIN orders o ON o.user_id = u.id")
    >>> sorted(resolve_columns(s.tree, s.scopes, s.catalog).reads)
    [('orders', 'symbol'), ('orders', 'user_id'), ('users', 'email'), ('users', 'id')]
    >>> s = Subject.parse("SELECT nope FROM orders")
    >>> [r.message for r in resolve_columns(s.tree, s.scopes, s.catalog).problems]
    ['no such column: nope']
    """
    try:
        return _Resolver(catalog).run(scopes)
    except _NeedsQualify:
        return resolve_with_qualify(tree, catalog)


class _Resolver:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.result = ColumnResolution()
        self._outputs: dict[int, tuple[str, ...]] = {}

    def run(self, scopes: list[Scope]) -> ColumnResolution:
        for scope in scopes:
            expression = scope.expression
            if scope.is_udtf:
                if not isinstance(expression, exp.Lateral):
                    raise _NeedsQualify
                continue  # its subquery is a scope of its own
            if isinstance(expression, exp.SetOperation):
                self._set_operation(scope)
            elif isinstance(expression, exp.Select):
                self._select(scope)
            else:
                raise _NeedsQualify
        return self.result

    # --- one scope ---------------------------------------------------------------------------

    def _select(self, scope: Scope) -> None:
        select = scope.expression
        for join in select.args.get("joins") or []:
            if join.args.get("using") or join.method or join.kind in ("SEMI", "ANTI"):
                raise _NeedsQualify
        if select.args.get("laterals"):
            raise _NeedsQualify
        aliases = {e.alias for e in select.expressions if isinstance(e, exp.Alias)}
        for node in walk_in_scope(select):
            if node is select:
                continue
            if type(node) is exp.Column:
                self._column(node, scope, aliases)
            elif isinstance(node, exp.Star):
                if any(node.args.get(k) for k in ("except_", "replace", "rename")):
                    raise _NeedsQualify
                if node.parent is select:
                    for source in self._visible(scope).values():
                        self._read_all(source)
                elif not isinstance(node.parent, exp.Column | exp.Count):
                    raise _NeedsQualify

    def _set_operation(self, scope: Scope) -> None:
        names = set(self._outputs_of(scope))
        for node in walk_in_scope(scope.expression):
            if type(node) is exp.Column and (node.table or node.name not in names):
                raise _NeedsQualify

    def _column(self, column: exp.Column, scope: Scope, aliases: set[str]) -> None:
        if column.args.get("db") or column.args.get("catalog"):
            self._problem("unknown_column", f"{column.sql()}: name columns as table.column")
            return
        qualifier = column.table
        if qualifier:
            source = self._find(scope, qualifier)
            if source is None:
                self._problem(
                    "unknown_column", f"{qualifier}.{column.name}: no table or alias {qualifier}"
                )
            elif isinstance(column.this, exp.Star):
                self._read_all(source)
            else:
                self._read(source, column.name, qualifier)
            return
        name = column.name
        current: Scope | None = scope
        is_alias = name in aliases
        while current is not None:
            found = [s for s in self._visible(current).values() if name in self._outputs_of(s)]
            if len(found) == 1 or (found and is_alias):
                for source in found:  # an alias that is also a column: count the read
                    self._read(source, name, name)
                return
            if found:
                self._problem("ambiguous_column", f"column {name} is in more than one table")
                return
            current = self._outer(current)
        if not is_alias:
            self._problem("unknown_column", f"no such column: {name}")

    # --- sources -----------------------------------------------------------------------------

    @staticmethod
    def _visible(scope: Scope) -> dict[str, Source]:
        """The sources a column of `scope` may name: its FROM and JOIN items."""
        if scope.is_udtf:  # a LATERAL sees the items before it
            return dict(scope.lateral_sources)
        if isinstance(scope.expression, exp.Select):
            return {name: source for name, (_, source) in scope.selected_sources.items()}
        return {}

    @staticmethod
    def _outer(scope: Scope) -> Scope | None:
        """The scope whose sources a correlated reference in `scope` may name."""
        if scope.scope_type in (ScopeType.SUBQUERY, ScopeType.SET_OPERATION):
            return scope.parent
        return None

    def _find(self, scope: Scope | None, name: str) -> Source | None:
        while scope is not None:
            source = self._visible(scope).get(name)
            if source is not None:
                return source
            scope = self._outer(scope)
        return None

    def _outputs_of(self, source: Source) -> tuple[str, ...]:
        """The column names a source offers, in order."""
        if isinstance(source, exp.Table):
            return self.catalog.columns.get(source.name, ())
        key = id(source)
        if key not in self._outputs:
            self._outputs[key] = self._scope_outputs(source)
        return self._outputs[key]

    def _scope_outputs(self, scope: Scope) -> tuple[str, ...]:
        if scope.outer_columns:
            return tuple(scope.outer_columns)
        expression = scope.expression
        if scope.is_udtf:
            alias = expression.args.get("alias")
            if alias is not None and alias.columns:
                return tuple(c.name for c in alias.columns)
            if not scope.subquery_scopes:
                raise _NeedsQualify
            return self._outputs_of(scope.subquery_scopes[-1])
        if isinstance(expression, exp.SetOperation):
            return self._outputs_of(scope.set_operation_scopes[0])
        if not isinstance(expression, exp.Select):
            raise _NeedsQualify
        names: list[str] = []
        visible = self._visible(scope)
        for projection in expression.expressions:
            if isinstance(projection, exp.Star):
                for source in visible.values():
                    names.extend(self._outputs_of(source))
            elif isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star):
                source = visible.get(projection.table)
                if source is None:
                    raise _NeedsQualify
                names.extend(self._outputs_of(source))
            else:
                names.append(projection.alias_or_name)
        return tuple(names)

    # --- reads -------------------------------------------------------------------------------

    def _read(self, source: Source, name: str, label: str) -> None:
        if name not in self._outputs_of(source):
            where = source.name if isinstance(source, exp.Table) else label.split(".")[0]
            self._problem("unknown_column", f"no column {name} in {where}")
        elif isinstance(source, exp.Table):
            self.result.reads.add((source.name, name))

    def _read_all(self, source: Source) -> None:
        if isinstance(source, exp.Table):
            self.result.reads.update((source.name, c) for c in self._outputs_of(source))

    def _problem(self, code: str, message: str) -> None:
        reason = Reason(code=code, message=message)
        if reason not in self.result.problems:
            self.result.problems.append(reason)


def resolve_with_qualify(tree: exp.Expression, catalog: Catalog) -> ColumnResolution:
    """The fallback: SQLGlot's `qualify` validates and qualifies every column, expands stars."""
    result = ColumnResolution(used_qualify=True)
    try:
        qualified = qualify(
            tree.copy(),
            schema=catalog.schema,
            dialect=catalog.dialect,
            validate_qualify_columns=True,
            quote_identifiers=False,
            identify=False,
        )
        scopes = traverse_scope(qualified)
    except Exception as exc:  # noqa: BLE001 - any failure to resolve refuses the query
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        result.problems.append(Reason(code="unknown_column", message=message[:300]))
        return result
    for scope in scopes:
        aliases = (
            {e.alias for e in scope.expression.expressions if isinstance(e, exp.Alias)}
            if isinstance(scope.expression, exp.Select)
            else set()
        )
        for node in walk_in_scope(scope.expression):
            if type(node) is not exp.Column or node is scope.expression:
                continue
            source = _lookup(scope, node.table) if node.table else None
            if source is None:
                if not node.table and node.name in aliases:
                    continue
                message = f"cannot tell which table {node.sql()} comes from"
                result.problems.append(Reason(code="unknown_column", message=message))
            elif isinstance(source, exp.Table):
                columns = catalog.columns.get(source.name, ())
                if isinstance(node.this, exp.Star):
                    result.reads.update((source.name, c) for c in columns)
                elif node.name in columns:
                    result.reads.add((source.name, node.name))
                else:
                    message = f"no column {node.name} in {source.name}"
                    result.problems.append(Reason(code="unknown_column", message=message))
    return result


def _lookup(scope: Scope | None, name: str) -> Source | None:
    while scope is not None:
        source = scope.sources.get(name)
        if source is not None:
            return source
        scope = scope.parent
    return None
