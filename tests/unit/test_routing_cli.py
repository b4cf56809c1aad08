"""`trading-assist route`, `eval routing` and `bench routing` through the CLI."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from cli.main import app
from tests.unit.test_routing_eval import CASES, write

runner = CliRunner()


def test_route_json_prints_the_decision():
    result = runner.invoke(
        app,
        [
            "route",
            "--json",
            "--rules-only",
            "What is my BTC position, and what does the fee schedule say about withdrawals?",
        ],
    )
    assert result.exit_code == 0, result.output
    decision = json.loads(result.stdout)
    assert {"query_type", "sensitivity", "complexity", "provider", "reasons", "parts"} <= set(
        decision
    )
    assert (decision["query_type"], decision["sensitivity"], decision["provider"]) == (
        "sql",
        "confidential",
        "local",
    )
    assert [p["query_type"] for p in decision["parts"]] == ["sql", "document"]
    assert decision["reasons"][-1].startswith("provider local")


def test_route_takes_the_role_into_account():
    question = "Should I sell, given I bought at 60k?"
    args = ["route", "--json", "--rules-only", question]
    as_customer = json.loads(runner.invoke(app, args).stdout)
    as_admin = json.loads(runner.invoke(app, [*args, "--role", "admin"]).stdout)
    assert (as_customer["sensitivity"], as_customer["provider"]) == ("confidential", "local")
    assert (as_admin["sensitivity"], as_admin["provider"]) == ("public", "cloud")


def test_route_refuses_a_policy_that_leaks_confidential_requests(tmp_path):
    policy = tmp_path / "leaky.yaml"
    policy.write_text("rules: []\ndefault: cloud\n")
    result = runner.invoke(app, ["route", "--rules-only", "--policy", str(policy), "hi"])
    assert result.exit_code == 2
    assert "would send a confidential request to the cloud" in result.output


def test_eval_routing_writes_the_report_and_exits_1_on_a_leak(tmp_path):
    golden = write(tmp_path / "g.jsonl", CASES)
    out = tmp_path / "report.json"
    result = runner.invoke(
        app, ["eval", "routing", "--golden", str(golden), "--rules-only", "--out", str(out)]
    )
    assert result.exit_code == 1, result.output
    assert "confidential requests sent to the cloud" in result.stdout
    assert "confusion: query_type" in result.stdout
    report = json.loads(out.read_text())
    assert report["confidential_to_cloud_ids"] == ["c"]
    assert report["labels"]["query_type"]["accuracy"] == 0.8


def test_eval_routing_exits_0_without_leaks(tmp_path):
    golden = write(tmp_path / "g.jsonl", [c for c in CASES if c["id"] != "c"])
    result = runner.invoke(app, ["eval", "routing", "--golden", str(golden), "--rules-only"])
    assert result.exit_code == 0, result.output
    assert "confidential requests sent to the cloud: 0" in result.stdout


def test_bench_routing_is_registered():
    result = runner.invoke(app, ["bench", "routing", "--help"])
    assert result.exit_code == 0
    assert "--budget-ms" in result.stdout and "--rules-only" in result.stdout
