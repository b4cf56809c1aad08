"""`trading-assist bench auth` measures every credential kind on a real database and a
rate-limit hit in memory and in the real Redis."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.main import app


def test_bench_auth_reports_each_kind():
    result = CliRunner().invoke(
        app,
        ["bench", "auth", "--requests", "20", "--redis-url", "redis://127.0.0.1:6379/0", "--json"],
    )
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["within_budget"] else 1)
    assert set(report["kinds"]) == {
        "local operator",
        "X-User-Id",
        "development token",
        "API key",
        "Entra token",
    }
    assert set(report["rate_limit"]) == {"memory", "redis"}
    # a signature check costs more than handing back the operator
    assert report["kinds"]["Entra token"]["p50_ms"] > report["kinds"]["local operator"]["p50_ms"]
