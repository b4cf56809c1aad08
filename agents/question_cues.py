"""What a question states outright about its answer, enforced on the model's query.

The embedded 1.5B model reads "rounded to two decimals", "as a positive amount" or "how many
customers" and then writes `AVG(amount)`, `SUM(amount)` over negative fees, or counts every
user, staff included (seven of the 50 misses on the demo and held-out sets were that slip
alone). Each cue has one reading, so it is applied rather than hoped for:

- a business word the platform defines as a filter ("customers" are the users whose role is
  'customer', "open" orders those with status 'open' or 'partially_filled') adds that filter
  to each SELECT reading the table without a condition on it, or widens a condition that asks
  for only one of its values;
- "rounded to N decimals" wraps each computed result column whose values carry more decimals
  in `ROUND(..., N)`;
- a question that says nothing of rounding gets its figures unrounded;
- "as a positive number" negates each computed result column whose values are all negative
  (and an ORDER BY on it, which was written for the positive value);
- "ordered by plan" puts the result column it names first in the ORDER BY, and "break ties
  by country code" (or "alphabetically") puts the column it names last;
- a value of a listed column the question names ("buy orders") becomes a condition where the
  query says nothing of that column (`agents.named_values`);
- "in hours" is the unit of a difference of two stored times (`agents.time_differences`);
- "within the next 90 days" starts now, "the last five trading days" are the five latest
  dates with rows, not the days since five days ago, and "the last 2 months excluding the
  current month" the two calendar months before this one (`agents.time_windows`);
- "per account type" asks for the top row, or the figure, of each account type, and "per
  month" for a figure per month, shown (`agents.per_group`);
- "the latest balance for each user" asks for each user's latest row, and "the earliest
  snapshot in 2023" for the rows of the earliest date in 2023 (`agents.latest_rows`);
- a running total beside a GROUP BY runs over the groups' totals, a plain column beside a
  count with no GROUP BY is its group, an average "over the last five days" written with
  `ORDER BY ... LIMIT 5` beside it is over those five rows (`agents.grouping`), and
  `A OR B AND C` is `(A OR B) AND C` (`agents.and_or`), and `x IN (SELECT x FROM t)`, where
  `t` has no `x`, compares with `t`'s own column (`agents.sql_repair.unechoed`); a month
  bounded by days is the stored date, and SQLite's `DATE(x, 'month')` the month of x
  (`agents.date_shapes`): the one reading the model means;
- "the number of filled orders" counts each order once, however many fills join it
  (`agents.counted_rows`);
- "the user id", when no other id is asked, is the owner's id, not the row's (`agents.user_ids`).

Rounding and sign look at the rows the query returned, so only columns that need it change,
and the changed query is run again through the guard like any other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pydantic import BaseModel, Field
from sqlglot import exp

from agents.and_or import bracketed_as_written
from agents.counted_rows import counted_once, counted_words
from agents.date_shapes import in_stored_shape
from agents.grouping import grouped, over_latest_rows
from agents.latest_rows import Extreme, extreme, extreme_of_each, on_extreme_date
from agents.named_values import NamedValue, named_values, with_named_values
from agents.per_group import grouped_as_asked, grouped_by_period
from agents.sql_repair import unechoed
from agents.sql_tree import name_words, own_columns, parse, read_sources, stem
from agents.time_differences import Unit, with_time_differences
from agents.time_windows import (
    in_trading_days,
    in_whole_months,
    looks_ahead,
    recent_window,
    with_lower_bound,
)
from agents.user_ids import asks_only_user_ids, with_user_ids
from services.catalog import Catalog

_NUMBERS = {"no": 0, "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4}
_COUNT_WORDS = "one two three four five six seven eight nine ten".split()
_COUNTS = {w: n for n, w in enumerate(_COUNT_WORDS, 1)}
_ROUNDING = re.compile(
    r"\bround(?:ed|ing)?\b[^.?!]*?\bto\s+(?:the\s+nearest\s+)?"
    r"(?P<n>\d|no|zero|one|two|three|four)\s+decimal",
    re.I,
)
_WHOLE = re.compile(r"\bround(?:ed|ing)?\b[^.?!]*?\bto\s+(?:a|the\s+nearest)\s+whole\b", re.I)
_ANY_ROUNDING = re.compile(r"\b(?:round\w*|decimals?|nearest|cents?|precision)\b", re.I)
_POSITIVE = re.compile(r"\bpositive\s+(?:number|amount|value|figure|total|sum)s?\b", re.I)
_ORDERED = re.compile(r"\b(?:ordered|sorted)\s+by\s+(?:the\s+|their\s+|its\s+)?(?P<word>\w+)", re.I)
_BOTH = re.compile(r"\bboth\b(?!\s+the\b)(?P<rest>[^.?!]*)", re.I)  # not "both the id and..."
_TIES = re.compile(
    r"\bties?\b[^.?!;]*?\b(?:by\s+(?:the\s+|their\s+|its\s+)?(?P<word>\w+)|(?P<abc>alphabetically))",
    re.I,
)
_UNIT = re.compile(r"\b(?P<unit>second|minute|hour|day)s?\b", re.I)
_NAMED_NUMBER = re.compile(rf"\b(\d+|{'|'.join(_COUNTS)})\b", re.I)
_TRADING_DAYS = re.compile(rf"\blast\s+(?P<n>\d+|{'|'.join(_COUNTS)})\s+trading\s+days\b", re.I)
_WHOLE_MONTHS = re.compile(  # "the last 2 months excluding the current month"
    rf"\b(?:past|last|previous)\s+(?P<n>\d+|{'|'.join(_COUNTS)})\s+"
    r"(?:(?:full|complete|whole|calendar)\s+months\b"
    r"|months?,?\s+(?:excluding|not\s+including|except(?:\s+for)?)\s+(?:the\s+)?"
    r"(?:current|this)\s+(?:month|one)\b)",
    re.I,
)
_PER = re.compile(  # not "each" alone: "the name of each singer" asks for every row
    r"\b(?:per|(?:for|in)\s+(?:each|every))\s+(?:of\s+the\s+(?:last|past|next)\s+(?:\w+\s+)?)?"
    r"(?P<word>[a-z]+(?:\s+type)?)"
    r"|\b(?P<period>month|week|quarter|year)ly\s+(?:average|total|sum|count|number|mean)",
    re.I,
)


class Term(BaseModel):
    """A word of the business that names a subset of a table's rows: those whose `column`
    holds one of `values`."""

    word: str = Field(description="Singular form, matched with or without a plural s.")
    table: str
    column: str
    values: list[str] = Field(min_length=1)

    def condition(self, column: exp.Column) -> exp.Expression:
        literals = [exp.Literal.string(v) for v in self.values]
        if len(literals) == 1:
            return exp.EQ(this=column, expression=literals[0])
        return exp.In(this=column, expressions=literals)


class Cues(BaseModel):
    decimals: int | None = Field(None, description="Digits the question asks numbers rounded to.")
    exact: bool = Field(False, description="The question says nothing of rounding at all.")
    positive: bool = Field(False, description="The question asks for amounts as positive numbers.")
    terms: list[Term] = Field(default_factory=list, description="Defined words it uses.")
    named: list[NamedValue] = Field(default_factory=list, description="Listed values it names.")
    order_by: str | None = Field(None, description="The word after 'ordered by'.")
    unit: Unit | None = Field(None, description="The first unit of time it names.")
    user_ids: bool = Field(False, description="The only id it asks for is the user's.")
    both: str | None = Field(None, description="What follows its 'both', lower-cased.")
    tie_break: str | None = Field(
        None, description="The word after 'ties by', or 'alphabetically'."
    )
    per: str | None = Field(None, description="What it asks a figure for each of ('month').")
    extreme: Extreme | None = Field(
        None, description="It (or its instructions) asks for the latest or earliest rows."
    )
    ahead: bool = Field(False, description="It asks about a window after now ('next 90 days').")
    counted: list[str] = Field(default_factory=list, description="Stems of what it counts.")
    trading_days: int | None = Field(None, description="N of its 'last N trading days'.")
    recent: str | None = Field(None, description="Its window back from now: 'past 7 days'.")
    whole_months: int | None = Field(None, description="N of 'last N months but this one'.")
    numbers: list[int] = Field(default_factory=list, description="Whole numbers it names.")

    @property
    def shapes_result(self) -> bool:
        return self.decimals is not None or self.positive


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _COUNTS[word.lower()]


def read_cues(
    question: str,
    terms: Sequence[Term] = (),
    catalog: Catalog | None = None,
    instructions: str = "",
) -> Cues:
    """`catalog`, when given, supplies the column values the question may name. The asker's
    `instructions` define words of the question ("LUB is the latest balance for each user"):
    only whether they ask for the latest (or earliest) rows is read from them.

    >>> read_cues("Average fee, rounded to two decimal places?").decimals
    2
    >>> read_cues("Total fees as a positive number").positive
    True
    >>> read_cues("How many rounds of funding were there?").decimals is None
    True
    """
    decimals = None
    if found := _ROUNDING.search(question):
        n = found["n"].lower()
        decimals = int(n) if n.isdigit() else _NUMBERS[n]
    elif _WHOLE.search(question):
        decimals = 0
    used = [t for t in terms if re.search(rf"\b{re.escape(t.word)}s?\b", question, re.I)]
    ordered, unit = _ORDERED.search(question), _UNIT.search(question)
    return Cues(
        decimals=decimals,
        exact=not _ANY_ROUNDING.search(question),
        positive=bool(_POSITIVE.search(question)),
        terms=used,
        named=named_values(question, catalog) if catalog else [],
        order_by=ordered["word"] if ordered else None,
        unit=unit["unit"].lower() if unit else None,  # type: ignore[arg-type]
        user_ids=asks_only_user_ids(question),
        both=both["rest"].lower() if (both := _BOTH.search(question)) else None,
        tie_break=(ties["word"] or ties["abc"].lower())
        if (ties := _TIES.search(question))
        else None,
        per=(per["word"] or per["period"]).lower().removesuffix("s")
        if (per := _PER.search(question))
        else None,
        extreme=extreme(f"{question}\n{instructions}"),
        ahead=looks_ahead(question),
        counted=counted_words(question),
        trading_days=_count(days["n"]) if (days := _TRADING_DAYS.search(question)) else None,
        recent=recent_window(question),
        whole_months=_count(months["n"]) if (months := _WHOLE_MONTHS.search(question)) else None,
        numbers=[_count(n) for n in _NAMED_NUMBER.findall(question)],
    )


def enforced(sql: str, cues: Cues, catalog: Catalog, dialect: str) -> str:
    """`sql` with what the question states outright about which rows, in what order, applied;
    unchanged when it already complies or is not SQL. The quiet slips go first, so that the
    cues read the query the model meant."""
    sql = in_stored_shape(unechoed(sql, catalog, dialect), dialect)
    sql = with_terms(sql, cues.terms, dialect)
    sql = with_named_values(sql, cues.named, catalog, dialect)
    sql = with_time_differences(sql, cues.unit, catalog, dialect)
    sql = with_lower_bound(sql, catalog, dialect) if cues.ahead else sql
    sql = in_trading_days(sql, cues.trading_days, dialect)
    sql = in_whole_months(sql, cues.whole_months, dialect)
    sql = extreme_of_each(sql, cues.extreme, cues.per, catalog, dialect)
    sql = on_extreme_date(sql, cues.extreme, cues.per, catalog, dialect)
    sql = grouped_as_asked(sql, cues.per, catalog, dialect)
    sql = grouped(grouped_by_period(sql, cues.per, catalog, dialect), dialect)
    sql = over_latest_rows(sql, cues.numbers, dialect)
    sql = bracketed_as_written(sql, dialect)
    sql = counted_once(sql, cues.counted, catalog, dialect)
    sql = unrounded(sql, dialect) if cues.exact else sql
    sql = with_user_ids(sql, catalog, dialect) if cues.user_ids else sql
    sql = ordered_as_asked(sql, cues.order_by, dialect)
    return with_tie_break(sql, cues.tie_break, catalog, dialect)


def unrounded(sql: str, dialect: str) -> str:
    """`sql` with the rounding of its result columns taken off: asked for a figure, the model
    sometimes rounds it unasked, and the answer then differs from the figure. Showing numbers
    readably is the answer's job (`agents.answer_composer.format_value`), not the query's.

    >>> unrounded("SELECT ROUND(SUM(x), 2) AS total FROM t ORDER BY ROUND(SUM(x), 2)", "sqlite")
    'SELECT SUM(x) AS total FROM t ORDER BY SUM(x)'
    """
    tree = parse(sql, dialect)
    if not isinstance(tree, exp.Select):
        return sql
    rounded = [target for p in tree.expressions if isinstance(target := p.unalias(), exp.Round)]
    for target in rounded:
        for key in _order_keys(tree):
            if key == target:
                key.replace(target.this.copy())
        target.replace(target.this.copy())
    return tree.sql(dialect=dialect) if rounded else sql


def ordered_as_asked(sql: str, word: str | None, dialect: str) -> str:
    """`sql` ordered first by the one result column whose name has `word` in it, unless it is
    already; the model's own keys follow as tie-breakers.

    >>> sql = "SELECT plan, AVG(x) AS share FROM t ORDER BY share DESC"
    >>> ordered_as_asked(sql, "plan", "sqlite")
    'SELECT plan, AVG(x) AS share FROM t ORDER BY plan, share DESC'
    """
    tree = parse(sql, dialect) if word else None
    if not isinstance(tree, exp.Select) or (key := _result_key(tree, word or "")) is None:
        return sql
    keys = _order_keys(tree)
    if keys and keys[0] in key:
        return sql
    after = tree.args["order"].expressions if tree.args.get("order") else []
    return tree.order_by(key[0].sql(dialect=dialect), *after, append=False, dialect=dialect).sql(
        dialect=dialect
    )


def with_tie_break(sql: str, word: str | None, catalog: Catalog, dialect: str) -> str:
    """`sql` with the tie-break the question asks for ("break ties by country code", "ties
    alphabetically") as its last ORDER BY key, unless it is a key already. "Alphabetically"
    is the first result column that is stored text.

    >>> sql = "SELECT country, COUNT(*) AS n FROM users GROUP BY country ORDER BY n DESC"
    >>> with_tie_break(sql, "country", Catalog(tables=[]), "sqlite")
    'SELECT country, COUNT(*) AS n FROM users GROUP BY country ORDER BY n DESC, country'
    """
    tree = parse(sql, dialect) if word else None
    if not isinstance(tree, exp.Select) or not tree.args.get("order"):
        return sql
    if word == "alphabetically":
        texts = {c.name.lower() for t in catalog.tables for c in t.columns if c.is_text}
        word = next(
            (
                p.alias_or_name
                for p in tree.expressions
                if isinstance(p.unalias(), exp.Column) and p.unalias().name.lower() in texts
            ),
            None,
        )
    key = _result_key(tree, word or "")
    if key is None or any(k in key for k in _order_keys(tree)):
        return sql
    return tree.order_by(key[0].sql(dialect=dialect), dialect=dialect).sql(dialect=dialect)


def _result_key(select: exp.Select, word: str) -> tuple[exp.Expression, exp.Expression] | None:
    """The one result column whose name has `word` in it, as an ORDER BY key (its alias, or
    itself) and as its expression; None when no or several columns do."""
    if select.is_star or not word:
        return None
    wanted = {stem(word.lower()), stem(word.lower().removesuffix("s"))}
    named = [
        p for p in select.expressions if wanted & {stem(w) for w in name_words(p.alias_or_name)}
    ]
    if len(named) != 1:
        return None
    (column,) = named
    key = exp.column(column.alias) if isinstance(column, exp.Alias) else column.copy()
    return key, column.unalias()


def _conditions(select: exp.Select) -> list[exp.Expression]:
    found = [select.args["where"]] if select.args.get("where") else []
    return found + [j.args["on"] for j in select.args.get("joins") or [] if j.args.get("on")]


def with_terms(sql: str, terms: Sequence[Term], dialect: str) -> str:
    """`sql` with each defined term's filter where its table is read: added when the SELECT
    has no condition on the term's column, widened when its one condition asks for just one of
    the term's values.

    >>> t = Term(word="customer", table="users", column="role", values=["customer"])
    >>> with_terms("SELECT COUNT(*) FROM users AS u", [t], "sqlite")
    "SELECT COUNT(*) FROM users AS u WHERE u.role = 'customer'"
    >>> with_terms("SELECT id FROM users WHERE role = 'admin'", [t], "sqlite")
    "SELECT id FROM users WHERE role = 'admin'"
    >>> o = Term(word="open", table="orders", column="status", values=["open", "partial"])
    >>> with_terms("SELECT COUNT(*) FROM orders WHERE status = 'open'", [o], "sqlite")
    "SELECT COUNT(*) FROM orders WHERE status IN ('open', 'partial')"
    """
    tree = parse(sql, dialect) if terms else None
    if tree is None:
        return sql
    changed = False
    for select in list(tree.find_all(exp.Select)):
        for table in read_sources(select):
            for term in terms:
                if isinstance(table, exp.Table) and table.name.lower() == term.table.lower():
                    changed |= _apply(select, table.alias_or_name, term)
    return tree.sql(dialect=dialect) if changed else sql


def _apply(select: exp.Select, alias: str, term: Term) -> bool:
    on_column = [
        c
        for cond in _conditions(select)
        for c in own_columns(select, cond)
        if c.name.lower() == term.column.lower()
        and c.table.lower() in ("", alias.lower())  # not another table's column of that name
    ]
    if not on_column:
        select.where(term.condition(exp.column(term.column, table=alias)), copy=False)
        return True
    narrow = on_column[0].parent
    if (
        len(on_column) == 1
        and len(term.values) > 1
        and isinstance(narrow, exp.EQ)
        and isinstance(narrow.expression, exp.Literal)
        and narrow.expression.this in term.values
    ):
        narrow.replace(term.condition(on_column[0].copy()))
        return True
    return False


def _numbers(rows: Sequence[Sequence], index: int) -> list[float]:
    values = [r[index] for r in rows]
    return [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]


def shaped(
    sql: str, rows: Sequence[Sequence], cues: Cues, catalog: Catalog, dialect: str
) -> str | None:
    """`sql` with its result columns rounded or negated as the question asks, judged by the
    `rows` it returned; None when nothing needs to change.

    >>> none = Catalog(tables=[])
    >>> shaped("SELECT AVG(x) AS a FROM t", [[2.456]], Cues(decimals=1), none, "sqlite")
    'SELECT ROUND(AVG(x), 1) AS a FROM t'
    >>> shaped("SELECT SUM(x) FROM t", [[-3.5]], Cues(positive=True), none, "sqlite")
    'SELECT -(SUM(x)) FROM t'

    An ORDER BY on the very expression follows it: asked for the highest fees first as
    positive amounts, the model sorted the negative sums it wrote.
    """
    if not cues.shapes_result or not rows:
        return None
    tree = parse(sql, dialect)
    if not isinstance(tree, exp.Select) or tree.is_star or len(tree.expressions) != len(rows[0]):
        return None
    stored = {c.name.lower() for t in catalog.tables for c in t.columns}
    changed = False
    for index, projection in enumerate(tree.expressions):
        target = projection.unalias()
        if isinstance(target, exp.Column) and target.name.lower() in stored:
            continue  # a stored value is shown as it is kept
        values = _numbers(rows, index)
        if not values or len(values) < len([r for r in rows if r[index] is not None]):
            continue
        new = target
        if cues.positive and all(v <= 0 for v in values) and any(v < 0 for v in values):
            new = exp.Neg(this=exp.Paren(this=new.copy()))
            values = [-v for v in values]
        places = cues.decimals
        unrounded = places is not None and not target.find(exp.Round)
        if unrounded and any(isinstance(v, float) and round(v, places) != v for v in values):
            new = exp.func("ROUND", new.copy(), exp.Literal.number(places))
        if new is not target:
            for key in _order_keys(tree):
                if key == target:  # "highest first" meant the shaped value
                    key.replace(new.copy())
            target.replace(new)
            changed = True
    return tree.sql(dialect=dialect) if changed else None


def _order_keys(select: exp.Select) -> list[exp.Expression]:
    order = select.args.get("order")
    return [o.this for o in order.expressions] if order else []
