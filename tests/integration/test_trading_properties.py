"""Random sequences of deposits, orders, price moves and cancels keep the books straight.

After every sequence: each position equals the sum of its fills, each account's cash equals
its ledger, no cash account is below zero, and realised + unrealised profit less fees equals
cash + market value - net deposits.
"""

from __future__ import annotations

import shutil
import uuid
from collections import defaultdict

import pytest
import time_machine
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select, update

from services.db import models as m
from services.db.engines import make_engine
from services.trading import OrderRequest, TradingError, TradingService
from tests.conftest import make_settings
from tests.integration.trading_books import (
    ACCOUNTS,
    ALICE,
    IN_SESSION,
    MovingPrices,
    build,
    customer,
)

alice = customer(ALICE)
SIZES = {
    "AAPL": st.integers(1, 40).map(float),
    "MSFT": st.integers(1, 10).map(float),
    "BTCUSD": st.integers(1, 60).map(lambda n: n / 1000),
}

orders = st.tuples(
    st.just("order"),
    st.sampled_from(sorted(SIZES)).flatmap(lambda s: st.tuples(st.just(s), SIZES[s])),
    st.sampled_from(["buy", "buy", "sell"]),
    st.sampled_from(["market", "market", "limit", "stop"]),
    st.floats(0.85, 1.15),  # limit or stop price, relative to the latest
)
moves = st.tuples(st.just("move"), st.sampled_from(sorted(SIZES)), st.floats(0.8, 1.25))
deposits = st.tuples(st.just("deposit"), st.sampled_from([1, 2]), st.integers(100, 5_000))
cancels = st.tuples(st.just("cancel"), st.integers(0, 10))
steps = st.lists(
    st.one_of(orders, orders, moves, moves, deposits, cancels), min_size=8, max_size=30
)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template")
    engine = make_engine(make_settings(folder).database_url)
    build(engine)
    engine.dispose()
    return folder / "trading_assist.db"


def deposit(engine, account_id: int, amount: float) -> None:
    """What the payments domain does when money arrives: a ledger row and the cash."""
    with engine.begin() as conn:
        conn.execute(
            insert(m.Transaction).values(
                user_id=ALICE,
                account_id=account_id,
                type="deposit",
                amount=amount,
                currency="USD",
                executed_at=IN_SESSION,
            )
        )
        conn.execute(
            update(m.TradingAccount)
            .where(m.TradingAccount.id == account_id)
            .values(cash_balance=m.TradingAccount.cash_balance + amount)
        )


def run(service: TradingService, engine, prices: MovingPrices, sequence) -> None:
    """Play the steps, checking the books after each one."""
    keys = iter(range(10_000))
    for step in sequence:
        play(service, engine, prices, step, keys)
        check_books(service, engine)


def play(service: TradingService, engine, prices: MovingPrices, step, keys) -> None:
    """One step; a refusal is part of the game (the books must stay straight anyway)."""
    kind = step[0]
    try:
        if kind == "deposit":
            deposit(engine, step[1], float(step[2]))
        elif kind == "order":
            _, (symbol, quantity), side, order_type, level = step
            price = round(prices.prices[symbol] * level, 2)
            request = OrderRequest(
                symbol=symbol,
                side=side,
                order_type=order_type,
                quantity=quantity,
                limit_price=price if order_type == "limit" else None,
                stop_price=price if order_type == "stop" else None,
            )
            service.place_order(alice, request, idempotency_key=f"k{next(keys)}")
        elif kind == "move":
            _, symbol, factor = step
            prices.prices[symbol] = round(prices.prices[symbol] * factor, 2)
            working = service.list_orders(alice, working_only=True)
            crossed = [(o.order_id, prices.prices[symbol]) for o in working if o.symbol == symbol]
            service.fill_triggered(crossed)
        else:
            working = service.list_orders(alice, working_only=True)
            if working:
                service.cancel_order(alice, working[step[1] % len(working)].order_id)
    except TradingError as exc:
        event(f"refused: {exc.code}")


def check_books(service: TradingService, engine) -> None:
    with engine.connect() as conn:
        fills = conn.execute(
            select(
                m.Transaction.account_id,
                m.Transaction.symbol,
                m.Transaction.type,
                m.Transaction.quantity,
            ).where(m.Transaction.type.in_(("buy", "sell")))
        ).all()
        positions = conn.execute(
            select(m.Position.account_id, m.Position.symbol, m.Position.quantity)
        ).all()
        order_fills = conn.execute(
            select(m.Order.account_id, m.Order.symbol, m.Order.side, m.Order.filled_quantity)
        ).all()
        ledger = defaultdict(float)
        for account_id, amount in conn.execute(
            select(m.Transaction.account_id, m.Transaction.amount)
        ):
            ledger[account_id] += float(amount)
        accounts = conn.execute(
            select(
                m.TradingAccount.id, m.TradingAccount.account_type, m.TradingAccount.cash_balance
            )
        ).all()
    held = defaultdict(float)
    for account_id, symbol, kind, quantity in fills:
        held[(account_id, symbol)] += float(quantity) * (1 if kind == "buy" else -1)
    ordered = defaultdict(float, {(ACCOUNTS.alice_cash, "AAPL"): 10.0})  # bought before orders
    for account_id, symbol, side, filled in order_fills:
        ordered[(account_id, symbol)] += float(filled) * (1 if side == "buy" else -1)
    assert {k: round(v, 6) for k, v in ordered.items()} == {
        k: round(held.get(k, 0.0), 6) for k in ordered
    }
    assert {k: round(v, 6) for k, v in held.items() if abs(v) > 1e-9} == {
        (a, s): round(float(q), 6) for a, s, q in positions
    }
    for account_id, kind, cash in accounts:
        assert float(cash) == pytest.approx(ledger[account_id], abs=0.005)
        if kind != "margin":
            assert float(cash) >= 0
    for account in service.portfolio(alice).accounts:
        books = account.cash + account.market_value - account.net_deposits
        profit = account.realised_pnl + account.unrealised_pnl - account.fees_paid + account.income
        assert books == pytest.approx(profit, abs=0.01 * (1 + len(fills)))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=steps)
def test_random_trading_keeps_the_books_straight(template, tmp_path, sequence):
    path = tmp_path / f"{uuid.uuid4().hex}.db"
    shutil.copy(template, path)
    config = make_settings(tmp_path, database_url=f"sqlite:///{path}")
    engine = make_engine(config.database_url)
    prices = MovingPrices()
    try:
        with time_machine.travel(IN_SESSION, tick=False):
            service = TradingService(engine, config, prices)
            run(service, engine, prices, sequence)
            check_books(service, engine)
            filled = [o for o in service.list_orders(alice, limit=500) if o.filled_quantity > 0]
            event(f"orders filled: {min(len(filled), 5)}{'+' if len(filled) >= 5 else ''}")
    finally:
        engine.dispose()
