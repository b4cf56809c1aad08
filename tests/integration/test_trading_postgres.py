"""The trading service on a real PostgreSQL, and two orders racing for the same cash on both
databases: the account lock lets exactly one through."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select

from services.db import models as m
from services.db.engines import make_engine
from services.trading import OrderRequest, TradingError, TradingService
from tests.conftest import make_settings
from tests.integration import postgres
from tests.integration.trading_books import (
    ACCOUNTS,
    ALICE,
    BOB,
    IN_SESSION,
    MovingPrices,
    audit_rows,
    build,
    customer,
)


@pytest.fixture
def pg_books(tmp_path):
    name = postgres.create_database()
    settings = make_settings(tmp_path, database_url=postgres.url(name))
    engine = make_engine(settings.database_url)
    try:
        build(engine)
        yield TradingService(engine, settings, MovingPrices()), engine
    finally:
        engine.dispose()
        postgres.drop_database(name)


@pytest.fixture
def sqlite_books(tmp_path):
    settings = make_settings(tmp_path)
    engine = make_engine(settings.database_url)
    build(engine)
    yield TradingService(engine, settings, MovingPrices()), engine
    engine.dispose()


@pytest.mark.postgres
def test_order_fill_and_cancel_path_on_postgres(pg_books):
    service, engine = pg_books
    alice = customer(ALICE)
    with time_machine.travel(IN_SESSION, tick=False):
        market = service.place_order(
            alice, OrderRequest(symbol="AAPL", side="buy", quantity=5), "m"
        )
        replay = service.place_order(
            alice, OrderRequest(symbol="AAPL", side="buy", quantity=5), "m"
        )
        limit = service.place_order(
            alice,
            OrderRequest(
                symbol="AAPL", side="sell", order_type="limit", quantity=4, limit_price=101
            ),
            "l",
        )
        stop = service.place_order(
            alice,
            OrderRequest(symbol="AAPL", side="sell", order_type="stop", quantity=4, stop_price=80),
            "s",
        )
        (filled,) = service.fill_triggered([(limit.order_id, 102.0), (stop.order_id, 90.0)])
        cancelled = service.cancel_order(alice, stop.order_id)
        with pytest.raises(TradingError) as twice:
            service.cancel_order(alice, stop.order_id)
    assert market.status == "filled" and replay.order_id == market.order_id and not replay.created
    assert (filled.order_id, filled.status, filled.avg_fill_price) == (
        limit.order_id,
        "filled",
        102,
    )
    assert cancelled.status == "cancelled" and twice.value.code == "order_not_working"
    account = service.portfolio(alice, ACCOUNTS.alice_cash).accounts[0]
    assert account.cash == pytest.approx(10_000 - 5 * 100.05 - 1 + 4 * 102 - 1, abs=0.01)
    (aapl,) = account.positions
    assert aapl.quantity == 11
    with engine.connect() as conn:
        ledger_cash = conn.execute(
            select(func.sum(m.Transaction.amount)).where(
                m.Transaction.account_id == ACCOUNTS.alice_cash
            )
        ).scalar_one()
    assert float(ledger_cash) == pytest.approx(account.cash, abs=0.001)
    outcomes = [(r["action"], r["outcome"]) for r in audit_rows(engine)]
    assert outcomes.count(("trading.place", "ok")) == 4
    assert outcomes[-2:] == [("trading.cancel", "ok"), ("trading.cancel", "rejected")]


def _race(service: TradingService) -> tuple[list, list]:
    """Two threads each buy 15 AAPL for Bob (about 1,502 each; he has 2,000): one must lose."""
    bob = customer(BOB)
    start = threading.Barrier(2)
    placed, refused = [], []

    def buy(key: str) -> None:
        start.wait()
        try:
            placed.append(
                service.place_order(bob, OrderRequest(symbol="AAPL", side="buy", quantity=15), key)
            )
        except TradingError as exc:
            refused.append(exc.code)

    with time_machine.travel(IN_SESSION, tick=False):
        threads = [threading.Thread(target=buy, args=(f"race-{i}",)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    return placed, refused


def _assert_one_won(service: TradingService, engine, placed, refused) -> None:
    assert len(placed) == 1 and refused == ["insufficient_buying_power"]
    with engine.connect() as conn:
        cash = conn.execute(
            select(m.TradingAccount.cash_balance).where(m.TradingAccount.id == ACCOUNTS.bob_cash)
        ).scalar_one()
        orders = conn.execute(select(func.count()).select_from(m.Order)).scalar_one()
    assert orders == 1 and cash == pytest.approx(2_000 - 15 * 100.05 - 1, abs=0.01) and cash >= 0


def test_two_orders_race_for_the_same_cash_on_sqlite(sqlite_books):
    service, engine = sqlite_books
    _assert_one_won(service, engine, *_race(service))


@pytest.mark.postgres
def test_two_orders_race_for_the_same_cash_on_postgres(pg_books):
    service, engine = pg_books
    _assert_one_won(service, engine, *_race(service))


@pytest.mark.postgres
def test_a_demo_customer_trades_on_a_postgres_demo_database():
    """The demo loads rows with explicit ids; the service's inserts must still get new ones."""
    with postgres.demo_database(users=30) as (_, engine):
        with engine.connect() as conn:
            approved = set(
                conn.execute(
                    select(m.KycVerification.user_id).where(m.KycVerification.status == "approved")
                ).scalars()
            )
            user_id, account_id = next(
                (r.user_id, r.id)
                for r in conn.execute(
                    select(m.TradingAccount.user_id, m.TradingAccount.id).where(
                        m.TradingAccount.account_type == "crypto",
                        m.TradingAccount.status == "active",
                    )
                )
                if r.user_id in approved
            )
            orders_before = conn.execute(select(func.max(m.Order.id))).scalar_one()
        settings = make_settings(Path(engine.url.database or "."), database_url=str(engine.url))
        service = TradingService(engine, settings)
        request = OrderRequest(account_id=account_id, symbol="BTCUSD", side="buy", notional=10)
        with time_machine.travel(datetime(2026, 11, 24, 12, 0), tick=False):
            result = service.place_order(customer(user_id), request, "demo")
        assert result.status == "filled" and result.order_id > orders_before
