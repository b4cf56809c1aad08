"""A confirmation across processes: one `trading-assist ask` asks for an order and stops with
the pending action; a second process approves it; a third, replaying the approval, is refused.
The model is a scripted server speaking OpenAI's protocol (the test is about the pause kept by
the checkpointer, not the model); the orders are the real trading service's on a copy of the
demo database."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from sqlalchemy import create_engine, text

from services.llm.scripted_server import RecordedRequest, Reply, ScriptedModelServer
from tests.conftest import copy_var_dir
from tests.e2e.test_cli import BIN

ORDER = {"symbol": "BTCUSD", "side": "buy", "order_type": "market", "quantity": 0.01}


def _script(request: RecordedRequest) -> Reply:
    schema = (request.body.get("response_format") or {}).get("json_schema", {}).get("name")
    if schema == "tool_call":
        return Reply(json.dumps({"tool": "place_order", "arguments": ORDER}))
    return Reply("ok")


@pytest.fixture
def var_dir(demo_settings, tmp_path):
    copy = tmp_path / "var"
    copy_var_dir(demo_settings.var_dir, copy)
    return copy


def _buyer(var_dir) -> int:
    """A customer whose KYC is approved and who has an active crypto account with cash."""
    engine = create_engine(f"sqlite:///{var_dir / 'trading_assist.db'}")
    with engine.connect() as conn:
        user = conn.execute(
            text(
                "SELECT a.user_id FROM trading_accounts a JOIN kyc_verifications k "
                "ON k.user_id = a.user_id WHERE a.account_type = 'crypto' "
                "AND a.status = 'active' AND a.cash_balance > 5000 AND k.status = 'approved' "
                "AND k.expires_at > CURRENT_TIMESTAMP AND k.id = (SELECT MAX(id) FROM "
                "kyc_verifications WHERE user_id = a.user_id) AND (SELECT COUNT(*) FROM "
                "trading_accounts c WHERE c.user_id = a.user_id AND c.account_type = 'crypto' "
                "AND c.status = 'active') = 1 ORDER BY a.user_id LIMIT 1"
            )
        ).scalar_one()
    engine.dispose()
    return user


def _orders(var_dir, user: int) -> int:
    engine = create_engine(f"sqlite:///{var_dir / 'trading_assist.db'}")
    with engine.connect() as conn:
        count = conn.execute(
            text("SELECT COUNT(*) FROM orders WHERE user_id = :u"), {"u": user}
        ).scalar_one()
    engine.dispose()
    return count


def test_an_order_asked_in_one_process_is_approved_in_another(var_dir):
    user = _buyer(var_dir)
    before = _orders(var_dir, user)
    with ScriptedModelServer(_script) as model:
        env = {
            **os.environ,
            "VAR_DIR": str(var_dir),
            "LLM_PROVIDER": "openai-compatible",
            "LLM_BASE_URL": f"{model.url}/v1",
        }

        def cli(*args: str) -> subprocess.CompletedProcess:
            return subprocess.run(
                [str(BIN), *args, "--user-id", str(user), "--json"],
                capture_output=True,
                text=True,
                env=env,
                timeout=300,
                check=False,
            )

        asked = cli("ask", "Buy 0.01 BTCUSD at market in my crypto account")
        assert asked.returncode == 0, asked.stderr
        body = json.loads(asked.stdout)
        pending = body["pending_action"]
        assert pending["tool"] == "place_order" and pending["arguments"]["quantity"] == 0.01
        assert {"id", "summary", "arguments"} <= pending.keys()
        assert _orders(var_dir, user) == before  # asking placed nothing

        approved = cli("resume", body["thread_id"], "--approve", "--action-id", pending["id"])
        assert approved.returncode == 0, approved.stderr
        order = json.loads(approved.stdout)["result"]["output"]["order"]
        assert order["status"] == "filled" and order["symbol"] == "BTCUSD"
        assert _orders(var_dir, user) == before + 1

        replayed = cli("resume", body["thread_id"], "--approve")
        assert replayed.returncode == 1
        assert json.loads(replayed.stdout)["error"]["code"] == "no_pending_action"
    assert _orders(var_dir, user) == before + 1
