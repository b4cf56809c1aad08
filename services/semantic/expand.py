"""Names of the semantic model in a query, turned back into SQL over base tables.

The SQL agent may write `FROM open_orders` or `SELECT fees_charged FROM transactions`: shorter
SQL for the model to write, and the meaning comes from the one place that declares it. Before
the guard checks and scopes the query, each such name is replaced on the SQLGlot tree:

- a segment used as a table becomes its cube's table under the alias the query gave it, with
  the segment's condition added (`FROM orders AS open_orders WHERE open_orders.status IN
  (...)`; a comparison that reads the segment's name as a value, `status = 'open'`, gives
  way to the declaration), and a cube defined by a query becomes that query as a derived
  table, so the guard's rules and row scoping see, and scope, the base tables;
- a measure used as a column of a table its cube reads (its own table, a segment, or the cube
  defined by a query) becomes its aggregate over that table's alias
  (`SUM(CASE WHEN t.type = 'fee' THEN -t.amount END) AS fees_charged`). A measure is already
  an aggregate, so `SUM(fees_charged)`, which would nest one aggregate in another (an error in
  SQL), can only mean the total itself and is read as the measure (`_outer_total`); the MAX or
  MIN of a sum can only mean the largest or smallest row, and reads its value per row
  (`_per_row`).

A name the query defines itself (a CTE called `open_orders`) is the query's own and stays; a
name the model does not declare stays too, for the guard to refuse as unknown.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from services.semantic.model import CUBE, Cube, Measure, Segment, SemanticModel
from services.sql_comparisons import text_comparisons

MAX_DEPTH = 4  # a row set defined over another row set, and so on; deeper is a loop


def _sql(text: str, alias: str, dialect: str) -> exp.Expression:
    name = exp.to_identifier(alias).sql(dialect=dialect)
    return sqlglot.parse_one(text.replace(CUBE, name), read=dialect)


def measure_sql(measure: Measure, alias: str, dialect: str) -> exp.Expression:
    """The aggregate a measure stands for, over the rows aliased `alias`.

    >>> from services.semantic.model import Filter
    >>> fees = Measure(name="fees", type="sum", sql="-{CUBE}.amount",
    ...     filters=[Filter(sql="{CUBE}.type = 'fee'")])
    >>> measure_sql(fees, "t", "sqlite").sql()
    "SUM(CASE WHEN t.type = 'fee' THEN -t.amount END)"
    >>> measure_sql(Measure(name="n", type="count"), "o", "sqlite").sql()
    'COUNT(*)'
    """
    if measure.type == "number":
        return _sql(measure.sql or "", alias, dialect)
    value: exp.Expression = (
        _sql(measure.sql, alias, dialect) if measure.sql else exp.Literal.number(1)
    )
    if measure.filters:
        condition = exp.and_(*(_sql(f.sql, alias, dialect) for f in measure.filters))
        value = exp.Case(ifs=[exp.If(this=condition, true=value)])
    elif measure.type == "count" and measure.sql is None:
        return exp.Count(this=exp.Star())
    if measure.type == "count_distinct":
        return exp.Count(this=exp.Distinct(expressions=[value]))
    aggregate = {
        "count": exp.Count,
        "sum": exp.Sum,
        "avg": exp.Avg,
        "min": exp.Min,
        "max": exp.Max,
    }[measure.type]
    return aggregate(this=value)


def row_set_sql(cube: Cube, segment: Segment | None, dialect: str) -> exp.Select:
    """The rows a row set names, as a SELECT over its cube's table or query.

    >>> cube = Cube(name="orders", sql_table="orders",
    ...     segments=[Segment(name="open", sql="{CUBE}.status = 'open'")])
    >>> row_set_sql(cube, cube.segments[0], "sqlite").sql()
    "SELECT * FROM orders AS orders WHERE orders.status = 'open'"
    """
    if cube.sql is not None:
        derived = sqlglot.parse_one(cube.sql, read=dialect)
        if segment is None:
            if not isinstance(derived, exp.Query):
                raise ValueError(f"cube {cube.name}: its sql is not a query")
            return derived  # type: ignore[return-value]
        source: exp.Expression = exp.Subquery(
            this=derived, alias=exp.TableAlias(this=exp.to_identifier(cube.name))
        )
    else:
        source = exp.Table(
            this=exp.to_identifier(cube.sql_table),
            alias=exp.TableAlias(this=exp.to_identifier(cube.name)),
        )
    select = exp.select("*").from_(source)
    if segment is not None:
        select = select.where(_sql(segment.sql, cube.name, dialect))
    return select


def expand(tree: exp.Expression, model: SemanticModel, dialect: str) -> exp.Expression:
    """`tree` with the model's measures and row sets replaced by the SQL they stand for
    (changed in place, and returned).

    >>> from services.semantic.loader import load_semantic_model
    >>> model = load_semantic_model()
    >>> sql = "SELECT COUNT(*) FROM open_orders WHERE symbol = 'AAPL'"
    >>> expand(sqlglot.parse_one(sql), model, "sqlite").sql()  # doctest: +NORMALIZE_WHITESPACE
    "SELECT COUNT(*) FROM orders AS open_orders WHERE symbol = 'AAPL' AND open_orders.status
    IN ('open', 'partially_filled')"
    >>> sql = "SELECT account_id, fees_charged FROM transactions GROUP BY account_id"
    >>> expand(sqlglot.parse_one(sql), model, "sqlite").sql()  # doctest: +NORMALIZE_WHITESPACE
    "SELECT account_id, SUM(CASE WHEN transactions.type = 'fee' THEN -transactions.amount END)
    AS fees_charged FROM transactions GROUP BY account_id"
    """
    return _expand(tree, model, dialect, 0)


def _expand(tree: exp.Expression, model: SemanticModel, dialect: str, depth: int):
    if depth > MAX_DEPTH:
        raise ValueError("the semantic model's row sets are defined in a loop")
    own = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    for select in list(tree.find_all(exp.Select)):
        _expand_measures(select, model, dialect, own)
    row_sets = model.row_sets()
    for table in list(tree.find_all(exp.Table)):
        name = table.name.lower()
        if not name or table.args.get("db") or name in own or name not in row_sets:
            continue
        cube, segment = row_sets[name]
        if segment is not None and cube.sql_table and _inlined(table, cube, segment, dialect):
            continue
        rows = _expand(row_set_sql(cube, segment, dialect), model, dialect, depth + 1)
        alias = table.args.get("alias")
        alias = alias.copy() if alias is not None else exp.TableAlias(this=table.this.copy())
        replacement = exp.Subquery(this=rows, alias=alias)
        if tree is table:
            return replacement
        table.replace(replacement)
    return tree


def _inlined(table: exp.Table, cube: Cube, segment: Segment, dialect: str) -> bool:
    """Read a segment of a table as the table itself, under the query's alias (or the
    segment's name), with the segment's condition added where the table is read: the WHERE of
    its SELECT, or the ON of its join (an outer join keeps its unmatched rows). A derived
    table would hand the guard a `SELECT *` of every column, personal ones included, where the
    query reads one. False where the table is read from anywhere else."""
    join = table.parent if isinstance(table.parent, exp.Join) else None
    select = table.parent.parent if isinstance(table.parent, exp.From) else None
    if join is None and not isinstance(select, exp.Select):
        return False
    alias = table.alias_or_name
    table.set("this", exp.to_identifier(cube.sql_table))
    table.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    condition = _sql(segment.sql, alias, dialect)
    if join is not None:
        on = join.args.get("on")
        join.set("on", exp.and_(on, condition) if on is not None else condition)
    else:
        _drop_restated(select, alias, segment, condition)
        select.where(condition, copy=False)
    return True


def _drop_restated(select: exp.Select, alias: str, segment: Segment, condition: exp.Expression):
    """Drop from the WHERE a comparison that reads a word of the segment's name as the value
    of a column its condition sets: in `FROM open_orders WHERE status = 'open'` the model
    derived the rows from the name, and the declaration (status 'open' or 'partially_filled')
    says which rows open orders are. A comparison with any other value narrows the segment,
    and stays.

    >>> from services.semantic.model import Segment
    >>> open_orders = Segment(name="open_orders", sql="{CUBE}.status IN ('open', 'partial')")
    >>> def read(where):
    ...     select = sqlglot.parse_one(f"SELECT COUNT(*) FROM open_orders WHERE {where}")
    ...     condition = _sql(open_orders.sql, "open_orders", "sqlite")
    ...     _drop_restated(select, "open_orders", open_orders, condition)
    ...     return select.sql()
    >>> read("status = 'open' AND side = 'buy'")
    "SELECT COUNT(*) FROM open_orders WHERE side = 'buy'"
    >>> read("open_orders.status = 'open'")
    'SELECT COUNT(*) FROM open_orders'
    >>> read("status = 'partial'")
    "SELECT COUNT(*) FROM open_orders WHERE status = 'partial'"
    """
    where = select.args.get("where")
    if where is None:
        return
    words = set(segment.name.lower().split("_"))
    declared = {
        (column.name.lower(), value.lower())
        for column, value in text_comparisons(condition)
        if value.lower() in words
    }

    def restates(part: exp.Expression) -> bool:
        return isinstance(part, exp.EQ) and any(
            column.table.lower() in ("", alias.lower())
            and (column.name.lower(), value.lower()) in declared
            for column, value in text_comparisons(part)
        )

    parts = list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]
    kept = [part for part in parts if not restates(part)]
    if len(kept) < len(parts):
        select.set("where", exp.Where(this=exp.and_(*kept)) if kept else None)


# An outer aggregate over a measure's value that leaves it unchanged: the sum of a total or a
# count is that total, the largest of a largest is that largest (the largest of a sum is its
# largest row: `_per_row`). AVG or COUNT of a measure
# stays as written: "the average fee" may mean per transaction, and SQL refuses it, so the
# model is asked again.
_SAME_VALUE = {exp.Sum: ("sum", "count", "count_distinct"), exp.Max: ("max",), exp.Min: ("min",)}


def _outer_total(column: exp.Column, measure: Measure) -> exp.Expression:
    """The aggregate `column` (a measure's name) sits in when it only repeats the measure's
    value, else `column` itself: what the measure's SQL replaces.

    >>> from services.semantic.model import Measure
    >>> fees = Measure(name="fees", type="sum", sql="amount")
    >>> select = sqlglot.parse_one("SELECT SUM(fees), AVG(fees) FROM t")
    >>> [_outer_total(c, fees).sql() for c in select.find_all(exp.Column)]
    ['SUM(fees)', 'fees']
    """
    kinds = _SAME_VALUE.get(_sole_argument_of(column), ())
    return column.parent if measure.type in kinds else column


def _sole_argument_of(column: exp.Column) -> type[exp.Expression] | None:
    """The kind of aggregate `column` is the one argument of (`MAX(x)`), if any: `MAX(a, b)`
    is a scalar max, not an aggregate over rows."""
    outer = column.parent
    single = isinstance(outer, exp.AggFunc) and outer.this is column and not outer.expressions
    return type(outer) if single else None


def _per_row(column: exp.Column, measure: Measure) -> bool:
    """Whether `column` (a sum measure's name) sits in MAX or MIN: the largest of one total is
    that total, so "the biggest unrealised gain" can only mean the largest row, and the
    measure's value per row (filters kept) goes in place of its sum.

    >>> from services.semantic.model import Measure
    >>> gain = Measure(name="gain", type="sum", sql="q * p")
    >>> select = sqlglot.parse_one("SELECT MAX(gain), SUM(gain), gain FROM t")
    >>> [_per_row(shown.find(exp.Column), gain) for shown in select.selects]
    [True, False, False]
    """
    return measure.type == "sum" and _sole_argument_of(column) in (exp.Max, exp.Min)


def _sources(select: exp.Select) -> dict[str, str]:
    """Alias (lower-cased) -> table name (lower-cased) of the tables the SELECT reads."""
    from_ = select.args.get("from_")
    found = [from_.this] if from_ else []
    found += [j.this for j in select.args.get("joins") or []]
    return {
        t.alias_or_name.lower(): t.name.lower()
        for t in found
        if isinstance(t, exp.Table) and not t.args.get("db")
    }


def _expand_measures(select: exp.Select, model: SemanticModel, dialect: str, own: set[str]):
    measures = model.measures()
    sources = {a: t for a, t in _sources(select).items() if t not in own}
    outputs: set[str] = set()
    columns = [
        c
        for c in select.find_all(exp.Column)
        if c.find_ancestor(exp.Select) is select and c.name.lower() in measures
    ]
    for column in columns:  # the result columns first: ORDER BY may name their alias
        name = column.name.lower()
        cube, measure = measures[name]
        qualifier = column.table.lower()
        if not qualifier and column.find_ancestor(exp.Order) and name in outputs:
            continue
        homes = [
            alias
            for alias, table in sources.items()
            if (not qualifier or alias == qualifier) and model.cube_of(table) is cube
        ]
        if len(homes) != 1:
            continue
        alias = next(
            t.alias_or_name
            for t in select.find_all(exp.Table)
            if t.alias_or_name.lower() == homes[0]
        )
        aggregate = measure_sql(measure, alias, dialect)
        if _per_row(column, measure):
            column.replace(aggregate.this)
            continue
        column = _outer_total(column, measure)
        if column.parent is select:  # a bare result column keeps the measure's name
            column.replace(exp.alias_(aggregate, measure.name))
            outputs.add(name)
        else:
            column.replace(aggregate)
