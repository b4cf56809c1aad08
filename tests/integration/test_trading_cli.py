"""`trading-assist trading ...` reads the books as the user named, as JSON."""

from __future__ import annotations

import json

import pytest
import time_machine
from typer.testing import CliRunner

from cli.main import app
from services.db.engines import make_engine
from services.settings import get_settings
from tests.integration.trading_books import ACCOUNTS, ALICE, BOB, IN_SESSION, build


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    engine = make_engine(get_settings().database_url)
    build(engine)
    engine.dispose()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, ["trading", *map(str, args)])
    get_settings.cache_clear()


def test_portfolio_orders_and_preview_as_json(cli):
    result = cli("portfolio", "--user-id", ALICE)
    assert result.exit_code == 0, result.output
    accounts = json.loads(result.stdout)["accounts"]
    assert [a["account_id"] for a in accounts] == [1, 2, 3]
    assert accounts[0]["positions"][0]["symbol"] == "AAPL"
    assert json.loads(cli("orders", "--user-id", ALICE).stdout) == []
    with time_machine.travel(IN_SESSION, tick=False):
        preview = cli("preview", "AAPL", "buy", "--user-id", ALICE, "--quantity", 2)
    assert preview.exit_code == 0, preview.output
    assert json.loads(preview.stdout)["ok"] is True


def test_an_account_that_is_not_yours_is_an_error(cli):
    result = cli("portfolio", "--user-id", BOB, "--account-id", ACCOUNTS.alice_cash)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["code"] == "unknown_account"
