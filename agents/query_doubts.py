"""Signs that a query which ran does not answer the question, put to the model as objections.

Two slips of the embedded model are plain from the query and the catalog alone, yet no rewrite
can mend them, because the model picked the wrong table:

- the question names a value beside its table's word ("the most filled orders", "my crypto
  account") and the query never reads that table (it counted fills in `transactions`, or fees
  of every account);
- a condition compares a column with a value the catalog says it never holds but another
  column does (`trading_accounts.status = 'filled'`: 'filled' is an order status);
- an answer came back empty, and a value it looks for is in no row of its column but in
  another column (`sbDpTickerId = 'VTI'`: 'VTI' is a ticker symbol). The catalog lists the
  values of few-valued columns only, so this one asks the database (`unheld_values`);
- the question asks for what has both of two values and the query keeps rows with either
  (`account_type IN ('margin', 'crypto')`);
- the question asks for a figure per month, or the top row for each account type, and the
  query returns one for all of them: it groups and partitions nothing;
- the question asks about "the last five trading days" and the query counts days back from
  today; or about "the past 7 days" and the query never reads the clock.

On the four evaluation sets each sign was found only on wrong answers (fourteen of them), never on
a right one; one gold query of defog's shows the first ("daily active users" counted without
the users table), so a doubt asks again, and when no later draft clears it, the first answer
stands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from sqlglot import exp

from agents.named_values import NamedValue
from agents.per_group import one_for_all
from agents.question_cues import Cues
from agents.sql_tree import name_words, parse, stem, table_aliases, text_comparisons
from agents.time_windows import mentions_now
from services.catalog import Catalog, ColumnInfo, TableInfo

Holds = Callable[[str, str, str], bool | None]  # (table, column, value): does a row hold it?


def _unread(tree: exp.Expression, named: Sequence[NamedValue]) -> list[str]:
    read = {t.name.lower() for t in tree.find_all(exp.Table)}
    return [
        f"the question asks for {n.table} with {n.column} '{n.value}', but the query does not "
        f"read {n.table}"
        for n in named
        if n.beside_table and n.table.lower() not in read
    ]


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


def _either(tree: exp.Expression, both: str | None) -> list[str]:
    """`account_type IN ('margin', 'crypto')` where the question asks for users with both."""
    if not both or tree.find(exp.Intersect, exp.Having):
        return []
    found = []
    for listed in tree.find_all(exp.In):
        values = [v.this for v in listed.expressions if isinstance(v, exp.Literal)]
        if len(values) >= 2 and all(v.lower() in both for v in values):
            found.append(
                f"{listed.sql()} keeps rows with either value, but the question asks for what "
                "has both: intersect the two sets (INTERSECT), or group and keep the groups "
                f"that hold all of them (HAVING COUNT(DISTINCT {listed.this.sql()}) = "
                f"{len(values)})"
            )
    return found


_PERIODS = {"day", "week", "month", "quarter", "year"}


def _names_rows(per: str, catalog: Catalog) -> bool:
    """Whether "per X" groups: X is a period, or names a table or column ("per account type"),
    not a unit of measure ("miles per gallon")."""
    wanted = {stem(w) for w in per.split()}
    if wanted <= _PERIODS:
        return True
    names = [t.name for t in catalog.tables] + [c.name for t in catalog.tables for c in t.columns]
    return any(wanted <= {stem(w) for w in name_words(name)} for name in names)


def _ungrouped(tree: exp.Expression, per: str | None, catalog: Catalog) -> list[str]:
    """One figure, or one top row, for all, where the question asks for one per month, per
    account type, for each customer: the query groups nothing and partitions nothing."""
    shape = one_for_all(tree) if per and _names_rows(per, catalog) else None
    if shape is None:
        return []
    return [
        f"the question asks for each {per}, but the query returns one {shape} for all of them: "
        f"group by the {per} (GROUP BY), or number the rows within each {per} "
        "(ROW_NUMBER() OVER (PARTITION BY ...)) and keep the first of each"
    ]


def _calendar_days(tree: exp.Expression, trading_days: int | None) -> list[str]:
    """ "The last five trading days" counted back from today: weekends and holidays have no
    prices, so five calendar days hold three or four trading days, or none at all."""
    if not trading_days or not mentions_now(tree):
        return []
    return [
        f"the last {trading_days} trading days are the {trading_days} latest dates that have a "
        f"price (ORDER BY the date DESC LIMIT {trading_days}), not the days since "
        f"{trading_days} days ago"
    ]


def _undated(tree: exp.Expression, recent: str | None) -> list[str]:
    """ "In the past 7 days" with no condition on the clock: the answer covers all time."""
    if not recent or mentions_now(tree):
        return []
    return [
        f"the question asks about the {recent}, but the query has no condition on a date "
        "counted back from today ('now')"
    ]


def doubts(sql: str, cues: Cues, catalog: Catalog, dialect: str) -> list[str]:
    """What speaks against `sql` answering a question with these cues; empty when nothing.

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> status = ColumnInfo(name="status", type="TEXT", values=["filled", "open"])
    >>> c = Catalog(tables=[TableInfo(name="orders", columns=[status]),
    ...     TableInfo(name="fills", columns=[ColumnInfo(name="symbol", type="TEXT")])])
    >>> filled = NamedValue(table="orders", column="status", value="filled", beside_table=True)
    >>> doubts("SELECT COUNT(*) FROM fills", Cues(named=[filled]), c, "sqlite")
    ["the question asks for orders with status 'filled', but the query does not read orders"]
    >>> doubts("SELECT COUNT(*) FROM orders WHERE status = 'done'", Cues(), c, "sqlite")
    []
    """
    tree = parse(sql, dialect)
    if tree is None:
        return []
    return (
        _unread(tree, cues.named)
        + _foreign_values(tree, catalog)
        + _either(tree, cues.both)
        + _ungrouped(tree, cues.per, catalog)
        + _calendar_days(tree, cues.trading_days)
        + _undated(tree, cues.recent)
    )
