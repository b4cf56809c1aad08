"""Aggregates and the groups they run over, written the way SQL computes them.

Three slips of the embedded model return numbers without an error, and each has one reading.

A running total beside a GROUP BY. Asked for "each month's deposits and the running total
since the beginning", the embedded model writes `SUM(amount) OVER (ORDER BY created_at)`
beside `GROUP BY month`. A window runs after the grouping, so that sums one arbitrary row's
amount per month, in the order of one arbitrary row's time: SQLite returns it without
complaint, PostgreSQL refuses it. There is one reading, the
window over the groups' own totals, ordered by the group key the time belongs to:
`SUM(SUM(amount)) OVER (ORDER BY strftime('%Y-%m', created_at))`.

Only running sums, counts, minima and maxima are rewritten (an average of averages is not the
average), and only when every ungrouped column the window orders or partitions by sits inside
exactly one group key.

An aggregate that ORDER BY and LIMIT were meant to feed: "the average close over its last five
trading days" written as `SELECT AVG(close) FROM prices WHERE ... ORDER BY price_date DESC
LIMIT 5`. An aggregate with no GROUP BY returns one row, so that ORDER BY sorts nothing and
the LIMIT cuts nothing: the average is of every day. Sorting and cutting only mean something
before the aggregate, so the rows they pick go in a subquery the aggregate reads. Only where
the query reads one table, orders by plain columns and shows nothing but aggregates.

A result column beside a count, sum or average with no GROUP BY at all: "return the merchant
name and the number of coupons" written as `SELECT m.name, COUNT(c.cid) FROM ...` counts every
coupon of every merchant and shows one merchant's name beside it. The column is what the
figures are for, so it becomes the GROUP BY. Beside MIN or MAX it is left alone: there SQLite
shows the row that holds the extreme, and the model writes it so on purpose.
"""

from __future__ import annotations

from sqlglot import exp

from agents.sql.tree import parse, read_sources, result_figures

_OVER_GROUPS = {exp.Sum: exp.Sum, exp.Count: exp.Sum, exp.Max: exp.Max, exp.Min: exp.Min}


def _group_keys(select: exp.Select) -> list[exp.Expression]:
    """The GROUP BY keys, a result column's alias replaced by what it computes."""
    computed = {p.alias.lower(): p.this for p in select.expressions if isinstance(p, exp.Alias)}
    keys = []
    for key in select.args["group"].expressions:
        named = isinstance(key, exp.Column) and not key.table and key.name.lower() in computed
        keys.append(computed[key.name.lower()] if named else key)
    return keys


def _grouped(expression: exp.Expression, keys: list[exp.Expression]) -> bool:
    return any(expression == key for key in keys)


def _key_for(expression: exp.Expression, keys: list[exp.Expression]) -> exp.Expression | None:
    """`expression` itself when it is a group key; else the one key holding its columns."""
    if _grouped(expression, keys):
        return expression
    names = {c.sql().lower() for c in expression.find_all(exp.Column)}
    holders = [
        k for k in keys if names and names <= {c.sql().lower() for c in k.find_all(exp.Column)}
    ]
    return holders[0].copy() if len(holders) == 1 else None


def _over_groups(window: exp.Window, keys: list[exp.Expression]) -> exp.Window | None:
    func = window.this
    rebuilt = _OVER_GROUPS.get(type(func))
    if (
        rebuilt is None
        or func.find(exp.Window)
        or any(a is not func for a in func.find_all(exp.AggFunc))
    ):
        return None
    if not func.find(exp.Column) or _grouped(func.this, keys):
        return None  # COUNT(*), or a window over a group key: already per group
    new = window.copy()
    for part in new.args.get("partition_by") or []:
        if (key := _key_for(part, keys)) is None:
            return None
        part.replace(key)
    for ordered in new.args["order"].expressions if new.args.get("order") else []:
        if (key := _key_for(ordered.this, keys)) is None:
            return None
        ordered.set("this", key)
    new.set("this", rebuilt(this=func.copy()))
    return new


