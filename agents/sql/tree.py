"""Reading a model's SQL as a SQLGlot tree: what the repair and the question cues both need.

Names are compared by their words (`sbTxAmount` is sb, tx, amount) and long words by their
stems. Model output is untrusted text, so parsing returns None instead of raising; a SELECT's own
parts (the sources it reads, the columns it names) stop at its subqueries, which are SELECTs
of their own.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from functools import lru_cache

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from sql_guard.parsing import statements


def parse(sql: str, dialect: str) -> exp.Expression | None:
    """The statement's tree, or None when it is not SQL SQLGlot can read. The tree is the
    caller's own copy (rules rewrite it in place): the repair and each cue rule read the same
    statement in turn, and copying a parsed tree costs a quarter of parsing it again.

    >>> parse("SELECT FROM WHERE (", "sqlite") is None
    True
    >>> first = parse("SELECT a FROM t", "sqlite")
    >>> first.set("where", parse("SELECT 1 FROM t WHERE b", "sqlite").args["where"])
    >>> parse("SELECT a FROM t", "sqlite").sql()
    'SELECT a FROM t'
    """
    try:
        # the guard's parse (sql_guard.parsing): the guard checks this same text later
        parsed = statements(sql, dialect)
    except (ParseError, TokenError, ValueError):
        return None
    return parsed[0] if parsed else None


def read_sources(select: exp.Select) -> list[exp.Expression]:
    """What the SELECT's FROM and joins read: tables, or subqueries.

    >>> [s.sql() for s in read_sources(parse("SELECT 1 FROM a JOIN b AS x ON 1", "sqlite"))]
    ['a', 'b AS x']
    """
    from_ = select.args.get("from_")
    found = [from_.this] if from_ else []
    return found + [j.this for j in select.args.get("joins") or []]


def own_columns(select: exp.Select, within: exp.Expression | None = None) -> list[exp.Column]:
    """Column references of this SELECT (inside `within`, when given), not of a subquery.

    >>> tree = parse("SELECT a FROM t WHERE b IN (SELECT c FROM u)", "sqlite")
    >>> [c.name for c in own_columns(tree)], [c.name for c in own_columns(tree, tree.args["where"])]
    (['a', 'b'], ['b'])
    """
    return [
        c
        for c in (within or select).find_all(exp.Column)
        if c.find_ancestor(exp.Select) is select and c.name and not isinstance(c.this, exp.Star)
    ]


def table_aliases(tree: exp.Expression, tables: Collection[str]) -> dict[str, str]:
    """Alias (or name) -> table, lower-cased, of each of `tables` the query reads anywhere.

    >>> table_aliases(parse("SELECT 1 FROM a AS x JOIN b ON 1 JOIN c", "sqlite"), {"a", "b"})
    {'x': 'a', 'b': 'b'}
    """
    known = {t.lower() for t in tables}
    return {
        t.alias_or_name.lower(): t.name.lower()
        for t in tree.find_all(exp.Table)
        if t.name.lower() in known
    }


def name_words(name: str) -> list[str]:
    """`sbTxAmount` -> ['sb', 'tx', 'amount']; `ticker_symbol` -> ['ticker', 'symbol']. The
    schema's names and comments are read again every turn: each is split once."""
    return list(_name_words(name))


@lru_cache(maxsize=4096)
def _name_words(name: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name))


def stem(word: str) -> str:
    """Long words compared by their first five letters: `cancellation` and `cancelled` agree,
    `count` and `country` do not."""
    return word if len(word) < 6 else word[:5] + "~"


def conditions(select: exp.Select) -> list[exp.Expression]:
    """The conditions the SELECT's WHERE joins with AND (none without a WHERE).

    >>> [c.sql() for c in conditions(parse("SELECT 1 FROM t WHERE a = 1 AND (b OR c)", "sqlite"))]
    ['a = 1', 'b OR c']
    """
    where = select.args.get("where")
    if where is None:
        return []
    return list(where.this.flatten()) if isinstance(where.this, exp.And) else [where.this]


def result_figures(select: exp.Select) -> list[exp.AggFunc]:
    """The aggregates the SELECT's own result computes: not a subquery's, not a window's.

    >>> [a.sql() for a in result_figures(parse("SELECT MAX(a), SUM(b) OVER () FROM t", "sqlite"))]
    ['MAX(a)']
    """
    return [
        a
        for p in select.expressions
        for a in p.find_all(exp.AggFunc)
        if a.find_ancestor(exp.Select) is select and not a.find_ancestor(exp.Window)
    ]


RANGES = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


def range_bounds(condition: exp.Expression) -> list[exp.Expression]:
    """What a range condition (one of `RANGES`) bounds its left side by.

    >>> [b.sql() for b in range_bounds(parse("d BETWEEN '2023-01-01' AND x", "sqlite"))]
    ["'2023-01-01'", 'x']
    """
    if isinstance(condition, exp.Between):
        return [condition.args["low"], condition.args["high"]]
    return [condition.expression]


def is_day(node: exp.Expression) -> bool:
    """Whether the node is a text literal that starts with a day ('2023-01-01 ...')."""
    return isinstance(node, exp.Literal) and node.is_string and bool(_DAY.match(node.this))
