"""The trading bench measures on a throwaway database and checks its race's outcome."""

from evals.bench_trading import run_on_sqlite


def test_bench_counts_calls_and_the_race_accepts_only_the_affordable_half():
    report = run_on_sqlite(orders=12, threads=2)
    assert report.backend == "sqlite" and report.place_market.calls == 12
    assert report.place_market.per_s > 0 and report.portfolio.calls == 10
    race = report.contention
    assert (race.accepted, race.refused, race.attempts) == (race.affordable, race.affordable, 6)
    assert report.correct and race.final_cash >= 0
