"""How well a question maps onto what the database holds: the evidence the router and the SQL
agent weigh before a question is taken for a data question.

What the database holds is read from the catalog (each table's description, as schema linking
describes it, and each column with its comment) and from the semantic model (each cube,
segment, measure and dimension with its description, and its synonyms as an entry of their own,
so "clients" finds `customers`; each tool figure likewise, naming the read tool that computes
it). Each becomes an entry, embedded once on first use; a question's score is its best cosine
similarity with any entry, and the tables are those of the entries near that best, plus any
table whose name or listed value the question spells out
(`retrieval.schema_linking.mentioned_tables`). Values are matched as written, not embedded:
the entries are then the same whether the catalog was read from the models or the database.
Nothing here is a word list: an operator who adds a table, a column comment or a synonym
changes what counts as on the schema.

The best similarity is a coarse measure: a question sharing one word's meaning with a column
("bars" in a question about bullion, "close" in one about an exchange's hours) scores like a
data question. The router therefore weighs it against the documents' evidence, and its
threshold is low (see `agents/routing/policy.yaml`).

`subject` names, in the question's own words, what the database does not hold: of the
question's short runs of words, the one whose meaning is furthest from every entry while still
close to the question.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from pydantic import BaseModel, Field

from retrieval.schema_linking import describe, mentioned_tables
from services.catalog import Catalog, TableInfo
from services.semantic.model import SemanticModel

NEAR_BEST = 0.05
"""An entry this close to the best one names a table too (a question often spans two)."""
MAX_TABLES = 4
SUBJECT_WORDS = 4
"""Longest run of the question's words `subject` considers."""


class TextEmbedder(Protocol):
    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


class SchemaMatch(BaseModel):
    """A question against the schema and the semantic model."""

    score: float = Field(description="Best cosine similarity with any entry, -1 to 1.")
    tables: list[str] = Field(default_factory=list, description="Tables matched, best first.")
    nearest: str = Field("", description="The entry matched best, for the explanation.")
    tool: str | None = Field(
        None,
        description="The read tool that computes what the best entry names, when it is one of "
        "the semantic model's tool figures: no single query answers it.",
    )
    any_language: float | None = Field(
        None,
        description="Best cosine similarity with any entry in the multilingual model, when one "
        "is loaded: a question in another language scores there as its English wording would.",
    )

    def holds(self, bar: float, any_language_bar: float) -> bool:
        """Whether the database holds what the question names: the English model's score
        reaches `bar`, or the multilingual model's reaches `any_language_bar`.

        >>> german = SchemaMatch(score=0.12, any_language=0.88)
        >>> german.holds(0.33, 0.85), SchemaMatch(score=0.12).holds(0.33, 0.85)
        (True, False)
        """
        if self.score >= bar:
            return True
        return self.any_language is not None and self.any_language >= any_language_bar


@dataclass(frozen=True)
class Entry:
    text: str
    table: str  # the table it speaks of; empty for a tool figure
    tool: str | None = None  # the read tool that computes a tool figure


def _words(name: str) -> str:
    return name.replace("_", " ")


def _column_entries(table: TableInfo) -> list[Entry]:
    entries = []
    for column in table.columns:
        text = f"{_words(table.name)} {_words(column.name)}"
        if column.comment:
            text += f": {column.comment}"
        entries.append(Entry(text, table.name))
    return entries


def _semantic_entries(model: SemanticModel, tables: set[str]) -> list[Entry]:
    """A cube's parts count for its table; a cube defined by a query counts as itself (its name
    is unknown to the sensitivity table, so it is treated as confidential)."""
    entries = []
    for cube in model.cubes:
        table = cube.sql_table if cube.sql_table in tables else cube.name
        parts = [cube, *cube.segments, *cube.measures, *cube.dimensions]
        for part in parts:
            text = f"{_words(part.name)}: {part.title or ''} {part.description}".strip()
            entries.append(Entry(re.sub(r"\s+", " ", text), table))
            if part.meta.synonyms:
                entries.append(
                    Entry(f"{_words(part.name)}: {', '.join(part.meta.synonyms)}", table)
                )
    for figure in model.tool_figures:
        text = f"{_words(figure.name)}: {figure.title} {figure.description}"
        entries.append(Entry(re.sub(r"\s+", " ", text), "", figure.tool))
        if figure.meta.synonyms:
            synonyms = f"{_words(figure.name)}: {', '.join(figure.meta.synonyms)}"
            entries.append(Entry(synonyms, "", figure.tool))
    return entries


