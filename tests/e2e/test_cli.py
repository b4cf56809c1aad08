"""`trading-assist` as a person runs it: a real process, the real model, JSON on stdout."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

BIN = Path(sys.executable).parent / "trading-assist"


def _run(args: list[str], var_dir: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "VAR_DIR": str(var_dir), **env}
    return subprocess.run(
        [str(BIN), *args], capture_output=True, text=True, env=environment, timeout=600, check=False
    )


def test_help_everywhere(tmp_path):
    for args in (
        ["--help"],
        ["ask", "--help"],
        ["run", "--help"],
        ["demo-data", "--help"],
        ["doctor", "--help"],
        ["model", "prepare", "--help"],
    ):
        result = _run(args, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "Usage" in result.stdout


@pytest.mark.model
def test_ask_json_matches_a_direct_count(demo_settings, demo_engine):
    result = _run(["ask", "How many users are there?", "--json"], demo_settings.var_dir)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert {"answer", "sql", "rows", "thread_id", "routing", "usage"} <= body.keys()
    with demo_engine.connect() as conn:
        expected = conn.execute(text("SELECT COUNT(*) FROM users")).scalar_one()
    assert body["rows"] == [[expected]]
    assert body["usage"]["provider"] == "embedded" and body["usage"]["cost_usd"] == 0

    # another process continues the conversation: the checkpointer kept the first turn
    thread = ["--thread", body["thread_id"], "--json"]
    follow = _run(["ask", "and how many of them are admins?", *thread], demo_settings.var_dir)
    assert follow.returncode == 0, follow.stderr
    follow_up = json.loads(follow.stdout)
    assert follow_up["thread_id"] == body["thread_id"]
    assert (
        "a follow-up: no request of its own, so read beside the turn before"
        in follow_up["routing"]["reasons"]
    )
    assert "Earlier question: How many users are there?" in follow_up["parts"][0]["question"]


def test_ask_unknown_user_is_a_clear_error(demo_settings):
    result = _run(
        ["ask", "How many orders?", "--user-id", "777777", "--json"], demo_settings.var_dir
    )
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "error": {"code": "unknown_user", "message": "there is no user with id 777777"}
    }


def test_ask_without_database_says_what_to_do(tmp_path):
    result = _run(["ask", "How many users?"], tmp_path)
    assert result.returncode == 1
    assert "trading-assist demo-data" in result.stderr
    assert not (tmp_path / "trading_assist.db").exists()  # asking created nothing


def test_invalid_setting_stops_the_cli_with_its_name(tmp_path):
    result = _run(["doctor"], tmp_path, PORT="not-a-port")
    assert result.returncode == 2
    assert "PORT" in result.stderr


def test_doctor_reports_each_part(demo_settings):
    result = _run(["doctor"], demo_settings.var_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    for part in ("database", "read replica", "model: embedded", "vector store", "message bus"):
        assert part in result.stdout


@pytest.mark.model
def test_second_ask_restores_the_processed_schema_from_disk(demo_settings):
    question = ["ask", "How many trading accounts are suspended?", "--json"]
    # a loaded machine processes the schema slowly: the first process must live to save it
    patient = {"LLM_TIMEOUT_S": "600"}
    first = _run(question, demo_settings.var_dir, **patient)
    assert first.returncode == 0, first.stderr
    second = _run(question, demo_settings.var_dir, **patient)
    assert second.returncode == 0, second.stderr
    assert "restored from disk" in second.stderr
    assert json.loads(second.stdout)["rows"] == json.loads(first.stdout)["rows"]


@pytest.mark.postgres
def test_doctor_flags_a_superuser_replica(demo_settings):
    from tests.integration import postgres

    name = postgres.create_database()
    try:
        result = _run(["doctor"], demo_settings.var_dir, READ_REPLICA_URL=postgres.url(name))
    finally:
        postgres.drop_database(name)
    assert result.returncode == 1
    assert "superuser" in result.stdout
