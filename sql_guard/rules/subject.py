"""What every rule looks at: the parsed tree, its policy and caller, and analyses computed once
and shared by the rules that need them (the node list, the scopes, the table references and the
column resolution)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.scope import Scope, traverse_scope

from services.identity import Caller, Role
from sql_guard.catalog import Catalog, normalize_identifiers
from sql_guard.columns import ColumnResolution, resolve_columns
from sql_guard.policy import Policy, platform_policy
from sql_guard.tables import TableRefs, classify_tables
from sql_guard.verdict import Reason


@dataclass
class Subject:
    tree: exp.Expression
    dialect: str
    policy: Policy
    caller: Caller

    @classmethod
    def parse(
        cls,
        sql: str,
        dialect: str = "sqlite",
        policy: Policy | None = None,
        caller: Caller | None = None,
    ) -> Subject:
        """A subject for examples and tests: one statement, normalised, the platform's policy
        and the operator (admin) as caller unless given."""
        tree = sqlglot.parse_one(sql, read=dialect)
        policy = policy or platform_policy()
        return cls.prepare(tree, dialect, policy, caller or Caller(role=Role.ADMIN))

    @classmethod
    def prepare(cls, tree: exp.Expression, dialect: str, policy: Policy, caller: Caller) -> Subject:
        """A subject for a parsed statement, with its identifiers normalised the way the
        dialect's engine resolves them (in place; the tree is walked once for both)."""
        subject = cls(tree, dialect, policy, caller)
        normalize_identifiers(tree, dialect, subject.find(exp.Identifier))
        return subject

    @cached_property
    def catalog(self) -> Catalog:
        return self.policy.catalog(self.dialect)

    @cached_property
    def nodes(self) -> list[exp.Expression]:
        """Every node of the tree, walked once."""
        return list(self.tree.walk())

    @cached_property
    def _by_kind(self) -> dict[type[exp.Expression], list[exp.Expression]]:
        by_kind: dict[type[exp.Expression], list[exp.Expression]] = {}
        for node in self.nodes:
            by_kind.setdefault(type(node), []).append(node)
        return by_kind

    def find(self, *kinds: type[exp.Expression]) -> list[exp.Expression]:
        """The nodes that are instances of `kinds`, from an index of the walk (most rules look
        for a few kinds of node; asking the index beats testing every node in every rule).

        >>> [n.sql() for n in Subject.parse("SELECT COUNT(*), MAX(id) FROM orders").find(exp.Func)]
        ['COUNT(*)', 'MAX(id)']
        """
        return [
            node
            for kind, nodes in self._by_kind.items()
            if issubclass(kind, kinds)
            for node in nodes
        ]

    @cached_property
    def scopes(self) -> list[Scope]:
        """SQLGlot's scopes (raises OptimizeError on trees it cannot scope)."""
        return traverse_scope(self.tree)

    @cached_property
    def tables(self) -> TableRefs:
        """The table references, as real tables or CTE names (see `sql_guard.tables`)."""
        try:
            scopes = self.scopes
        except OptimizeError as exc:
            message = f"the query's table references cannot be resolved: {exc}"
            return TableRefs(problems=[Reason(code="unresolved_table", message=message)])
        return classify_tables(self.tree, scopes, self.find(exp.Table))

    @cached_property
    def columns(self) -> ColumnResolution:
        return resolve_columns(self.tree, self.scopes, self.catalog)


Rule = Callable[[Subject], list[Reason]]
