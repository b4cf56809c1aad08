"""The README tells the truth: every command it lists exists, and every setting it names is one
the settings object reads (and every setting is documented)."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from cli.main import app
from services.settings import Settings

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    return README.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_listed_command_exists():
    block = _section("Commands").split("```", 2)[1]
    commands = [
        [w for w in line.split()[1:3] if re.fullmatch(r"[a-z][a-z-]*", w)]
        for line in block.splitlines()
        if line.startswith("trading-assist ")
    ]
    assert len(commands) >= 15
    runner = CliRunner()
    for words in commands:
        result = runner.invoke(app, [*words, "--help"])
        assert result.exit_code == 0, (words, result.output)


def test_configuration_table_matches_the_settings():
    table = _section("Configuration")
    named = {
        name.lower()
        for row in table.splitlines()
        if row.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split(" | ")[0])
    }
    fields = set(Settings.model_fields)
    assert named - fields == set(), "the README names settings that do not exist"
    assert fields - named == set(), "settings missing from the README's table"
