"""The routing eval and bench: loading golden files, scores, confusion matrices, and the count
of confidential requests that would reach the cloud."""

from __future__ import annotations

import doctest
import json
from collections import Counter
from pathlib import Path

import pytest

from agents.routing.policy import load_routing_policy
from agents.routing.router import Router
from evals import bench_routing, routing_eval
from evals.routing_eval import (
    ROUTING_GOLDEN,
    RoutingGoldenError,
    load_routing_golden,
    run,
)
from services.identity import Role
from tests.unit.test_router import FakeEmbedder

CASES = [
    # right on every label
    {"id": "a", "question": "Cancel my order 42", "role": "customer", "query_type": "action",
     "sensitivity": "confidential", "complexity": "simple"},
    {"id": "b", "question": "hello there", "role": "support", "query_type": "general",
     "sensitivity": "public", "complexity": "simple"},
    # gold says confidential, the router sees a public opinion: counted as a leak to the cloud
    {"id": "c", "question": "Is it a good time to buy ether?", "role": "admin",
     "query_type": "reasoning", "sensitivity": "confidential", "complexity": "moderate"},
    # gold says document, the router says sql
    {"id": "d", "question": "How many orders did I place today?", "role": "customer",
     "query_type": "document", "sensitivity": "confidential", "complexity": "simple"},
    # a compound question with its parts
    {"id": "e", "role": "customer", "query_type": "sql", "sensitivity": "confidential",
     "complexity": "moderate", "parts": ["sql", "document"],
     "question": "What is my cash balance, and what does the fee schedule say about wires?"},
]  # fmt: skip


def write(path: Path, lines: list[dict | str]) -> Path:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


@pytest.fixture
def report(tmp_path):
    cases = load_routing_golden(write(tmp_path / "small.jsonl", CASES))
    return run(cases, Router(load_routing_policy()), golden="small.jsonl")


def test_scores_and_confusion_matrix(report):
    query_type = report.labels["query_type"]
    assert (query_type.correct, query_type.total, query_type.accuracy) == (4, 5, 0.8)
    assert query_type.confusion["document"]["sql"] == 1
    assert query_type.confusion["action"] == {
        "sql": 0,
        "document": 0,
        "action": 1,
        "general": 0,
        "reasoning": 0,
    }
    assert sum(sum(row.values()) for row in query_type.confusion.values()) == 5
    sensitivity = report.labels["sensitivity"]
    assert sensitivity.confusion["confidential"]["public"] == 1
    assert report.sensitivity_too_low == ["c"]
    assert report.compound_found == "1/1" and report.parts_correct == 0.8  # "d" is one part


def test_confidential_requests_sent_to_the_cloud_are_counted(report):
    assert report.confidential_to_cloud == 1
    assert report.confidential_to_cloud_ids == ["c"]
    by_id = {r.id: r for r in report.results}
    assert by_id["c"].gold["provider"] == "local" and by_id["c"].predicted["provider"] == "cloud"
    assert report.labels["provider"].confusion["local"]["cloud"] == 1


def test_results_keep_reasons_and_latency(report):
    first = report.results[0]
    assert first.correct and first.reasons and first.latency_ms >= 0
    assert not report.embeddings and report.embedding_share == 0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "not valid JSON"),
        (dict(CASES[0], role="robot"), "role"),
        (dict(CASES[0], parts=["document", "sql"]), "parts[0] must be the query_type"),
        (dict(CASES[0], parts=["action"]), "two or more"),
        ({"id": "x", "question": "hi"}, "query_type"),
    ],
)
def test_invalid_golden_lines_name_the_line(tmp_path, line, message):
    path = write(tmp_path / "bad.jsonl", [CASES[1], line])
    with pytest.raises(RoutingGoldenError) as error:
        load_routing_golden(path)
    assert f"{path}:2:" in str(error.value) and message in str(error.value)


def test_duplicate_ids_are_refused(tmp_path):
    path = write(tmp_path / "dup.jsonl", [CASES[0], "", CASES[0]])
    with pytest.raises(RoutingGoldenError, match="duplicate id 'a' \\(first on line 1\\)"):
        load_routing_golden(path)


def test_the_golden_set_covers_the_product():
    cases = load_routing_golden(ROUTING_GOLDEN)
    assert len(cases) >= 100
    # every role a person signs in with (a service is another system, routed as staff)
    assert Counter(c.role for c in cases).keys() == set(Role) - {Role.SERVICE}
    assert all(count >= 10 for count in Counter(c.query_type for c in cases).values())
    assert len({c.query_type for c in cases}) == 5
    compound = [c for c in cases if c.parts]
    assert len(compound) >= 8 and all(len(set(c.parts)) == len(c.parts) for c in compound)
    questions = [c.question.lower() for c in cases]
    assert len(set(questions)) == len(questions)


def test_eval_and_bench_docstring_examples():
    for module in (routing_eval, bench_routing):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0


def test_bench_reports_cold_and_warm_latency_and_the_embedding_share():
    cases = [c for c in load_routing_golden(ROUTING_GOLDEN)][:30]
    embedder = FakeEmbedder()
    report = bench_routing.run(cases, load_routing_policy(), embedder, rounds=2, budget_ms=1000.0)
    assert report.questions == 30 and report.embeddings
    assert 0 < report.embedding_share < 1
    assert 0 < report.cold.p50_ms <= report.cold.p95_ms <= report.cold.max_ms
    assert report.warm.p50_ms <= report.cold.p95_ms
    assert report.baseline.p50_ms > 0 and report.ratio > 0
    assert report.within_budget
    tight = bench_routing.run(cases, load_routing_policy(), embedder, rounds=1, budget_ms=1e-6)
    assert not tight.within_budget
