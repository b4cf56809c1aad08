"""Schema linking: which tables a question needs, so the prompt carries those and not the rest.

Each table is described by its name, comment, columns and their comments and values; the
question is matched against those descriptions by embedding similarity, and a value or a table
name written in the question links its table outright. Tables on the foreign-key path between
linked tables come along, so the model can still join them.
"""

from __future__ import annotations

import re

import numpy as np

from retrieval.embeddings import Embedder
from services.catalog import Catalog, TableInfo


def describe(table: TableInfo) -> str:
    """The text a table is found by.

    >>> from services.catalog import ColumnInfo
    >>> describe(TableInfo(name="kyc_verifications", comment="Identity checks.",
    ...     columns=[ColumnInfo(name="status", type="TEXT", comment="Where it is.")]))
    'kyc verifications: Identity checks. Columns: status (Where it is.)'
    """
    columns = ", ".join(
        f"{c.name.replace('_', ' ')}" + (f" ({c.comment})" if c.comment else "")
        for c in table.columns
    )
    return f"{table.name.replace('_', ' ')}: {table.comment} Columns: {columns}".replace("  ", " ")


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if len(w) > 2}


def mentioned_tables(catalog: Catalog, question: str) -> set[str]:
    """Tables whose name, or one of whose listed values, the question spells out.

    >>> from services.catalog import ColumnInfo
    >>> orders = TableInfo(name="orders", columns=[
    ...     ColumnInfo(name="status", type="TEXT", values=["filled", "open"])])
    >>> sorted(mentioned_tables(Catalog(tables=[orders]), "Which got filled?"))
    ['orders']
    """
    words = _words(question)
    lowered = question.lower()
    found = set()
    for table in catalog.tables:
        singular = table.name.lower().rstrip("s")
        if singular in words or table.name.lower() in words:
            found.add(table.name)
        for column in table.columns:
            if any(len(v) > 2 and v.lower() in lowered for v in column.values):
                found.add(table.name)
    return found


class SchemaLinker:
    def __init__(
        self, embedder: Embedder, catalog: Catalog, *, top_k: int = 4, min_tables: int = 6
    ):
        """Schemas of `min_tables` tables or fewer are shown whole: linking would save little
        and could only lose a table the question needs."""
        self.catalog = catalog
        self.min_tables = min_tables
        self.embedder = embedder
        self.top_k = top_k
        self.names = [t.name for t in catalog.tables]
        self.vectors = embedder.embed([describe(t) for t in catalog.tables])

    def link(self, question: str) -> set[str]:
        if len(self.names) <= self.min_tables:
            return set(self.names)
        scores = self.vectors @ self.embedder.embed([question])[0]
        ranked = [self.names[i] for i in np.argsort(-scores)]
        chosen = set(ranked[: self.top_k]) | self._mentioned(question)
        return chosen | self._bridges(chosen)

    def _mentioned(self, question: str) -> set[str]:
        return mentioned_tables(self.catalog, question)

    def _bridges(self, chosen: set[str]) -> set[str]:
        """Tables that connect two chosen ones through foreign keys (one hop)."""
        bridges = set()
        for table in self.catalog.tables:
            if table.name in chosen:
                continue
            around = {ref for _, ref, _ in table.foreign_keys} | {
                t.name
                for t in self.catalog.tables
                if any(ref == table.name for _, ref, _ in t.foreign_keys)
            }
            if len(around & chosen) >= 2:
                bridges.add(table.name)
        return bridges
