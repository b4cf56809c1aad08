"""Verified question -> SQL pairs, found again by meaning.

They serve as few-shot examples for similar questions, and a question that is a near copy of a
verified one reuses its SQL without asking the model. Seeded with pairs written for the demo
schema; grows when staff confirm an answer, or approve a customer's confirmation (the store is
services/sql_examples.py; this is the searchable copy in memory).
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel

from retrieval.embeddings import Embedder

REUSE_SIMILARITY = 0.97  # above this the stored SQL is used as is


class Example(BaseModel):
    question: str
    sql: str
    similarity: float = 0.0


class SqlMemory:
    def __init__(
        self,
        embedder: Embedder,
        examples: list[tuple[str, str]],
    ):
        self.embedder = embedder
        self.examples = [Example(question=q, sql=s) for q, s in examples]
        self.vectors = (
            embedder.embed([e.question for e in self.examples])
            if self.examples
            else np.zeros((0, 384), np.float32)
        )

    def search(self, question: str, k: int = 3) -> list[Example]:
        if not self.examples:
            return []
        scores = self.vectors @ self.embedder.embed([question])[0]
        best = np.argsort(-scores)[:k]
        return [self.examples[i].model_copy(update={"similarity": float(scores[i])}) for i in best]

    def remember(self, question: str, sql: str) -> None:
        if any(e.question == question and e.sql == sql for e in self.examples):
            return
        self.examples.append(Example(question=question, sql=sql))
        self.vectors = np.vstack([self.vectors, self.embedder.embed([question])])
