"""`trading-assist semantic check`: a semantic model file checked against the database; a
broken one names its line, and the platform refuses to start with it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from graphs.build import sql_catalog
from services.semantic.loader import PACKAGED_MODEL, SemanticModelError, parse_semantic_model
from services.settings import get_settings
from sql_guard.policy import platform_policy
from sql_guard.runner import ReplicaRunner
from sql_guard.semantic_check import check_semantic_model, held_by
from tools.registry import ToolKind
from tools.tool_set import platform_tools

PACKAGED = PACKAGED_MODEL.read_text()
runner = CliRunner()


def _broken(old: str, new: str) -> tuple[str, int]:
    """The packaged file with `old` replaced by `new`, and the line where that happened."""
    assert PACKAGED.count(old) == 1, old
    line = PACKAGED[: PACKAGED.index(old)].count("\n") + 1
    return PACKAGED.replace(old, new), line


BROKEN = {
    "bad column": ("{CUBE}.role = 'customer'", "{CUBE}.user_role = 'customer'"),
    "bad value": ("{CUBE}.status = 'filled'", "{CUBE}.status = 'filed'"),
    "unparsable expression": ('sql: "-{CUBE}.amount"', 'sql: "-{CUBE}.amount +* ("'),
    "table shadowed": ("      - name: fills\n", "      - name: positions\n"),
    "yaml error": ("    description: Paid plans", "    description: [Paid plans"),
    "write tool figure": (
        "    tool: get_portfolio\n    description: >-\n      Cash",
        "    tool: place_order\n    description: >-\n      Cash",
    ),
}


def _settings_env(monkeypatch, settings) -> None:
    """The CLI reads these settings (not ones an earlier test left in the cache)."""
    monkeypatch.setenv("VAR_DIR", str(settings.var_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("READ_REPLICA_URL", settings.read_replica_url)
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_settings():
    yield
    get_settings.cache_clear()


def test_the_packaged_model_is_sound_over_the_demo_database(demo_settings, monkeypatch):
    _settings_env(monkeypatch, demo_settings)
    result = runner.invoke(app, ["semantic", "check"])
    assert result.exit_code == 0, result.output
    assert "ok (8 cubes, 14 row sets, 7 measures, 2 tool figures" in result.stdout


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_names_its_line(case, demo_settings, monkeypatch, tmp_path: Path):
    text, line = _broken(*BROKEN[case])
    path = tmp_path / "model.yaml"
    path.write_text(text)
    _settings_env(monkeypatch, demo_settings)
    result = runner.invoke(app, ["semantic", "check", str(path)])
    assert result.exit_code == 1
    said = " ".join(result.stderr.split())
    if case == "yaml error":  # YAML finds an unclosed bracket where the next line starts
        assert f"{path}:{line + 1}:" in said and f"started on line {line})" in said, said
    else:
        assert f"{path}:{line}:" in said, said


def test_the_problems_say_what_is_wrong(demo_engine):
    catalog, policy = sql_catalog(demo_engine), platform_policy()
    holds = held_by(ReplicaRunner(demo_engine, max_rows=1, timeout_s=5), "sqlite")
    messages = {}
    read_tools = platform_tools().names(ToolKind.READ)
    for case in (
        "bad column",
        "bad value",
        "unparsable expression",
        "table shadowed",
        "write tool figure",
    ):
        model = parse_semantic_model(_broken(*BROKEN[case])[0])
        problems = check_semantic_model(model, catalog, policy, "sqlite", holds, read_tools)
        messages[case] = " ".join(str(p) for p in problems)
    assert "no column user_role" in messages["bad column"]
    assert "no row of orders.status holds 'filed'" in messages["bad value"]
    assert "cannot parse" in messages["unparsable expression"]
    assert "positions is the name of a table" in messages["table shadowed"]
    assert "buying_power: place_order is not a read tool" in messages["write tool figure"]


def test_the_platform_refuses_to_start_with_a_broken_file(make_assistant, tmp_path: Path):
    text, line = _broken(*BROKEN["bad value"])
    path = tmp_path / "model.yaml"
    path.write_text(text)
    assistant, _ = make_assistant(lambda *_: "", semantic_model_file=path)
    with pytest.raises(SemanticModelError) as raised:
        assistant.require_semantic_model()
    assert raised.value.line == line and raised.value.source == path


def test_a_file_that_does_not_parse_stops_the_assistant_at_once(make_assistant, tmp_path):
    path = tmp_path / "model.yaml"
    path.write_text(_broken(*BROKEN["yaml error"])[0])
    with pytest.raises(SemanticModelError):
        make_assistant(lambda *_: "", semantic_model_file=path)
