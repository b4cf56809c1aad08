"""Repair of the model's most common slips, where the schema or SQL itself decides the fix.

Told "no column last_name in dogs", the embedded 1.5B model writes the same query again: on the
seeded Spider sample all three attempts of every such question were identical. What has only
one reading is therefore repaired before a retry is spent:

- a table name the schema lacks that is the plural of a listed value stands for the rows
  holding it (`withdrawals` are the payments whose direction is 'withdrawal');
- a table or column name the schema lacks, when exactly one name in scope ends with the same
  words, the column's own table looked at first (`sb_transaction` -> `sbTransaction`,
  `txAmount` -> `sbTxAmount`: with a long schema in its prompt the model drops the prefixes
  defog's broker puts on every name; `transaction_price` -> `sbTxPrice`, the table's own word
  spelled out), or failing that with words that begin alike
  (`cancellation_at` -> `cancelled_at`), or the one column whose comment says the missing
  name's words (`stop_price` -> `limit_price`, "Limit or stop price");
- a qualified column `t.x` whose table lacks `x`, or whose qualifier names no table of the
  query at all, when exactly one table of the same SELECT has `x`, is requalified to it;
- a join whose ON compares a column its table does not have is put on the foreign key between
  the two tables when exactly one exists, or, when none does, through the one table that has
  a key to each (`employee JOIN shop ON employee.shop_id = ...` goes through `hiring`);
- a column that no table of its SELECT has (qualified or not), when exactly one table joined
  to them by a foreign key has it, brings that table in with an inner join on the key (each
  such column its own table, when no one table has them all);
- a condition on an aggregate written in WHERE of a grouped SELECT moves to HAVING, the only
  place SQL lets it mean anything;
- an ORDER BY name no table has, when exactly one aggregate result column's alias shares a
  word with it, is that alias (`COUNT(*) AS customer_count ... ORDER BY tier_count`).

Anything less certain is left to the model's retry. The repaired query still goes through the
guard like any other: repair never widens what a caller may read.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlglot import exp

from agents.sql.tree import (
    conditions,
    name_words,
    own_columns,
    parse,
    read_sources,
    stem,
)
from services.catalog import Catalog
from services.sql_comparisons import text_comparisons


def _near(name: str, candidates: list[str]) -> str | None:
    """The one candidate whose trailing words spell `name` (ignoring case and underscores);
    failing any, the one whose trailing words begin as the name's do.

    >>> _near("tx_amount", ["sbTxId", "sbTxAmount"])
    'sbTxAmount'
    >>> _near("id", ["sbTxId", "sbTxCustId"]) is None
    True
    >>> _near("cancellation_at", ["created_at", "cancelled_at"])
    'cancelled_at'
    """
    for fold in (str, stem):
        folded = "".join(map(fold, name_words(name)))
        hits = {
            c
            for c in candidates
            for words in [[fold(w) for w in name_words(c)]]
            if any("".join(words[i:]) == folded for i in range(len(words)))
        }
        if hits:
            return hits.pop() if folded and len(hits) == 1 else None
    return None


_SCHEMAS: dict[int, tuple[Catalog, _Schema]] = {}


def _schema_of(catalog: Catalog) -> _Schema:
    """`catalog`'s folded schema, made once per catalog: a catalog is not changed once built (a
    linked subset is a new one), and folding every name and comment again cost each turn about
    a millisecond (bench api). The catalog is held beside it, so its id is not reused."""
    held = _SCHEMAS.get(id(catalog))
    if held is None or held[0] is not catalog:
        if len(_SCHEMAS) >= 32:
            _SCHEMAS.clear()
        held = _SCHEMAS[id(catalog)] = (catalog, _Schema(catalog))
    return held[1]


class _Schema:
    """The catalog with names folded to lower case, as SQLite and the guard compare them."""

    def __init__(self, catalog: Catalog):
        self.column_names = {t.name.lower(): [c.name for c in t.columns] for t in catalog.tables}
        self.comments = {
            t.name.lower(): {c.name: " ".join(name_words(c.comment)) for c in t.columns}
            for t in catalog.tables
        }
        self.columns = {t: {c.lower() for c in cs} for t, cs in self.column_names.items()}
        self.names = {t.name.lower(): t.name for t in catalog.tables}
        self.values = [(t.name, c.name, c.values) for t in catalog.tables for c in t.columns]
        self.listed = {(t.lower(), c.lower()): set(vs) for t, c, vs in self.values if vs}
        self.links: dict[str, list[tuple[str, str, str]]] = {}  # table -> (col, other, other col)
        for table in catalog.tables:
            for column, referred, referred_column in table.foreign_keys:
                here, there = table.name.lower(), referred.lower()
                self.links.setdefault(here, []).append((column, there, referred_column))
                self.links.setdefault(there, []).append((referred_column, here, column))

    def rows_named(self, name: str) -> exp.Subquery | None:
        """The rows a table name the schema lacks stands for, when it is the plural of a listed
        value (`fees`: the transactions whose type is 'fee'). Where several columns list it,
        the one column with two values: it splits its table into two kinds of row, and the
        plural of a kind names them (payments are deposits or withdrawals, so "withdrawals"
        are payments, not the transactions of type 'withdrawal')."""
        holders = [
            (table, column, value, len(values))
            for table, column, values in self.values
            for value in values
            if name in (value.lower(), f"{value.lower()}s", f"{value.lower()}es")
        ]
        if len(holders) > 1:
            holders = [h for h in holders if h[3] == 2]
        if len(holders) != 1:
            return None
        ((table, column, value, _),) = holders
        rows = exp.select("*").from_(table).where(exp.column(column).eq(exp.Literal.string(value)))
        return rows.subquery(name)

    def has(self, table: str, column: str) -> bool:
        return column in self.columns.get(table, set())

    def named_for(self, name: str, table: str, values: Collection[str] = ()) -> str | None:
        """The column of `table` that ends with the words of `name`, with or without a leading
        word of the table's own name (`transaction_price` of sbTransaction is `sbTxPrice`), or
        else the one whose comment says them (`stop_price` is `limit_price`, "Limit or stop
        price"), or else the one that lists every value of `values`, the text the query
        compares `name` with (`provider = 'bank_transfer'` is `method`: the payment method
        lists 'bank_transfer')."""
        if real := _near(name, self.column_names[table]) or self._worded(name, table):
            return real
        if not values:
            return None
        listing = [
            c
            for c in self.column_names[table]
            if set(values) <= self.listed.get((table, c.lower()), set())
        ]
        return listing[0] if len(listing) == 1 else None

    def _worded(self, name: str, table: str) -> str | None:
        """The column `name` says with the table's own word spelled out, or whose comment
        says the words of `name`."""
        words, own = name_words(name), {stem(w) for w in name_words(self.names[table])}
        # transaction_price of sbTransaction: the table's own word spelled out before the rest
        unprefixed = "_".join(words[1:]) if words and stem(words[0]) in own else ""
        if unprefixed and (real := _near(unprefixed, self.column_names[table])):
            return real
        if len(words) < 2:
            return None  # one word ("price") is in too many comments to name a column
        phrase = f" {' '.join(name_words(name))} "
        described = [c for c, text in self.comments[table].items() if phrase in f" {text} "]
        return described[0] if len(described) == 1 else None


def repair(sql: str, catalog: Catalog, dialect: str = "sqlite") -> str | None:
    """The query with its slips repaired, or None when there was nothing to repair (or it could
    not be repaired with certainty).

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> def table(name, *cols, fks=()):
    ...     return TableInfo(name=name, columns=[ColumnInfo(name=c, type="TEXT") for c in cols],
    ...                      foreign_keys=list(fks))
    >>> c = Catalog(tables=[table("people", "pid", "name"),
    ...                     table("player", "pid", "won", fks=[("pid", "people", "pid")])])
    >>> repair("SELECT name FROM player WHERE won > 3", c)
    'SELECT people.name FROM player JOIN people ON player.pid = people.pid WHERE player.won > 3'
    >>> repair("SELECT p.name FROM people AS o JOIN player AS p ON o.pid = p.pid", c)
    'SELECT o.name FROM people AS o JOIN player AS p ON o.pid = p.pid'
    >>> repair("SELECT pid FROM player WHERE COUNT(*) > 1 GROUP BY pid", c)
    'SELECT pid FROM player GROUP BY pid HAVING COUNT(*) > 1'
    >>> repair("SELECT name FROM people", c) is None
    True
    """
    tree = parse(sql, dialect)
    if tree is None:
        return None
    schema = _schema_of(catalog)
    changed = _rename_tables(tree, schema)
    defined = {t.alias_or_name.lower() for t in tree.find_all(exp.Table)}
    defined |= {a.name.lower() for a in tree.find_all(exp.TableAlias)}
    for select in list(tree.find_all(exp.Select)):
        changed |= _aggregates_to_having(select)
        changed |= _repair_select(select, schema, defined)
    return tree.sql(dialect=dialect) if changed else None


def _rename_tables(tree: exp.Expression, schema: _Schema) -> bool:
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    changed = False
    for table in tree.find_all(exp.Table):
        name = table.name.lower()
        if not name or name in schema.columns or name in ctes or table.args.get("db"):
            continue
        real = _near(name, list(schema.names.values()))
        if real:
            if not table.alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
            table.set("this", exp.to_identifier(real))
            changed = True
        elif rows := schema.rows_named(name):
            rows.set("alias", exp.TableAlias(this=exp.to_identifier(table.alias_or_name)))
            table.replace(rows)
            changed = True
    return changed


def _aggregates_to_having(select: exp.Select) -> bool:
    if not select.args.get("group"):
        return False
    found = conditions(select)
    moved = [
        c
        for c in found
        if any(a.find_ancestor(exp.Select) is select for a in c.find_all(exp.AggFunc))
    ]
    if not moved:
        return False
    kept = [c for c in found if all(c is not m for m in moved)]
    select.set("where", exp.Where(this=exp.and_(*kept)) if kept else None)
    select.having(*moved, copy=False)
    return True


def _sources(select: exp.Select) -> dict[str, str] | None:
    """Alias (or name) -> table of a SELECT's FROM and joins; None when one is not a table."""
    sources = {}
    for source in read_sources(select):
        if not isinstance(source, exp.Table) or not source.name:
            return None
        sources[source.alias_or_name.lower()] = source.name.lower()
    return sources


def _repair_select(select: exp.Select, schema: _Schema, defined: set[str]) -> bool:
    """`defined` holds every table name and alias of the whole query: a qualifier among them
    but not among this SELECT's sources is an outer query's table, not a slip."""
    sources = _sources(select)
    if not sources or any(t not in schema.columns for t in sources.values()):
        return False
    outputs = {e.alias.lower() for e in select.expressions if e.alias}
    changed = _rename_columns(select, sources, schema, outputs)
    for join in list(select.args.get("joins") or []):
        changed |= _repair_join(select, join, sources, schema)
    sources = _sources(select) or sources
    missing = []
    for column in own_columns(select):
        name, qualifier = column.name.lower(), column.table.lower()
        if qualifier:
            table = sources.get(qualifier)
            if table is None and qualifier in defined:
                continue
            if (table and schema.has(table, name)) or column.find_ancestor(exp.Join):
                continue  # a join key on the wrong table is a wrong join, not a slip
            homes = [a for a, t in sources.items() if schema.has(t, name)]
            if len(homes) == 1:
                column.set("table", exp.to_identifier(homes[0]))
                changed = True
            elif not homes:
                missing.append(column)
        elif name not in outputs and not any(schema.has(t, name) for t in sources.values()):
            if alias := _output_meant(select, column):
                column.set("this", exp.to_identifier(alias))
                changed = True
            else:
                missing.append(column)
    for column in list(missing):
        if key := _joined_key(select, column, sources):
            column.replace(key)
            missing.remove(column)
            changed = True
    if missing:
        changed |= _join_for(select, sources, missing, schema)
    return changed


def _output_meant(select: exp.Select, column: exp.Column) -> str | None:
    """The alias an ORDER BY name no table has stands for: the one aggregate result column
    whose alias shares a word with it (`COUNT(*) AS customer_count ... ORDER BY tier_count`).

    >>> select = parse("SELECT tier, COUNT(*) AS customer_count FROM users GROUP BY tier "
    ...     "ORDER BY tier_count DESC", "sqlite")
    >>> _output_meant(select, select.args["order"].expressions[0].this)
    'customer_count'
    >>> _output_meant(select, select.args["group"].expressions[0]) is None
    True
    """
    if column.table or not column.find_ancestor(exp.Order):
        return None
    words = set(name_words(column.name))
    aliases = [
        shown.alias
        for shown in select.expressions
        if isinstance(shown, exp.Alias)
        and shown.this.find(exp.AggFunc)
        and words & set(name_words(shown.alias))
    ]
    return aliases[0] if len(aliases) == 1 else None


def _joined_key(
    select: exp.Select, column: exp.Column, sources: dict[str, str]
) -> exp.Column | None:
    """`t.user_id`, where t has no such column but the query joins t to users on
    `t.sender_id = u.uid`, is `t.sender_id`: the name says "the key to users", and the join
    says which column of t that is. None unless exactly one join condition says so."""
    words = name_words(column.name)
    if len(words) < 2 or words[-1] != "id":
        return None
    named = {stem(w.removesuffix("s")) for w in words[:-1]}
    keys = []
    for condition in select.find_all(exp.EQ):
        sides = [condition.this, condition.expression]
        if not condition.find_ancestor(exp.Join) or not all(
            isinstance(side, exp.Column) and side.table.lower() in sources for side in sides
        ):
            continue
        for here, there in (sides, sides[::-1]):
            table = sources[there.table.lower()]
            if {stem(w.removesuffix("s")) for w in name_words(table)} != named:
                continue
            mine = not column.table or here.table.lower() == column.table.lower()
            if mine and here.table.lower() != there.table.lower():
                keys.append(here)
    return keys[0].copy() if len(keys) == 1 else None


def _rename_columns(
    select: exp.Select, sources: dict[str, str], schema: _Schema, outputs: set[str]
) -> bool:
    """Give a column its real name when no table of the SELECT has its name and its own table
    has exactly one column ending with the same words; failing that (or unqualified), when
    exactly one table of the SELECT has such a column, outside a join's key (`T2.high` on
    sbTicker is `T1.sbDpHigh` of sbDailyPrice). A name compared with text may be the one
    column that lists that text (`Schema.named_for`)."""
    changed = False
    compared = _compared(select, {c.name.lower() for c in own_columns(select)})
    for column in own_columns(select):
        name, qualifier = column.name.lower(), column.table.lower()
        if (qualifier and qualifier not in sources) or (not qualifier and name in outputs):
            continue
        if any(schema.has(t, name) for t in sources.values()):
            continue  # a table of the SELECT has that very name: requalifying is for later
        scopes = [[qualifier]] if qualifier else []
        if not column.find_ancestor(exp.Join):
            scopes.append(list(sources))
        for aliases in scopes:
            homes = {
                (alias, real)
                for alias in aliases
                for real in [schema.named_for(name, sources[alias], compared.get(name, ()))]
                if real
            }
            if len(homes) == 1:
                ((alias, real),) = homes
                column.set("this", exp.to_identifier(real))
                if qualifier or len(sources) > 1:
                    column.set("table", exp.to_identifier(alias))
                changed = True
                break
    return changed


def _repair_join(
    select: exp.Select, join: exp.Join, sources: dict[str, str], schema: _Schema
) -> bool:
    """Put a join whose key does not exist on the one foreign-key path to its table."""
    on = join.args.get("on")
    if not isinstance(on, exp.EQ) or not all(
        isinstance(side, exp.Column) and side.table for side in (on.left, on.right)
    ):
        return False
    new = join.this.alias_or_name.lower()
    sides = {on.left.table.lower(), on.right.table.lower()}
    if new not in sides or len(sides) != 2 or not sides <= sources.keys():
        return False
    if all(schema.has(sources[c.table.lower()], c.name.lower()) for c in (on.left, on.right)):
        return False  # the key exists: a wrong key is the model's to fix, not a slip
    (old,) = sides - {new}
    here, there = sources[old], sources[new]
    if here == there:
        return False  # a self-join is a plan, not a slip
    direct = {(c, oc) for c, other, oc in schema.links.get(here, []) if other == there}
    if len(direct) == 1:
        ((column, other_column),) = direct
        join.set("on", exp.column(column, table=old).eq(exp.column(other_column, table=new)))
        return True
    if direct or join.side:
        return False  # two keys to choose from; or an outer join, which a bridge would change
    bridges = {
        (column, middle, middle_in, middle_out, other_column)
        for column, middle, middle_in in schema.links.get(here, [])
        for middle_out, other, other_column in schema.links.get(middle, [])
        if other == there and middle not in sources.values() | sources.keys()
    }
    if len(bridges) != 1:
        return False
    ((column, middle, middle_in, middle_out, other_column),) = bridges
    bridge = exp.Join(
        this=exp.to_table(schema.names[middle]),
        on=exp.column(column, table=old).eq(exp.column(middle_in, table=middle)),
    )
    join.set("on", exp.column(middle_out, table=middle).eq(exp.column(other_column, table=new)))
    joins = select.args["joins"]
    joins.insert(next(i for i, j in enumerate(joins) if j is join), bridge)
    select.set("joins", joins)
    return True


def _compared(select: exp.Select, names: set[str]) -> dict[str, set[str]]:
    """The text literals each of `names` is compared with (`=` or `IN`) in the SELECT."""
    found: dict[str, set[str]] = {}
    for column, value in text_comparisons(select):
        if column.name.lower() in names:
            found.setdefault(column.name.lower(), set()).add(value)
    return found


def _join_for(
    select: exp.Select, sources: dict[str, str], missing: list[exp.Column], schema: _Schema
) -> bool:
    """Join the one table, a foreign key away from a source, that holds every missing column;
    or, when none holds them all, for each missing column the one such table that has it.
    Where several tables have a column the query compares with a value, the one whose column
    lists that value is meant (`status = 'filled'`: orders, not accounts or users)."""
    names = {c.name.lower() for c in missing}
    compared = _compared(select, names)

    def holding(wanted: set[str]) -> set[tuple[str, str, str, str]]:
        joins = _neighbours_with(wanted, sources, schema)
        if len(joins) < 2:
            return joins
        return {
            j
            for j in joins
            if all(
                compared[name] <= schema.listed.get((j[2], name), set())
                for name in wanted & compared.keys()
            )
        }

    joins = holding(names)
    if len(joins) != 1:
        joins = set()
        for name in names:
            found = holding({name})
            if len(found) != 1:
                return False
            joins |= found
        if len({other for _, _, other, _ in joins}) != len(joins):
            return False  # one table reached by two keys
    homes = {n: other for n in names for _, _, other, _ in joins if schema.has(other, n)}
    moved = {id(c) for c in missing}
    for col in own_columns(select):
        name = col.name.lower()
        if id(col) in moved:
            home: str | None = homes[name]
        elif col.table:
            continue
        else:
            home = next((a for a, t in sources.items() if schema.has(t, name)), homes.get(name))
        if home is not None:
            col.set("table", exp.to_identifier(home))
    for alias, column, other, other_column in sorted(joins):
        condition = exp.column(column, table=alias).eq(exp.column(other_column, table=other))
        select.join(exp.to_table(schema.names[other]), on=condition, copy=False)
    return True


def _neighbours_with(
    names: set[str], sources: dict[str, str], schema: _Schema
) -> set[tuple[str, str, str, str]]:
    """(alias, key, table, table's key) for each table a foreign key away from a source, not
    already joined, that has every one of `names`."""
    return {
        (alias, column, other, other_column)
        for alias, table in sources.items()
        for column, other, other_column in schema.links.get(table, [])
        if other not in sources.values() and all(schema.has(other, n) for n in names)
    }


def unechoed(sql: str, catalog: Catalog, dialect: str = "sqlite") -> str:
    """`sql` with each `IN (SELECT x FROM t)` whose `x` is no column of `t` given `t`'s own
    column: SQL resolves such an `x` in the outer query, which makes `x IN (SELECT x ...)` true
    of every row that has an `x` (and `NOT IN` of none). The query runs, so the slip is never
    refused; `t`'s column is its one foreign key to `x`'s table, or else the one named for `x`
    (`sbTickerId` in sbDailyPrice is `sbDpTickerId`). Unchanged when neither is certain.

    >>> from services.catalog import ColumnInfo, TableInfo
    >>> def table(name, *cols, fks=()):
    ...     return TableInfo(name=name, columns=[ColumnInfo(name=c, type="TEXT") for c in cols],
    ...                      foreign_keys=list(fks))
    >>> c = Catalog(tables=[table("ticker", "ticker_id", "symbol"),
    ...     table("price", "price_ticker", "close", fks=[("price_ticker", "ticker", "ticker_id")])])
    >>> unechoed("SELECT symbol FROM ticker WHERE NOT ticker_id IN "
    ...     "(SELECT ticker_id FROM price)", c)
    'SELECT symbol FROM ticker WHERE NOT ticker_id IN (SELECT price_ticker FROM price)'
    """
    tree = parse(sql, dialect)
    if tree is None:
        return sql
    schema = _schema_of(catalog)
    changed = False
    for member in tree.find_all(exp.In):
        inner = member.args.get("query")
        inner = inner.this if isinstance(inner, exp.Subquery) else inner
        outer = member.find_ancestor(exp.Select)
        if not isinstance(inner, exp.Select) or outer is None or len(inner.expressions) != 1:
            continue
        echo, sources, outer_sources = inner.expressions[0], _sources(inner), _sources(outer)
        if not isinstance(echo, exp.Column) or echo.table or len(sources or {}) != 1:
            continue
        if not outer_sources:
            continue
        (table,) = sources.values()
        name = echo.name.lower()
        homes = {t for t in outer_sources.values() if schema.has(t, name)}
        if table not in schema.columns or schema.has(table, name) or len(homes) != 1:
            continue
        (home,) = homes
        links = schema.links.get(table, [])
        keys = {c for c, other, key in links if (other, key.lower()) == (home, name)}
        real = keys.pop() if len(keys) == 1 else schema.named_for(name, table)
        if real:
            echo.set("this", exp.to_identifier(real))
            changed = True
    return tree.sql(dialect=dialect) if changed else sql
