"""How fast the SQL guard checks a statement, next to a bare SQLGlot parse of the same one.

The corpus is the guard's fixture cases (`tests/fixtures/sql_guard/*.sql`: attacks and
legitimate analytical queries in five dialects), each checked as its case's caller. Both sides
run in the same process, in interleaved rounds, and each keeps its fastest round, so a busy
machine slows both alike and the ratio stays comparable run to run. The guard parses too, so
the ratio is what the checks and rewrites add on top of parsing: the budget is 3x.

    trading-assist bench guard [--rounds 7] [--corpus DIR] [--json]
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import sqlglot
from pydantic import BaseModel, Field
from sqlglot.errors import SqlglotError

from services.identity import Caller
from sql_guard.guard import check
from sql_guard.policy import Policy, platform_policy

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "sql_guard"
BUDGET = 3.0  # the guard may cost at most this many bare parses


@dataclass(frozen=True)
class Statement:
    sql: str
    dialect: str
    caller: Caller
    allowed: bool  # what the case file expects


class Timing(BaseModel):
    statements: int
    guard_per_s: float = Field(description="Guard checks per second (parse, rules, rewrites).")
    parse_per_s: float = Field(description="sqlglot.parse_one calls per second.")
    ratio: float = Field(description="Time of a check over time of a bare parse.")


class BenchReport(BaseModel):
    rounds: int
    corpus: Timing = Field(description="Every statement of the corpus.")
    allowed: Timing | None = Field(description="Only the statements the guard lets through.")
    budget: float
    within_budget: bool = Field(description="The whole corpus's ratio is within the budget.")
    mismatches: int = Field(description="Statements whose verdict differs from the case file.")


def load_corpus(directory: Path = CORPUS) -> list[Statement]:
    """The statements of every case file in `directory`, read by the fixtures' own loader."""
    if not directory.is_dir():
        raise FileNotFoundError(f"no guard case files at {directory} (a source checkout has them)")
    loader = _case_loader()
    return [
        Statement(case.sql, case.dialect, case.caller(), case.allowed)
        for case in loader.read_cases(directory)
    ]


def _case_loader() -> ModuleType:
    """`tests/fixtures/sql_guard/loader.py`, loaded by path: `tests` is no installed package."""
    name = "sql_guard_case_loader"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, CORPUS / "loader.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"no case loader at {CORPUS / 'loader.py'}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def _parse_all(corpus: list[Statement]) -> None:
    for statement in corpus:
        # attacks include SQL that does not parse; the guard meets them too
        with contextlib.suppress(SqlglotError):
            sqlglot.parse_one(statement.sql, read=statement.dialect)


def _check_all(corpus: list[Statement], policy: Policy) -> None:
    for statement in corpus:
        check(statement.sql, policy=policy, caller=statement.caller, dialect=statement.dialect)


def measure(corpus: list[Statement], policy: Policy, rounds: int) -> Timing:
    """Fastest of `rounds` interleaved rounds of each side over the whole of `corpus`."""
    best = {"parse": float("inf"), "guard": float("inf")}
    sides = {"parse": lambda: _parse_all(corpus), "guard": lambda: _check_all(corpus, policy)}
    for _ in range(rounds):
        for side, run_side in sides.items():
            started = time.perf_counter()
            run_side()
            best[side] = min(best[side], time.perf_counter() - started)
    return Timing(
        statements=len(corpus),
        guard_per_s=round(len(corpus) / best["guard"], 1),
        parse_per_s=round(len(corpus) / best["parse"], 1),
        ratio=round(best["guard"] / best["parse"], 2),
    )


def run(
    corpus: list[Statement],
    rounds: int = 7,
    policy: Policy | None = None,
    budget: float = BUDGET,
) -> BenchReport:
    """Check the verdicts once (and warm every cache), then time both corpora."""
    if not corpus:
        raise ValueError("the corpus has no statements")
    policy = policy or platform_policy()
    sqlglot_log = logging.getLogger("sqlglot")
    level = sqlglot_log.level
    sqlglot_log.setLevel(logging.ERROR)  # its "falling back to Command" warnings are not timed
    try:
        mismatches = sum(
            check(s.sql, policy=policy, caller=s.caller, dialect=s.dialect).allowed != s.allowed
            for s in corpus
        )
        _parse_all(corpus)
        whole = measure(corpus, policy, rounds)
        passing = [s for s in corpus if s.allowed]
        allowed = measure(passing, policy, rounds) if passing else None
    finally:
        sqlglot_log.setLevel(level)
    return BenchReport(
        rounds=rounds,
        corpus=whole,
        allowed=allowed,
        budget=budget,
        within_budget=whole.ratio <= budget,
        mismatches=mismatches,
    )
