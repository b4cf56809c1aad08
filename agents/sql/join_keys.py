"""Joins on a key that points elsewhere: `positions.id = transactions.order_id`.

The schema declares where each foreign key points: `transactions.order_id` to `orders.id`.
Compared with `positions.id`, it pairs each position with the transactions of whichever order
shares its number; the query runs and answers, wrongly. Nothing in the tree says what the model
meant (positions may reach transactions through accounts, or not at all), so the wrong pairing
is put to the model as an objection to retry on, with the keys that do link the two tables.

A join side is a key when it is a foreign key (it stands for the row it points at) or a
column some foreign key points at or the table's one-column primary key (it stands for its own
row). Two keys that stand for different rows cannot be meant to be equal, in a self-join as
well (`t1.id = t2.order_id` on transactions). Only joins with a foreign key on one side are
judged: two primary keys compared may be a one-to-one table whose
key the schema never declared as foreign.
"""

from __future__ import annotations

from sqlglot import exp

from agents.sql.tree import parse
from services.catalog import Catalog

Column = tuple[str, str]  # (table, column), lower-cased


def _sources(tree: exp.Expression, tables: set[str]) -> dict[str, str]:
    """Alias -> table of what the query reads: a catalog table, or a subquery that reads one
    table alone and passes its columns on (`(SELECT * FROM orders WHERE ...) AS o`)."""
    found = {}
    for source in tree.find_all(exp.Table, exp.Subquery):
        if isinstance(source, exp.Table):
            name = source.name.lower()
        else:
            inner = source.this
            if not isinstance(inner, exp.Select) or inner.args.get("joins"):
                continue
            read = inner.args.get("from_")
            if not read or not isinstance(read.this, exp.Table) or not inner.is_star:
                continue
            name = read.this.name.lower()
        if name in tables and source.alias_or_name:
            found[source.alias_or_name.lower()] = name
    return found


class _Keys:
    def __init__(self, catalog: Catalog):
        self.points: dict[Column, Column] = {}
        self.own: set[Column] = set()
        for table in catalog.tables:
            here = table.name.lower()
            if len(table.primary_key) == 1:
                self.own.add((here, table.primary_key[0].lower()))
            for column, referred, referred_column in table.foreign_keys:
                target = (referred.lower(), referred_column.lower())
                self.points[(here, column.lower())] = target
                self.own.add(target)

    def row_of(self, column: Column) -> Column | None:
        """The row a key column stands for, as the key column that names it; None when the
        column is not a key."""
        return self.points.get(column) or (column if column in self.own else None)

    def links(self, one: str, other: str) -> str:
        """How `one` and `other` join by their keys: directly, else through one table that
        both have a key to or from; "" when neither, or when they are one table (its rows
        meet through any key of theirs, which says nothing)."""
        if one == other:
            return ""
        direct = [
            f"{a}.{ac} = {b}.{bc}"
            for (a, ac), (b, bc) in self.points.items()
            if {a, b} == {one, other}
        ]
        if direct:
            return f"; {one} and {other} join on {' or '.join(direct)}"
        ends = {name: self._neighbours(name) for name in (one, other)}
        middles = sorted(ends[one].keys() & ends[other].keys() - {one, other})
        if not middles:
            return ""
        ways = [f"{ends[one][m]} and {ends[other][m]}" for m in middles]
        return f"; {one} and {other} meet through {' or through '.join(ways)}"

    def _neighbours(self, table: str) -> dict[str, str]:
        """Each table `table` has a key to or from -> the join condition."""
        found = {}
        for (a, ac), (b, bc) in self.points.items():
            if table in (a, b) and a != b:
                found.setdefault(b if a == table else a, f"{a}.{ac} = {b}.{bc}")
        return found


def misjoined(sql: str, catalog: Catalog, dialect: str = "sqlite") -> list[str]:
    """Objections to join conditions that equate keys standing for different rows.

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> def table(name, *cols, fks=()):
    ...     return TableInfo(name=name, columns=[ColumnInfo(name=c, type="INT") for c in cols],
    ...         primary_key=["id"], foreign_keys=list(fks))
    >>> c = Catalog(tables=[table("orders", "id"), table("accounts", "id"),
    ...     table("positions", "id", "account_id", fks=[("account_id", "accounts", "id")]),
    ...     table("fills", "id", "order_id", "account_id",
    ...         fks=[("order_id", "orders", "id"), ("account_id", "accounts", "id")])])
    >>> print(*misjoined("SELECT * FROM positions p JOIN fills f ON p.id = f.order_id", c))
    p.id = f.order_id pairs unrelated rows: fills.order_id refers to orders.id, not to \
positions.id; fills and positions meet through fills.account_id = accounts.id and \
positions.account_id = accounts.id
    >>> misjoined("SELECT * FROM positions p JOIN fills f ON f.account_id = p.account_id", c)
    []
    >>> misjoined("SELECT * FROM orders o JOIN fills f ON o.id = f.order_id", c)
    []
    >>> print(*misjoined("SELECT * FROM fills a JOIN fills b ON a.id = b.order_id", c))
    a.id = b.order_id pairs unrelated rows: fills.order_id refers to orders.id, not to fills.id
    """
    tree = parse(sql, dialect)
    if tree is None:
        return []
    keys = _Keys(catalog)
    sources = _sources(tree, {t.name.lower() for t in catalog.tables})
    found = []
    for join in tree.find_all(exp.Join):
        on = join.args.get("on")
        for condition in on.find_all(exp.EQ) if on else []:
            sides = [condition.this, condition.expression]
            if not all(isinstance(s, exp.Column) and s.table.lower() in sources for s in sides):
                continue
            columns = [(sources[s.table.lower()], s.name.lower()) for s in sides]
            if not any(c in keys.points for c in columns):
                continue
            rows = [keys.row_of(c) for c in columns]
            if None in rows or rows[0] == rows[1]:
                continue
            pointer = next(c for c in columns if c in keys.points)
            other = next(c for c in columns if c != pointer)
            target = keys.points[pointer]
            problem = (
                f"{condition.sql(dialect)} pairs unrelated rows: {pointer[0]}.{pointer[1]} "
                f"refers to {target[0]}.{target[1]}, not to {other[0]}.{other[1]}"
            )
            found.append(problem + keys.links(pointer[0], other[0]))
    return found
