"""Golden question sets for the NL->SQL evaluation: one JSON object a line, validated on load.

A line names its database relative to the directory the eval is given (`--db-dir`), the question,
the gold SQL (and alternatives that also count as correct), a category for the per-category
report, optional term definitions for the model, and, for the platform's demo set, the customer
who asks it.

>>> import json, tempfile
>>> line = {"id": "q1", "db": "a.db", "question": "How many?", "gold_sql": "SELECT 1"}
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = Path(tmp) / "set.jsonl"
...     _ = path.write_text(json.dumps(line) + "\\n\\n", encoding="utf-8")
...     [q.category for q in load_golden(path)]
['uncategorized']
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEMO_SQL = Path(__file__).resolve().parent / "golden" / "demo_sql.jsonl"
"""The platform's own set: questions over the demo schema (`db` is `trading_assist.db`). Each line
also carries a `difficulty` (easy, medium or hard) for people reading the file; the loader ignores
it."""

DEMO_SQL_HOLDOUT = DEMO_SQL.with_name("demo_sql_holdout.jsonl")
"""Questions of the same kind, written apart from the verified examples the SQL memory ships
and never used to tune prompts or examples: the check that what helps the demo set is not
teaching to its test."""

PLAIN_SQL = DEMO_SQL.with_name("plain_sql.jsonl")
"""Short questions in the words operators and customers type ("fees last month", "my cash in
total?"), written without reading the prompts or rules, and never tuned on."""

PARAPHRASE_SQL = DEMO_SQL.with_name("paraphrase_sql.jsonl")
"""30 intents, each asked three ways (`phrasing`: a synonym, a terse and a German, French or
Spanish wording) with one gold query; never tuned on."""

FOLLOWUP_SQL = DEMO_SQL.with_name("followup_sql.jsonl")
"""Pairs asked in one conversation: the second row `follows` the first and is worded as a
follow-up ("and last month?"); never tuned on."""

FOLLOWUP_TUNING = DEMO_SQL.with_name("followup_tuning.jsonl")
"""Follow-up pairs of the same shape, written later to tune the handling of follow-ups on, so
that `followup_sql` stays unread: a changed value, a breakdown, a narrower set, another
language for the second turn."""

DEMO_CATEGORIES = (
    "count",
    "filter",
    "aggregate",
    "join",
    "group_order_limit",
    "date_range",
    "window",
    "subquery",
    "customer_scoped",
)
"""The demo set's categories; `customer_scoped` questions are asked in the first person by the
customer in `user_id`, and their gold SQL filters on that id."""


class GoldenQuestion(BaseModel):
    """One question with its gold SQL. Unknown fields in the file (e.g. `source_file`) are
    ignored."""

    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1, description="Unique within its set.")
    db: str = Field(description="Database file path relative to the --db-dir given to the eval.")
    question: str = Field(min_length=1)
    gold_sql: str = Field(min_length=1)
    gold_sql_alternatives: list[str] = Field(
        default_factory=list, description="Other queries whose result also counts as correct."
    )
    category: str = "uncategorized"
    instructions: str | None = Field(
        None, description="Definitions of terms the question relies on, passed to the model."
    )
    user_id: int | None = Field(None, description="Ask as this customer (demo set only).")
    intent: str | None = Field(
        None,
        description="What is asked, shared by the rows that ask the same thing in other words "
        "(the paraphrase set), so accuracy can be read per intent as well as per phrasing.",
    )
    follows: str | None = Field(
        None,
        description="Id of the earlier question in the same set this one follows up in one "
        "conversation; it is asked with that turn as context, and its gold SQL is the whole "
        "standalone query.",
    )

    @field_validator("instructions")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value if value and value.strip() else None

    @property
    def gold_sqls(self) -> list[str]:
        """The gold query followed by its alternatives."""
        return [self.gold_sql, *self.gold_sql_alternatives]


class GoldenFileError(ValueError):
    """A golden file line that is not valid JSON or not a valid `GoldenQuestion`."""


Line = TypeVar("Line", bound=BaseModel)


def read_golden_lines(path: Path, model: type[Line], error: type[Exception]) -> list[Line]:
    """Every non-blank line of a golden JSONL file as `model`. Raises `error` naming the file
    and line of the first line that is not JSON or not a valid `model`, or that repeats an id."""
    items: list[Line] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = model.model_validate(json.loads(line))
            except json.JSONDecodeError as exc:
                raise error(f"{path}:{number}: not valid JSON: {exc.msg}") from exc
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in err['loc']) or 'line'}: {err['msg']}"
                    for err in exc.errors()
                )
                raise error(f"{path}:{number}: invalid line: {problems}") from exc
            key = item.id  # type: ignore[attr-defined]
            if key in seen:
                raise error(f"{path}:{number}: duplicate id {key!r} (first on line {seen[key]})")
            seen[key] = number
            items.append(item)
    return items


def load_golden(
    path: Path, *, limit: int | None = None, seed: int | None = None
) -> list[GoldenQuestion]:
    """Read and validate a golden JSONL file; blank lines are skipped.

    `limit` without `seed` keeps the first `limit` questions in file order. With `seed` it keeps
    `random.Random(seed).sample` of that size drawn from the questions sorted by id, so the same
    seed picks the same questions whatever the file order; they are returned in id order. Raises
    `GoldenFileError` naming the file and line of the first invalid line, or a duplicate id.
    """
    questions = read_golden_lines(Path(path), GoldenQuestion, GoldenFileError)
    if limit is None:
        return questions
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    if seed is None:
        return questions[:limit]
    ordered = sorted(questions, key=lambda q: q.id)
    if limit >= len(ordered):
        return ordered
    picked = random.Random(seed).sample(range(len(ordered)), limit)
    return [ordered[i] for i in sorted(picked)]
