"""The shipped verified examples are right, say what the semantic model declares by its names,
and are not the evaluation's questions in disguise."""

import numpy as np
import pytest
import sqlglot
from sqlglot import exp

from evals.golden import DEMO_SQL, DEMO_SQL_HOLDOUT, load_golden
from retrieval.embeddings import Embedder
from services.demo_data.generator import seed_examples
from services.identity import Caller, Role
from services.semantic.expand import expand
from services.semantic.loader import load_semantic_model
from services.semantic.model import CUBE
from sql_guard.guard import check
from sql_guard.policy import platform_policy
from sql_guard.runner import ReplicaRunner

SEEDS = seed_examples(None)
SEED_IDS = [s["question"][:40] for s in SEEDS]
MODEL = load_semantic_model()


def _unqualified(tree: exp.Expression) -> exp.Expression:
    """`tree` with its columns' table qualifiers dropped, so `o.status` and `status` compare."""
    tree = tree.copy()
    for column in tree.find_all(exp.Column):
        column.set("table", None)
    return tree


# Each named row set's table and condition, as a query would spell it out
DECLARED = {
    segment.name: (
        cube.sql_table,
        _unqualified(sqlglot.parse_one(segment.sql.replace(CUBE, "t"), read="sqlite")),
    )
    for cube in MODEL.cubes
    for segment in cube.segments
}


@pytest.mark.parametrize("seed", SEEDS, ids=SEED_IDS)
def test_seed_sql_passes_the_guard_and_runs(seed, demo_engine):
    sql = expand(sqlglot.parse_one(seed["sql"], read="sqlite"), MODEL, "sqlite").sql("sqlite")
    verdict = check(sql, policy=platform_policy(), caller=Caller(role=Role.ADMIN))
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


@pytest.mark.parametrize("seed", SEEDS, ids=SEED_IDS)
def test_no_seed_spells_out_what_the_semantic_model_declares(seed):
    """An example is shown to the model as the way to write such a question: one that spells
    out `status IN ('open', 'partially_filled')` teaches it a second definition of open orders,
    which drifts from the declared one the day an operator edits it."""
    shapes = {type(condition) for _, condition in DECLARED.values()}  # =, IN, AND, ...
    tree = sqlglot.parse_one(seed["sql"], read="sqlite")
    read = {table.name for table in tree.find_all(exp.Table)}
    conditions = {_unqualified(node) for node in tree.find_all(*shapes)}
    restated = [
        name
        for name, (table, condition) in DECLARED.items()
        if table in read and condition in conditions  # orders' 'rejected' is not KYC's
    ]
    assert not restated, f"use the declared {restated} instead of their conditions"
