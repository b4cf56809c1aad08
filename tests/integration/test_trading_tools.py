"""The trading and market tools through the registry, on SQLite and on a real PostgreSQL: a
read answers at once, a write needs confirmation and acts once per idempotency key, another
customer's account is refused with nothing written, and each call leaves one audit row."""

from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import func, select

from services.db import models as m
from services.db.engines import make_engine
from services.errors import AssistantError
from services.market.service import MarketData
from services.trading import TradingService
from tests.conftest import make_settings
from tests.integration import postgres
from tests.integration.trading_books import (
    ACCOUNTS,
    ALICE,
    BOB,
    IN_SESSION,
    MovingPrices,
    build,
    customer,
)
from tools.context import ToolServices
from tools.registry import ToolContext, ToolError
from tools.tool_set import platform_tools

TOOLS = platform_tools()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def services(request, tmp_path):
    name = postgres.create_database() if request.param == "postgresql" else None
    url = postgres.url(name) if name else ""
    settings = make_settings(tmp_path, **({"database_url": url} if url else {}))
    engine = make_engine(settings.database_url)
    try:
        build(engine)
        trading = TradingService(engine, settings, MovingPrices())
        market = MarketData(engine, settings)
        with time_machine.travel(IN_SESSION, tick=False):
            yield ToolServices(engine=engine, settings=settings, trading=trading, market=market)
    finally:
        engine.dispose()
        if name:
            postgres.drop_database(name)


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _audits(engine, action: str) -> list[str]:
    with engine.connect() as conn:
        query = select(m.AuditLog.outcome).where(m.AuditLog.action == action)
        return list(conn.execute(query.order_by(m.AuditLog.id)).scalars())


async def test_an_order_tool_needs_a_yes_and_acts_once(services):
    alice = ToolContext(caller=customer(ALICE), services=services)
    order = {"symbol": "AAPL", "side": "buy", "quantity": 2}
    orders = _count(services.engine, m.Order)
    with pytest.raises(ToolError) as unconfirmed:
        await TOOLS.call(alice, "place_order", order)
    assert unconfirmed.value.code == "confirmation_required"
    assert _count(services.engine, m.Order) == orders

    preview = await TOOLS.preview(alice, "place_order", order)
    assert preview.ok and preview.details["account_id"] == ACCOUNTS.alice_cash

    confirmed = ToolContext(caller=alice.caller, services=services, idempotency_key="yes-1")
    first = await TOOLS.call(confirmed, "place_order", order, confirmed=True)
    again = await TOOLS.call(confirmed, "place_order", order, confirmed=True)
    assert first.output["order"]["status"] == "filled"
    assert again.output["order"]["order_id"] == first.output["order"]["order_id"]
    assert _count(services.engine, m.Order) == orders + 1

    portfolio = await TOOLS.call(alice, "get_portfolio", {})
    held = [p for a in portfolio.output["portfolio"]["accounts"] for p in a["positions"]]
    assert any(p["symbol"] == "AAPL" and p["quantity"] == 12 for p in held)  # 10 held before
    assert _audits(services.engine, "tool.place_order") == ["refused", "ok", "ok"]


async def test_another_customers_account_is_refused_and_nothing_is_written(services):
    bob = ToolContext(caller=customer(BOB), services=services, idempotency_key="spoof")
    order = {"symbol": "AAPL", "side": "buy", "quantity": 1, "account_id": ACCOUNTS.alice_cash}
    orders, ledger = _count(services.engine, m.Order), _count(services.engine, m.Transaction)
    with pytest.raises(AssistantError) as previewed:
        await TOOLS.preview(bob, "place_order", order)
    assert previewed.value.message == f"account {ACCOUNTS.alice_cash} is not one of your accounts"
    with pytest.raises(AssistantError) as placed:
        await TOOLS.call(bob, "place_order", order, confirmed=True)
    assert placed.value.code == previewed.value.code
    assert _count(services.engine, m.Order) == orders
    assert _count(services.engine, m.Transaction) == ledger
    assert _audits(services.engine, "tool.place_order") == ["rejected", "rejected"]


async def test_a_cancel_of_a_filled_order_and_a_wrong_type_are_refused(services):
    alice = ToolContext(caller=customer(ALICE), services=services, idempotency_key="k")
    placed = await TOOLS.call(
        alice, "place_order", {"symbol": "AAPL", "side": "buy", "quantity": 1}, confirmed=True
    )
    filled = placed.output["order"]["order_id"]
    preview = await TOOLS.preview(alice, "cancel_order", {"order_id": filled})
    assert preview.problems == [f"order {filled} is filled, not working"]
    with pytest.raises(ToolError) as typed:
        await TOOLS.call(alice, "get_order", {"order_id": "the last one"})
    assert typed.value.code == "invalid_arguments" and "order_id" in typed.value.message
    alert = {"symbol": "AAPL", "direction": "above", "threshold": 500}
    await TOOLS.call(alice, "create_price_alert", alert, confirmed=True)
    listed = await TOOLS.call(alice, "list_price_alerts", {})
    assert [a["threshold"] for a in listed.output["alerts"]] == [500]
