"""The semantic model's instructions that apply to a question, found by meaning.

Each instruction lists example questions it is for (`when`); a question gets the instruction
whose closest example is at least `MIN_SIMILARITY` alike in all-MiniLM-L6-v2's embedding space,
so "Durchschnittskurs der letzten fünf Handelstage" and "average close over the last five
sessions" find the same advice, and no pattern of English words decides.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from retrieval.embeddings import Embedder
from services.semantic.model import Instruction

MIN_SIMILARITY = 0.7  # measured: real matches 0.72 to 0.95, the closest stray 0.65
MAX_MATCHES = 2  # each costs prompt tokens on two cores


class InstructionMatcher:
    def __init__(self, embedder: Embedder, instructions: Sequence[Instruction]):
        self.embedder = embedder
        self.instructions = list(instructions)
        self.owners = [i for i, ins in enumerate(self.instructions) for _ in ins.when]
        phrases = [w for ins in self.instructions for w in ins.when]
        self.vectors = embedder.embed(phrases) if phrases else np.zeros((0, 384), np.float32)

    def scores(self, question: str) -> list[tuple[float, Instruction]]:
        """Each instruction with the similarity of its closest example, best first."""
        if not self.owners:
            return []
        similarity = self.vectors @ self.embedder.embed([question])[0]
        best: dict[int, float] = {}
        for owner, score in zip(self.owners, similarity, strict=True):
            best[owner] = max(best.get(owner, -1.0), float(score))
        ranked = sorted(best.items(), key=lambda item: -item[1])
        return [(score, self.instructions[i]) for i, score in ranked]

    def match(self, question: str) -> list[Instruction]:
        return [i for s, i in self.scores(question)[:MAX_MATCHES] if s >= MIN_SIMILARITY]