def schema_entries(catalog: Catalog, semantic: SemanticModel | None = None) -> list[Entry]:
    """
    >>> from services.catalog import ColumnInfo
    >>> table = TableInfo(name="orders", comment="Orders placed.",
    ...     columns=[ColumnInfo(name="side", type="TEXT", values=["buy", "sell"])])
    >>> [e.text for e in schema_entries(Catalog(tables=[table]))]
    ['orders: Orders placed. Columns: side', 'orders side']
    """
    entries = []
    for table in catalog.tables:
        entries.append(Entry(describe(table), table.name))
        entries += _column_entries(table)
    if semantic is not None:
        entries += _semantic_entries(semantic, {t.name for t in catalog.tables})
    return entries


class SchemaEvidence:
    """Scores questions against the schema's entries; the entries are embedded on first use.
    With a `multilingual` embedder a question whose English score falls below
    `multilingual_below` (the routing policy's `evidence.database`) is also scored in its space
    (`any_language`): above that bar the database holds it already, and the second embedding,
    about 15 ms on two cores, is spared on the path of every request. The tables, the nearest
    entry and the tool stay the English model's."""

    def __init__(
        self,
        embedder: TextEmbedder,
        catalog: Catalog,
        semantic: SemanticModel | None = None,
        *,
        multilingual: TextEmbedder | None = None,
        multilingual_below: float = 1.0,
    ):
        self.embedder = embedder
        self.multilingual = multilingual
        self.multilingual_below = multilingual_below
        self.catalog = catalog
        self.entries = schema_entries(catalog, semantic)
        self._vectors: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def _entry_vectors(self, embedder: TextEmbedder) -> np.ndarray:
        with self._lock:
            if id(embedder) not in self._vectors:
                self._vectors[id(embedder)] = np.asarray(
                    embedder.embed([e.text for e in self.entries]), dtype=np.float32
                )
            return self._vectors[id(embedder)]

    @property
    def vectors(self) -> np.ndarray:
        return self._entry_vectors(self.embedder)

    def _any_language(self, question: str, english: float) -> float | None:
        if self.multilingual is None or english >= self.multilingual_below:
            return None
        vector = np.asarray(self.multilingual.embed([question])[0], np.float32)
        return round(float(np.max(self._entry_vectors(self.multilingual) @ vector)), 4)

    def match(self, question: str) -> SchemaMatch:
        if not self.entries or not question.strip():
            return SchemaMatch(score=0.0)
        similarity = self.vectors @ np.asarray(self.embedder.embed([question])[0], np.float32)
        order = np.argsort(-similarity)
        best = float(similarity[order[0]])
        tables: list[str] = []
        for i in order:
            if similarity[i] < best - NEAR_BEST or len(tables) >= MAX_TABLES:
                break
            table = self.entries[i].table
            if table and table not in tables:
                tables.append(table)
        tables += sorted(mentioned_tables(self.catalog, question) - set(tables))
        nearest = self.entries[int(order[0])]
        return SchemaMatch(
            score=round(best, 4),
            tables=tables,
            nearest=nearest.text,
            tool=nearest.tool,
            any_language=self._any_language(question, best),
        )

    def subject(self, question: str) -> str:
        """The run of the question's words (up to `SUBJECT_WORDS`) that carries most of its
        meaning and least of the schema's: the question's own words for what the database
        lacks. The whole question when it is too short to cut."""
        words = question.strip().rstrip("?!.").split()
        spans = [
            " ".join(words[start : start + size])
            for size in range(1, SUBJECT_WORDS + 1)
            for start in range(len(words) - size + 1)
        ]
        if len(words) <= 2 or not spans:
            return question.strip().rstrip("?!.")
        vectors = np.asarray(self.embedder.embed([question, *spans]), dtype=np.float32)
        meaning = vectors[1:] @ vectors[0]
        on_schema = (vectors[1:] @ self.vectors.T).max(axis=1)
        return spans[int(np.argmax(meaning - on_schema))]
