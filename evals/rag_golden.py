"""Golden questions for document retrieval and answering: one JSON object a line.

A line names the question, the reference answer, and where the answer lives: `source` (the
document's title) and `section` (a heading; null: anywhere in the document).
`role` is who asks (customer by default; staff see internal documents). A line with no source,
or with `expect_decline`, must be declined: off-topic questions, and internal passages asked for
by a customer.

>>> import json, tempfile
>>> line = {"id": "q1", "question": "Capital of France?", "answer": "", "source": None}
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = Path(tmp) / "set.jsonl"
...     _ = path.write_text(json.dumps(line) + "\\n", encoding="utf-8")
...     [(q.role.value, q.expect_decline) for q in load_rag_golden(path)]
[('customer', True)]
"""

from __future__ import annotations

import random
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from evals.golden import read_golden_lines
from services.identity import Caller, Role

DEMO_DOCS = Path(__file__).resolve().parent / "golden" / "demo_docs.jsonl"
UNSEEN_DOCS = DEMO_DOCS.with_name("unseen_docs.jsonl")
"""Questions over the documents in `golden/unseen_docs/` (policy PDFs, rate cards, an HTML FAQ,
a DOCX addendum of a firm invented for it), written without reading the prompts and never tuned
on: facts in table rows, thresholds and exceptions, questions worded like data questions, and
questions the documents do not answer."""
UNSEEN_DOCS_DIR = DEMO_DOCS.with_name("unseen_docs")


class RagGoldenQuestion(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answer: str = ""
    source: str | None = Field(None, description="Document title or file stem.")
    section: str | None = Field(None, description="Heading that holds the answer.")
    role: Role = Role.CUSTOMER
    user_id: int | None = None
    expect_decline: bool = False
    facts: list[str] = Field(
        default_factory=list,
        description="What a right answer states, each fact one string; '|' separates ways of "
        "saying it ('2,000,000|2 million'). A fact that is a number ('25,000', '0.07%') is found "
        "by value among the answer's numbers, any other case-insensitively as whole words. "
        "Empty: the answer is not checked for being right.",
    )
    category: str = Field(
        "uncategorized",
        description="The kind of question (table_row, threshold, exception, data_like, "
        "unanswerable ...) for a per-kind breakdown.",
    )

    @model_validator(mode="after")
    def _no_source_means_decline(self) -> RagGoldenQuestion:
        if self.source is None and not self.expect_decline:
            object.__setattr__(self, "expect_decline", True)
        return self

    @property
    def caller(self) -> Caller:
        return Caller(user_id=self.user_id, role=self.role)


class RagGoldenError(ValueError):
    """A golden line that is not valid JSON or not a valid question, or a duplicate id."""


def load_rag_golden(
    path: Path, *, limit: int | None = None, seed: int | None = None
) -> list[RagGoldenQuestion]:
    """Read and validate; `limit` keeps the first N (or, with `seed`, a seeded sample)."""
    questions = read_golden_lines(Path(path), RagGoldenQuestion, RagGoldenError)
    if limit is None or limit >= len(questions):
        return questions
    if seed is None:
        return questions[:limit]
    picked = sorted(random.Random(seed).sample(range(len(questions)), limit))
    return [questions[i] for i in picked]
