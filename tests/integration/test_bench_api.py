"""`trading-assist bench api` times chat turns over real HTTP (the platform and a bare FastAPI
endpoint, each a uvicorn server on 127.0.0.1) and reports the platform's overhead per turn."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.main import app

SIDE = {"turns", "per_s", "p50_ms", "p99_ms", "mean_ms", "cpu_ms"}


def test_bench_api_reports_both_servers_and_the_overhead():
    result = CliRunner().invoke(app, ["bench", "api", "--turns", "5", "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["within_budget"] else 1)
    assert report["question"] == "How many open orders do I have?"
    for side in (report["platform"], report["bare"]):
        assert set(side) == SIDE and side["turns"] == 5
        assert 0 < side["p50_ms"] <= side["p99_ms"] and side["per_s"] > 0
    # the platform runs a graph, a guard and queries; the bare endpoint hands back JSON
    assert report["platform"]["p50_ms"] > report["bare"]["p50_ms"]
    assert report["overhead_ms"] == round(
        report["platform"]["p50_ms"] - report["bare"]["p50_ms"], 3
    )
    assert report["ratio"] > 1 and report["budget_ms"] == 15.0