def _group_bare_columns(select: exp.Select) -> bool:
    if select.args.get("group"):
        return False
    figures = result_figures(select)
    if not figures or any(isinstance(a, exp.Max | exp.Min) for a in figures):
        return False
    bare = [
        p.unalias()
        for p in select.expressions
        if p.find(exp.Column) and not p.find(exp.AggFunc, exp.Select, exp.Window)
    ]
    for column in bare:
        select.group_by(column.copy(), copy=False)
    return bool(bare)


def _over_picked_rows(select: exp.Select) -> bool:
    """Move an ungrouped aggregate's ORDER BY and LIMIT (and its WHERE) into a subquery it
    reads, where they pick the rows it aggregates.

    >>> select = parse("SELECT AVG(x) FROM p WHERE s = 'A' ORDER BY d DESC LIMIT 5", "sqlite")
    >>> _over_picked_rows(select), select.sql()
    (True, "SELECT AVG(x) FROM (SELECT * FROM p WHERE s = 'A' ORDER BY d DESC LIMIT 5) AS p")
    >>> select = parse("SELECT s, AVG(x) FROM p ORDER BY d LIMIT 5", "sqlite")
    >>> _over_picked_rows(select)
    False
    """
    limit, order, sources = select.args.get("limit"), select.args.get("order"), read_sources(select)
    if (
        select.args.get("group")
        or limit is None
        or order is None
        or len(sources) != 1
        or not isinstance(sources[0], exp.Table)
        or not result_figures(select)
        or any(p.find(exp.Column) and not p.find(exp.AggFunc) for p in select.expressions)
        or any(key.find(exp.AggFunc, exp.Select) for key in order.expressions)
    ):
        return False
    ordered = {c.name.lower() for key in order.expressions for c in key.find_all(exp.Column)}
    if not ordered or ordered & {p.alias.lower() for p in select.expressions if p.alias}:
        return False  # ordered by nothing, or by the figure itself
    rows = exp.select("*").from_(sources[0].copy())
    for part in ("where", "order", "limit"):
        rows.set(part, select.args.get(part))
        select.set(part, None)
    select.set("from_", exp.From(this=rows.subquery(sources[0].alias_or_name)))
    return True


def grouped(sql: str, dialect: str) -> str:
    """`sql` with each running aggregate of a grouped SELECT taken over the groups' totals, the
    plain result columns beside a count, sum or average made its groups, and an ungrouped
    aggregate taken over the rows its ORDER BY and LIMIT pick; unchanged when there is nothing
    to do or it is not SQL.

    >>> grouped("SELECT DATE(t) AS d, SUM(x) OVER (ORDER BY t) FROM p GROUP BY d", "sqlite")
    'SELECT DATE(t) AS d, SUM(SUM(x)) OVER (ORDER BY DATE(t)) FROM p GROUP BY d'
    >>> grouped("SELECT m.name, COUNT(*) FROM m JOIN c ON m.id = c.mid", "sqlite")
    'SELECT m.name, COUNT(*) FROM m JOIN c ON m.id = c.mid GROUP BY m.name'
    >>> sql = "SELECT m, SUM(SUM(x)) OVER (ORDER BY m) FROM p GROUP BY m"
    >>> grouped(sql, "sqlite") == sql
    True
    """
    tree = parse(sql, dialect)
    if tree is None:
        return sql
    changed = False
    for select in list(tree.find_all(exp.Select)):
        changed |= _group_bare_columns(select) or _over_picked_rows(select)
        if not select.args.get("group"):
            continue
        keys = _group_keys(select)
        windows = [w for w in select.find_all(exp.Window) if w.find_ancestor(exp.Select) is select]
        for window in windows:
            if new := _over_groups(window, keys):
                window.replace(new)
                changed = True
    return tree.sql(dialect=dialect) if changed else sql
