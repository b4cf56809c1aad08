"""`trading-assist ingest` on a folder, in process, with the platform's real document index."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cli.main import app
from services.db.engines import make_engine
from services.settings import get_settings
from tests.integration.ingest_files import markdown_bytes


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch) -> Path:
    var = tmp_path / "var"
    monkeypatch.setenv("VAR_DIR", str(var))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield var
    get_settings.cache_clear()


def run(*args: str):
    return CliRunner().invoke(app, ["ingest", *args])


def summary(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_ingest_a_folder_then_again_then_a_changed_file(var_dir, tmp_path):
    folder = tmp_path / "library"
    (folder / "nested").mkdir(parents=True)
    (folder / "guide.md").write_bytes(markdown_bytes())
    (folder / "nested" / "notes.txt").write_text("Withdrawal notes for the desk.\n")
    (folder / "nested" / "broken.pdf").write_bytes(b"%PDF-1.4 broken")
    (folder / "sheet.xlsx").write_bytes(b"PK")
    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "secret.txt").write_text("not for ingestion")

    first = run(str(folder), "--visibility", "public")
    assert first.exit_code == 1, first.output  # one file failed
    assert summary(first.output) == "2 added, 1 failed; 1 skipped (unsupported type)"
    assert "broken.pdf could not be read" in first.output

    second = run(str(folder / "guide.md"), str(folder / "nested" / "notes.txt"))
    assert second.exit_code == 0, second.output
    assert summary(second.output) == "2 unchanged"

    (folder / "guide.md").write_bytes(markdown_bytes("Card withdrawals cost 7 percent"))
    third = run(str(folder / "guide.md"), "--title", "Withdrawal guide")
    assert third.exit_code == 0 and summary(third.output) == "1 new version"

    engine = make_engine(get_settings().database_url)
    try:
        with engine.connect() as conn:
            docs = conn.execute(
                text("SELECT title, visibility, current_version FROM documents ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    assert [tuple(d) for d in docs] == [
        ("Withdrawal guide", "public", 2),
        ("Notes", "public", 1),
    ]
    assert (var_dir / "index" / "faiss" / "CURRENT").exists()  # the real index was written


def test_title_needs_exactly_one_file(var_dir, tmp_path):
    for name in ("a.md", "b.md"):
        (tmp_path / name).write_text("# A\n\ntext\n")
    result = run(str(tmp_path / "a.md"), str(tmp_path / "b.md"), "--title", "One")
    assert result.exit_code == 2 and "--title names one document" in result.output


def test_restricted_needs_someone_named(var_dir, tmp_path):
    (tmp_path / "a.md").write_text("# A\n\ntext\n")
    result = run(str(tmp_path / "a.md"), "--visibility", "restricted")
    assert result.exit_code == 2 and "needs at least one role or user id" in result.output
