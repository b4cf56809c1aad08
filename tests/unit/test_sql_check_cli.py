"""`trading-assist sql check`: the guard from the command line, JSON out, exit code by verdict."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def _check(*args: str, stdin: str | None = None) -> tuple[int, dict]:
    result = runner.invoke(app, ["sql", "check", *args], input=stdin)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_allowed_query_prints_the_rewritten_sql_and_exits_0():
    code, out = _check("--user-id", "42", "SELECT symbol FROM orders WHERE status = 'open'")
    assert code == 0
    assert out == {
        "allowed": True,
        "reasons": [],
        "sql": "SELECT symbol FROM (SELECT * FROM orders WHERE user_id = 42) AS orders "
        "WHERE status = 'open' LIMIT 200",
    }


def test_rejected_query_prints_the_reasons_and_exits_1():
    code, out = _check("--dialect", "postgres", "SELECT pg_sleep(10)")
    assert code == 1
    assert out["allowed"] is False and out["sql"] is None
    assert [r["code"] for r in out["reasons"]] == ["denied_function"]
    assert "pg_sleep" in out["reasons"][0]["message"]


def test_dash_reads_the_sql_from_stdin():
    code, out = _check("--dialect", "postgres", "-", stdin="SELECT 1;\nDROP TABLE users\n")
    assert code == 1
    assert [r["code"] for r in out["reasons"]] == ["statement_count"]


def test_default_role_is_admin_without_user_id_and_customer_with_it():
    sql = "SELECT action FROM audit_log"
    assert _check(sql)[0] == 0
    code, out = _check("--user-id", "7", sql)
    assert code == 1 and out["reasons"][0]["code"] == "table_not_allowed"
    code, out = _check("--role", "support", "SELECT question FROM sql_examples")
    assert code == 1 and out["reasons"][0]["code"] == "table_not_allowed"
    code, out = _check("--role", "customer", "SELECT id FROM orders")
    assert code == 1 and out["reasons"][0]["code"] == "no_identity"


def test_schema_file_opens_its_tables_to_everyone(tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"trades": {"id": "INT", "px": "DOUBLE"}}))
    code, out = _check(
        "--dialect", "tsql", "--schema", str(schema), "--user-id", "3", "SELECT px FROM trades"
    )
    assert (code, out["sql"]) == (0, "SELECT TOP 200 px FROM trades")
    code, out = _check("--schema", str(schema), "SELECT id FROM orders")
    assert code == 1 and out["reasons"][0]["code"] == "unknown_table"


def test_policy_file_scopes_hides_and_caps(tmp_path):
    policy = tmp_path / "shop.yaml"
    policy.write_text(
        "tables:\n"
        "  orders: {id: INT, user_id: INT, symbol: TEXT}\n"
        "  users: {id: INT, email: TEXT, country: TEXT}\n"
        "owner_columns: {orders: user_id, users: id}\n"
        "sensitive_columns: {users: [email]}\n"
        "role_tables: {customer: [orders]}\n"
        "max_rows: 20\n"
    )
    code, out = _check(
        "--policy", str(policy), "--dialect", "postgres", "--user-id", "5",
        "SELECT symbol FROM orders",
    )  # fmt: skip
    assert out["sql"] == (
        "SELECT symbol FROM (SELECT * FROM orders WHERE user_id = 5) AS orders LIMIT 20"
    )
    code, out = _check("--policy", str(policy), "--user-id", "5", "SELECT country FROM users")
    assert code == 1 and out["reasons"][0]["code"] == "table_not_allowed"
    code, out = _check("--policy", str(policy), "--role", "support", "SELECT email FROM users")
    assert code == 1 and out["reasons"][0]["code"] == "sensitive_column"
    code, out = _check("--policy", str(policy), "--max-rows", "3", "SELECT id FROM users")
    assert (code, out["sql"]) == (0, "SELECT id FROM users LIMIT 3")


def test_json_policy_file_and_target_dialect(tmp_path):
    policy = tmp_path / "p.json"
    policy.write_text(json.dumps({"tables": {"t": {"a": "INT"}}}))
    code, out = _check(
        "--policy", str(policy), "--dialect", "postgres", "--target-dialect", "tsql",
        "SELECT a FROM t LIMIT 5",
    )  # fmt: skip
    assert (code, out["sql"]) == (0, "SELECT TOP 5 a FROM t")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dialect", "oracle", "SELECT 1"], "--dialect must be one of"),
        (["--role", "root", "SELECT 1"], "--role must be one of"),
        (["--schema", "{schema}", "--policy", "{policy}", "SELECT 1"], "not both"),
        (["--policy", "{bad_policy}", "SELECT 1"], "not a column of the catalog"),
        (["--schema", "{bad_json}", "SELECT 1"], "cannot use"),
    ],
)
def test_wrong_options_or_files_exit_2(tmp_path, args, message):
    files = {
        "schema": ("s.json", '{"t": {"a": "INT"}}'),
        "policy": ("p.yaml", "tables: {t: {a: INT}}"),
        "bad_policy": ("b.yaml", "tables: {t: {a: INT}}\nowner_columns: {t: user_id}"),
        "bad_json": ("j.json", "{not json"),
    }
    paths = {}
    for key, (name, text) in files.items():
        paths[key] = tmp_path / name
        paths[key].write_text(text)
    result = runner.invoke(app, ["sql", "check", *[a.format(**paths) for a in args]])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""
