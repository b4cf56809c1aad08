"""The shipped verified examples are right, and are not the evaluation's questions in disguise."""

import numpy as np
import pytest

from evals.golden import DEMO_SQL, DEMO_SQL_HOLDOUT, load_golden
from retrieval.embeddings import Embedder
from services.demo_data.generator import seed_examples
from services.identity import Caller, Role
from sql_guard.guard import check
from sql_guard.policy import platform_policy
from sql_guard.runner import ReplicaRunner

SEEDS = seed_examples(None)


@pytest.mark.parametrize("seed", SEEDS, ids=[s["question"][:40] for s in SEEDS])
def test_seed_sql_passes_the_guard_and_runs(seed, demo_engine):
    verdict = check(seed["sql"], policy=platform_policy(), caller=Caller(role=Role.ADMIN))
    assert verdict.allowed, verdict.explain()
    ReplicaRunner(demo_engine, max_rows=10, timeout_s=5).run(verdict.sql)


@pytest.mark.parametrize("golden_file", [DEMO_SQL, DEMO_SQL_HOLDOUT], ids=lambda p: p.stem)
def test_no_seed_paraphrases_a_golden_question(golden_file):
    embedder = Embedder()
    golden = load_golden(golden_file)
    similarity = (
        embedder.embed([s["question"] for s in SEEDS])
        @ embedder.embed([q.question for q in golden]).T
    )
    worst = np.unravel_index(similarity.argmax(), similarity.shape)
    assert similarity.max() < 0.85, (SEEDS[worst[0]]["question"], golden[worst[1]].question)
