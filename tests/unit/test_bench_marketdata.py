"""`trading-assist bench marketdata` runs small and prints its figures."""

from __future__ import annotations

import json
import re

from typer.testing import CliRunner

from cli.main import app


def test_bench_runs_small_and_prints_its_figures(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    args = ["bench", "marketdata", "--events", "200000", "--plain-events", "50000"]
    result = CliRunner().invoke(app, [*args, "--target", "0"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert re.search(r"vectorised \(numpy\)\s+│ 200,000 │ [\d.]+\s+│ [\d,]+ │ [\d.]+ ms", out)
    assert re.search(r"plain Python loop\s+│ 50,000 ", out)
    assert re.search(r"vectorised / plain = [\d.]+x", out)
    assert "same end state as the plain loop on its 50,000 events" in out


def test_bench_json_report_checks_the_end_state():
    args = ["bench", "marketdata", "--events", "200000", "--plain-events", "20000", "--json"]
    result = CliRunner().invoke(app, [*args, "--target", "0"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["events"] == 200_000 and report["plain_events"] == 20_000
    assert report["same_end_state"] is True and report["differences"] == []
    assert report["batches"] == 4 and report["batch_p99_ms"] >= report["batch_p50_ms"] > 0
    assert report["events_per_s"] > report["plain_events_per_s"] > 0
    assert report["sample_fired"] > 0 and report["sample_bars"] > 0
    # a target no machine reaches makes the command fail
    result = CliRunner().invoke(app, [*args, "--target", "1e12"])
    assert result.exit_code == 1
