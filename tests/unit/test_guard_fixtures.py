"""The guard against its case files (tests/fixtures/sql_guard/*.sql): every attack is refused
with exactly the reasons its case names, every legitimate query is allowed, and the allowed
SQLite queries, once rewritten, run on the demo database's read replica."""

from __future__ import annotations

import doctest
import re
from collections import Counter
from pathlib import Path

import pytest
import sqlglot
from sqlglot.optimizer.qualify import qualify

from evals.bench_guard import load_corpus
from evals.bench_guard import run as run_bench
from services.db.engines import make_replica_engine
from sql_guard.columns import resolve_columns, resolve_with_qualify
from sql_guard.guard import DIALECTS, check
from sql_guard.policy import platform_policy
from sql_guard.rules.subject import Subject
from sql_guard.runner import ReplicaRunner
from tests.fixtures.sql_guard import loader
from tests.fixtures.sql_guard.loader import GuardCase, parse_cases, read_cases

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "sql_guard"
CASES = read_cases(FIXTURES)
POLICY = platform_policy()


def _id(case: GuardCase) -> str:
    return f"{case.source.removesuffix('.sql')}:{re.sub(r'[^A-Za-z0-9]+', '-', case.title)}"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_guard_reaches_the_expected_outcome(case: GuardCase):
    verdict = check(case.sql, policy=POLICY, caller=case.caller(), dialect=case.dialect)
    codes = sorted({reason.code for reason in verdict.reasons})
    assert (verdict.allowed, codes) == (case.allowed, sorted(set(case.expected))), verdict.explain()
    assert (verdict.sql is not None) == case.allowed
    assert all(reason.message for reason in verdict.reasons)


def test_the_corpus_covers_attacks_and_analytics_in_every_dialect():
    attacks = [c for c in CASES if not c.allowed]
    legit = [c for c in CASES if c.allowed]
    assert len(attacks) >= 80 and len(legit) >= 40
    assert {c.dialect for c in attacks} == set(DIALECTS) == {c.dialect for c in legit}
    assert len({(c.source, c.title) for c in CASES}) == len(CASES), "titles repeat"
    codes = Counter(code for c in attacks for code in c.expected)
    for code in (
        "statement_count",
        "comment",
        "not_select",
        "write_statement",
        "select_into",
        "row_lock",
        "denied_function",
        "unknown_function",
        "system_catalog",
        "table_not_allowed",
        "sensitive_column",
        "unknown_column",
        "recursive_cte",
    ):
        assert codes[code] >= 2, code


def test_allowed_sqlite_cases_run_on_the_demo_replica(demo_settings):
    engine = make_replica_engine(demo_settings.read_replica_url, 5)
    runner = ReplicaRunner(engine, max_rows=POLICY.max_rows, timeout_s=5)
    try:
        ran = 0
        for case in CASES:
            if case.allowed and case.dialect == "sqlite":
                verdict = check(case.sql, policy=POLICY, caller=case.caller())
                runner.run(verdict.sql)  # raises QueryError if the rewrite broke the query
                ran += 1
    finally:
        engine.dispose()
    assert ran >= 40


def test_column_resolution_sees_every_read_sqlglots_qualify_sees():
    """The guard resolves columns itself (SQLGlot's `qualify` costs about three parses, which
    would break the speed budget) and falls back to `qualify` for forms it does not model.
    On every allowed case, `qualify` must accept the columns too, and every column it finds
    read must be one the guard found read, so the sensitive-column check misses nothing."""
    checked = 0
    for case in CASES:
        if not case.allowed:
            continue
        tree = sqlglot.parse_one(case.sql, read=case.dialect)
        subject = Subject.prepare(tree, case.dialect, POLICY, case.caller())
        catalog = subject.catalog
        qualify(
            tree.copy(),
            schema=catalog.schema,
            dialect=case.dialect,
            validate_qualify_columns=True,
            quote_identifiers=False,
        )  # raises OptimizeError for a column SQLGlot cannot resolve
        ours = resolve_columns(subject.tree, subject.scopes, catalog)
        assert not ours.problems, case.title
        assert resolve_with_qualify(subject.tree, catalog).reads <= ours.reads, case.title
        checked += 1
    assert checked >= 40


def test_loader_examples():
    assert doctest.testmod(loader, optionflags=doctest.ELLIPSIS).failed == 0


def test_loader_applies_defaults_and_refuses_a_case_without_outcome():
    text = "# dialect: tsql\n# role: support\n\n# title: t\n# user: none\nSELECT 1\nallowed"
    (case,) = parse_cases(text)
    assert (case.dialect, case.role, case.user, case.allowed) == ("tsql", "support", None, True)
    with pytest.raises(ValueError, match="needs SQL and an expected outcome"):
        parse_cases("# title: lonely\nSELECT 1")


def test_bench_reads_the_same_corpus_and_agrees_with_it():
    corpus = load_corpus(FIXTURES)
    assert len(corpus) == len(CASES)
    report = run_bench(corpus[:40], rounds=1, policy=POLICY)
    assert report.mismatches == 0
    assert report.corpus.statements == 40 and report.corpus.guard_per_s > 0
