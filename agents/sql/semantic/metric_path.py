"""The easy path for aggregate questions: the model names measures, the layer writes the SQL.

A question whose meaning is close to one of the semantic model's measures (its name, its
description or one of its synonyms, each embedded with all-MiniLM-L6-v2) is first put to the
model as a choice: which measures, over which rows, grouped by what, per which period, filtered how
(`services.semantic.metric_query.MetricQuery`, through the `json_schema` response format the
local models follow). The query compiled from that choice runs like any other; when the model
cannot fill it, or what it compiles to is refused, the question goes the raw SQL way.
"""

from __future__ import annotations

import numpy as np

from retrieval.embeddings import Embedder
from services.semantic.metric_query import MetricQuery
from services.semantic.model import SemanticModel

MIN_SIMILARITY = 0.55  # on the demo set: 21 of 70 questions (MRR 0.92, a customer table 0.28)

METRIC_FORMAT = {
    "type": "json_schema",
    "json_schema": {"name": "metric_query", "schema": MetricQuery.model_json_schema()},
}


def _described(model: SemanticModel) -> list[str]:
    """Each measure's name, description and synonyms, apart: a question close to any of them
    is close to the measure ("paid in fees in total" to "fees paid")."""
    return [
        text
        for cube in model.cubes
        for m in cube.measures
        for text in (m.name.replace("_", " "), m.description, *m.meta.synonyms)
        if text
    ]


class MetricPath:
    def __init__(self, embedder: Embedder, model: SemanticModel):
        self.embedder = embedder
        texts = _described(model)
        self.vectors = embedder.embed(texts) if texts else np.zeros((0, 384), np.float32)

    def similarity(self, question: str) -> float:
        """How close the question is to the nearest measure."""
        if not len(self.vectors):
            return 0.0
        return float(np.max(self.vectors @ self.embedder.embed([question])[0]))

    def fits(self, question: str) -> bool:
        return self.similarity(question) >= MIN_SIMILARITY


def parse_metric_query(text: str) -> MetricQuery | None:
    """The model's choice, or None when its reply is not one.

    >>> parse_metric_query('{"measures": ["fees_charged"]}').measures
    ['fees_charged']
    >>> parse_metric_query('{"sql": "SELECT 1"}') is None
    True
    """
    try:
        return MetricQuery.model_validate_json(text.strip())
    except ValueError:
        return None
