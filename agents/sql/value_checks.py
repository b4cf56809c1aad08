"""Values a query compares a column with, checked against the catalog and the database.

A query that compares a column with a value the column never holds runs and answers nothing,
or answers for the wrong rows; no rewrite can mend it, because the model picked the wrong
column. Two checks say so, for any schema and any phrasing, and put it to the model as an
objection to retry on:

- a condition compares a column with a value the catalog lists for another column but not
  for this one (`trading_accounts.status = 'filled'`: 'filled' is an order status);
- an answer came back empty, and a value it looks for is in no row of its column but in
  another column (`sbDpTickerId = 'VTI'`: 'VTI' is a ticker symbol). The catalog lists the
  values of few-valued columns only, so this one asks the database (`unheld_values`).

When no later draft clears the objection, the first answer stands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlglot import exp

from agents.sql.tree import parse, table_aliases
from services.catalog import Catalog, ColumnInfo, TableInfo
from services.sql_comparisons import text_comparisons

Holds = Callable[[str, str, str], bool | None]  # (table, column, value): does a row hold it?


def _compared_literals(
    tree: exp.Expression, catalog: Catalog
) -> Iterator[tuple[TableInfo, ColumnInfo, str]]:
    """Each text literal a column of a catalog table is compared with (`=` or `IN`)."""
    tables = {t.name.lower(): t for t in catalog.tables}
    aliases = table_aliases(tree, tables)
    for column, value in text_comparisons(tree):
        home = aliases.get(column.table.lower()) if column.table else None
        homes = [home] if home else ([] if column.table else sorted(set(aliases.values())))
        listed = [
            (tables[name], c)
            for name in homes
            for c in tables[name].columns
            if c.name.lower() == column.name.lower()
        ]
        if len(listed) == 1:  # not a column of a subquery, or of more than one table
            yield *listed[0], value


def _foreign_values(tree: exp.Expression, catalog: Catalog) -> list[str]:
    found = []
    for table, info, value in _compared_literals(tree, catalog):
        if not info.values or value in info.values:
            continue  # a column of unknown values, or a value it holds
        holders = [
            f"{t.name}.{c.name}" for t in catalog.tables for c in t.columns if value in c.values
        ]
        if holders:  # a value of nothing at all may just be asked about: 'ZZZZ' orders
            found.append(
                f"{table.name}.{info.name} never holds '{value}' (its values: "
                f"{', '.join(info.values)}); it is a value of {', '.join(holders)}"
            )
    return found


def _linked(catalog: Catalog, table: TableInfo, column: str) -> set[tuple[str, str]]:
    """The columns a foreign key ties to this one, either way: a value missing here but
    present there is an absence (no flights to 'ATO'), not a misplaced value."""
    name = column.lower()
    linked = {(r.lower(), rc.lower()) for c, r, rc in table.foreign_keys if c.lower() == name}
    for other in catalog.tables:
        for c, referred, referred_column in other.foreign_keys:
            if referred.lower() == table.name.lower() and referred_column.lower() == name:
                linked.add((other.name.lower(), c.lower()))
    return linked


def unheld_values(sql: str, catalog: Catalog, dialect: str, holds: Holds) -> list[str]:
    """For an answer that came back empty: each value the query looks for in a column no row
    of which holds it, while another column does (`sbDpTickerId = 'VTI'`, where 'VTI' is a
    `sbTickerSymbol`). The catalog lists the values of few-valued columns only, so `holds`
    asks the database; it answers None where the caller may not ask.

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> c = Catalog(tables=[TableInfo(name="prices", columns=[ColumnInfo(name="ticker_id",
    ...     type="TEXT")]), TableInfo(name="tickers", columns=[ColumnInfo(name="symbol",
    ...     type="TEXT")])])
    >>> rows = {("tickers", "symbol"): {"VTI"}, ("prices", "ticker_id"): {"T1"}}
    >>> held = lambda t, col, v: v in rows[(t, col)]
    >>> unheld_values("SELECT * FROM prices WHERE ticker_id = 'VTI'", c, "sqlite", held)
    ["no row of prices.ticker_id holds 'VTI'; tickers.symbol does"]
    """
    tree = parse(sql, dialect)
    misplaced: dict[tuple[str, str], list[str]] = {}  # (column, its holders) -> values
    for table, info, value in _compared_literals(tree, catalog) if tree else ():
        if info.values or holds(table.name, info.name, value) is not False:
            continue  # few-valued columns are `_foreign_values`' to judge
        linked = _linked(catalog, table, info.name) | {(table.name.lower(), info.name.lower())}
        holders = [
            f"{t.name}.{c.name}"
            for t in catalog.tables
            for c in t.columns
            if (t.name.lower(), c.name.lower()) not in linked
            and c.is_text
            and (value in c.values if c.values else holds(t.name, c.name, value))
        ]
        if holders:
            key = (f"{table.name}.{info.name}", ", ".join(holders))
            misplaced.setdefault(key, []).append(f"'{value}'")
    return [
        f"no row of {column} holds {', '.join(values)}; {holders} does"
        for (column, holders), values in misplaced.items()
    ]


def foreign_values(sql: str, catalog: Catalog, dialect: str) -> list[str]:
    """Each value `sql` compares a column with that the catalog lists for other columns only.

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> status = ColumnInfo(name="status", type="TEXT", values=["filled", "open"])
    >>> kind = ColumnInfo(name="kind", type="TEXT", values=["cash", "margin"])
    >>> c = Catalog(tables=[TableInfo(name="orders", columns=[status]),
    ...     TableInfo(name="accounts", columns=[kind])])
    >>> print(*foreign_values("SELECT 1 FROM accounts WHERE kind = 'filled'", c, "sqlite"))
    accounts.kind never holds 'filled' (its values: cash, margin); it is a value of orders.status
    >>> foreign_values("SELECT COUNT(*) FROM orders WHERE status = 'done'", c, "sqlite")
    []
    """
    tree = parse(sql, dialect)
    return _foreign_values(tree, catalog) if tree is not None else []
