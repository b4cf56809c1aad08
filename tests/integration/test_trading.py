"""The trading service on a real SQLite database: orders, fills, cancels, portfolios."""

from __future__ import annotations

import json

import pytest
import time_machine
from sqlalchemy import select

from services.db import models as m
from services.db.engines import make_engine
from services.trading import OrderRequest, TradingError, TradingService
from tests.conftest import make_settings
from tests.integration.trading_books import (
    ACCOUNTS,
    ALICE,
    BOB,
    CAROL,
    IN_SESSION,
    SUPPORT,
    MovingPrices,
    audit_rows,
    build,
    customer,
    snapshot,
)

alice = customer(ALICE)


@pytest.fixture
def books(tmp_path):
    settings = make_settings(tmp_path)
    engine = make_engine(settings.database_url)
    build(engine)
    prices = MovingPrices()
    with time_machine.travel(IN_SESSION, tick=False):
        yield TradingService(engine, settings, prices), engine, prices
    engine.dispose()


def ledger(engine, order_id):
    with engine.connect() as conn:
        rows = conn.execute(
            select(m.Transaction.type, m.Transaction.quantity, m.Transaction.amount)
            .where(m.Transaction.order_id == order_id)
            .order_by(m.Transaction.id)
        ).all()
    return [tuple(r) for r in rows]


def cash(engine, account_id):
    with engine.connect() as conn:
        return conn.execute(
            select(m.TradingAccount.cash_balance).where(m.TradingAccount.id == account_id)
        ).scalar_one()


def test_market_buy_fills_at_once_and_books_every_row(books):
    service, engine, _ = books
    request = OrderRequest(symbol="aapl", side="buy", quantity=5)
    preview = service.preview_order(alice, request)
    assert preview.ok and preview.account_id == ACCOUNTS.alice_cash
    assert preview.estimated_price == pytest.approx(100.05)  # 5 bps of slippage
    assert preview.estimated_fees == 1.0  # standard tier: 5 x $0.005, minimum $1.00

    result = service.place_order(alice, request, idempotency_key="k-1")

    assert (result.status, result.filled_quantity, result.created) == ("filled", 5, True)
    assert result.avg_fill_price == pytest.approx(100.05) and result.fees == 1.0
    assert ledger(engine, result.order_id) == [("buy", 5, -500.25), ("fee", None, -1.0)]
    assert cash(engine, ACCOUNTS.alice_cash) == pytest.approx(10_000 - 500.25 - 1.0)
    portfolio = service.portfolio(alice, ACCOUNTS.alice_cash)
    (aapl,) = portfolio.accounts[0].positions
    assert aapl.quantity == 15
    assert aapl.avg_cost == pytest.approx((10 * 90 + 5 * 100.05) / 15, abs=1e-4)
    (entry,) = audit_rows(engine, "trading.place")
    assert entry["outcome"] == "ok" and json.loads(entry["detail"])["order_id"] == result.order_id


def test_notional_order_buys_what_the_money_buys(books):
    service, _, _ = books
    request = OrderRequest(symbol="BTCUSD", side="buy", notional=1000)
    result = service.place_order(alice, request, idempotency_key="btc")
    assert result.account_id == ACCOUNTS.alice_crypto
    assert result.quantity == pytest.approx(1000 / (50_000 * 1.0005), abs=1e-6)
    assert result.quantity * result.avg_fill_price <= 1000
    assert result.fees == pytest.approx(2.5, abs=0.01)  # crypto taker 0.25%


def test_same_idempotency_key_places_once(books):
    service, engine, _ = books
    request = OrderRequest(symbol="AAPL", side="buy", quantity=1)
    first = service.place_order(alice, request, idempotency_key="same")
    again = service.place_order(alice, request, idempotency_key="same")
    assert again.order_id == first.order_id and (first.created, again.created) == (True, False)
    assert len(ledger(engine, first.order_id)) == 2
    with engine.connect() as conn:
        assert conn.execute(select(m.Order.id)).all() == [(first.order_id,)]
    # the key is the customer's own: another customer may use the same string
    other = service.place_order(customer(BOB), request, idempotency_key="same")
    assert other.created and other.order_id != first.order_id


def test_limit_order_rests_reserves_and_fills_when_crossed(books):
    service, engine, _ = books
    request = OrderRequest(
        symbol="AAPL", side="buy", order_type="limit", quantity=10, limit_price=95
    )
    order = service.place_order(alice, request, idempotency_key="lmt")
    assert (order.status, order.limit_price, order.filled_quantity) == ("open", 95, 0)
    account = service.portfolio(alice, ACCOUNTS.alice_cash).accounts[0]
    assert account.reserved == pytest.approx(950 + 1.0)
    assert account.buying_power == pytest.approx(10_000 - 951)
    assert ledger(engine, order.order_id) == []

    assert service.fill_triggered([(order.order_id, 96.0)]) == []  # above a buy limit
    (filled,) = service.fill_triggered([(order.order_id, 94.5)])
    assert (filled.status, filled.avg_fill_price) == ("filled", 94.5)  # no slippage on limits
    assert ledger(engine, order.order_id) == [("buy", 10, -945.0), ("fee", None, -1.0)]
    assert service.fill_triggered([(order.order_id, 90.0)]) == []  # filled: nothing again
    assert service.portfolio(alice, ACCOUNTS.alice_cash).accounts[0].reserved == 0
    (fill,) = audit_rows(engine, "trading.fill")  # only the fill: ignored triggers write nothing
    assert (fill["outcome"], fill["actor_user_id"], fill["actor_role"]) == ("ok", None, "admin")


def test_stop_sell_triggers_at_or_below_its_price_and_realises_fifo(books):
    service, engine, prices = books
    request = OrderRequest(
        symbol="AAPL", side="sell", order_type="stop", quantity=10, stop_price=85
    )
    order = service.place_order(alice, request, idempotency_key="stop")
    assert order.stop_price == 85 and order.status == "open"
    assert service.fill_triggered([(order.order_id, 86.0)]) == []
    (filled,) = service.fill_triggered([(order.order_id, 84.0)])
    assert filled.avg_fill_price == pytest.approx(84.0 * (1 - 0.0005))
    prices.prices["AAPL"] = 84.0
    account = service.portfolio(alice, ACCOUNTS.alice_cash).accounts[0]
    assert account.positions == []  # sold to zero: the position row is gone
    assert account.realised_pnl == pytest.approx(10 * (84.0 * 0.9995 - 90.0), abs=0.01)
    with engine.connect() as conn:
        assert conn.execute(select(m.Position).where(m.Position.symbol == "AAPL")).first() is None


def test_fifo_realised_and_unrealised_per_position(books):
    service, _, prices = books
    service.place_order(alice, OrderRequest(symbol="AAPL", side="buy", quantity=10), "b1")
    service.place_order(alice, OrderRequest(symbol="AAPL", side="sell", quantity=15), "s1")
    prices.prices["AAPL"] = 110.0
    (aapl,) = service.portfolio(alice, ACCOUNTS.alice_cash).accounts[0].positions
    sell, buy = 100 * 0.9995, 100 * 1.0005
    # FIFO: the 10 at 90 go first, then 5 of the 10 bought at 100.05
    assert aapl.realised_pnl == pytest.approx(10 * (sell - 90) + 5 * (sell - buy), abs=0.01)
    assert aapl.quantity == 5 and aapl.avg_cost == pytest.approx(buy, abs=1e-4)
    assert aapl.unrealised_pnl == pytest.approx(5 * (110 - buy), abs=0.01)


def test_cancel_a_working_order_and_refuse_a_filled_one(books):
    service, engine, _ = books
    limit = OrderRequest(
        symbol="AAPL", side="sell", order_type="limit", quantity=5, limit_price=120
    )
    working = service.place_order(alice, limit, "w")
    cancelled = service.cancel_order(alice, working.order_id)
    assert cancelled.status == "cancelled"
    assert service.fill_triggered([(working.order_id, 130.0)]) == []

    filled = service.place_order(alice, OrderRequest(symbol="AAPL", side="buy", quantity=1), "f")
    before = snapshot(engine)
    with pytest.raises(TradingError) as refused:
        service.cancel_order(alice, filled.order_id)
    assert refused.value.code == "order_not_working" and refused.value.status == 409
    assert snapshot(engine) == before
    outcomes = [
        (r["outcome"], json.loads(r["detail"]).get("code"))
        for r in audit_rows(engine, "trading.cancel")
    ]
    assert outcomes == [("ok", None), ("rejected", "order_not_working")]


def test_staff_read_any_account_and_cancel_but_never_place(books):
    service, engine, _ = books
    limit = OrderRequest(symbol="AAPL", side="buy", order_type="limit", quantity=1, limit_price=50)
    order = service.place_order(alice, limit, "x")
    assert service.portfolio(SUPPORT, ACCOUNTS.alice_cash).accounts[0].account_id == 1
    assert service.get_order(SUPPORT, order.order_id).order_id == order.order_id
    assert [o.order_id for o in service.list_orders(SUPPORT, working_only=True)] == [order.order_id]
    with pytest.raises(TradingError) as no_account:
        service.portfolio(SUPPORT)
    assert no_account.value.code == "account_required"
    with pytest.raises(TradingError, match="there is no account 999"):
        service.portfolio(SUPPORT, 999)
    before = snapshot(engine)
    with pytest.raises(TradingError) as placing:
        service.place_order(SUPPORT, limit.model_copy(update={"account_id": 1}), "staff")
    assert placing.value.code == "orders_customers_only" and snapshot(engine) == before
    assert service.cancel_order(SUPPORT, order.order_id).status == "cancelled"


def test_customers_see_only_their_own(books):
    service, _, _ = books
    mine = service.place_order(alice, OrderRequest(symbol="AAPL", side="buy", quantity=1), "m")
    bob = customer(BOB)
    with pytest.raises(TradingError) as other:
        service.get_order(bob, mine.order_id)
    with pytest.raises(TradingError) as missing:
        service.get_order(bob, 9999)
    assert (other.value.code, missing.value.code) == ("unknown_order", "unknown_order")
    assert other.value.message.replace(str(mine.order_id), "N") == missing.value.message.replace(
        "9999", "N"
    )
    assert service.list_orders(bob) == []
    assert [o.order_id for o in service.list_orders(alice)] == [mine.order_id]
    assert [a.account_id for a in service.portfolio(bob).accounts] == [ACCOUNTS.bob_cash]
    with pytest.raises(TradingError) as theirs:
        service.portfolio(bob, ACCOUNTS.alice_cash)
    assert theirs.value.message == f"account {ACCOUNTS.alice_cash} is not one of your accounts"


def test_portfolio_totals_reconcile_with_the_ledger(books):
    service, _, prices = books
    service.place_order(alice, OrderRequest(symbol="AAPL", side="buy", quantity=20), "a")
    service.place_order(alice, OrderRequest(symbol="AAPL", side="sell", quantity=25), "b")
    service.place_order(alice, OrderRequest(symbol="BTCUSD", side="buy", quantity=0.05), "c")
    prices.prices.update(AAPL=103.0, BTCUSD=51_000.0)
    portfolio = service.portfolio(alice)
    assert [a.account_id for a in portfolio.accounts] == [1, 2, 3]
    for account in portfolio.accounts:
        profit = account.realised_pnl + account.unrealised_pnl - account.fees_paid
        assert account.cash + account.market_value - account.net_deposits == pytest.approx(
            profit, abs=0.02
        )
    assert portfolio.total_value == pytest.approx(sum(a.total_value for a in portfolio.accounts))


def test_margin_account_may_spend_its_multiplier(books):
    service, _, _ = books
    carol = customer(CAROL)
    request = OrderRequest(account_id=ACCOUNTS.carol_margin, symbol="MSFT", side="buy", quantity=6)
    preview = service.preview_order(carol, request)  # 1,800.90 + fees on 1,000 cash x 2
    assert preview.ok, preview.checks
    cash_only = request.model_copy(update={"account_id": ACCOUNTS.carol_cash, "quantity": 10})
    assert not service.preview_order(carol, cash_only).ok  # 3,001.50 on 3,000 of cash


def test_two_working_buys_cannot_spend_the_same_cash(books):
    service, _, _ = books
    bob = customer(BOB)
    limit = OrderRequest(
        symbol="AAPL", side="buy", order_type="limit", quantity=15, limit_price=100
    )
    service.place_order(bob, limit, "one")  # 1,501.00 of Bob's 2,000 reserved
    preview = service.preview_order(bob, limit)
    (power,) = [c for c in preview.checks if c.name == "buying_power"]
    assert not power.passed and power.code == "insufficient_buying_power"
    sells = OrderRequest(
        symbol="AAPL", side="sell", order_type="limit", quantity=6, limit_price=200
    )
    service.place_order(alice, sells, "s6")
    (holdings,) = [c for c in service.preview_order(alice, sells).checks if c.name == "holdings"]
    assert not holdings.passed  # 10 held, 6 already offered


def test_default_price_source_reads_the_latest_close(tmp_path):
    from services.trading.prices import LatestClose

    settings = make_settings(tmp_path)
    engine = make_engine(settings.database_url)
    build(engine)
    assert LatestClose(engine).latest("AAPL") == 100.0
    assert LatestClose(engine).latest("NOPE") is None
    engine.dispose()


def test_demo_data_lists_its_instruments_and_its_books_reconcile(tmp_path):
    from datetime import date

    from services.db.migrate import upgrade
    from services.demo_data.generator import load_demo_data

    settings = make_settings(tmp_path)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    load_demo_data(engine, seed=7, as_of=date(2026, 11, 24), users=40)
    with engine.connect() as conn:
        listed = dict(conn.execute(select(m.Instrument.symbol, m.Instrument.asset_class)).all())
        priced = {s for (s,) in conn.execute(select(m.MarketPrice.symbol).distinct())}
        customers = conn.execute(select(m.User.id).where(m.User.role == "customer")).scalars()
        customers = list(customers)
    assert set(listed) == priced and listed["BTCUSD"] == "crypto" and listed["SPY"] == "equity"
    service = TradingService(engine, settings)
    checked = 0
    for user_id in customers:
        for account in service.portfolio(customer(user_id)).accounts:
            books = account.cash + account.market_value - account.net_deposits
            profit = account.realised_pnl + account.unrealised_pnl - account.fees_paid
            assert books == pytest.approx(profit, abs=0.05), (user_id, account.account_id)
            assert account.buying_power <= account.cash * (
                2 if account.account_type == "margin" else 1
            )
            checked += 1
    assert checked > 30
    engine.dispose()


def test_a_partly_filled_equity_order_pays_the_order_minimum_once(books):
    """An order the books already show part-filled (as the demo data has) fills the rest; the
    equity minimum is per order, so the second fill pays only what the order's fee adds."""
    from sqlalchemy import insert, update

    service, engine, _ = books
    request = OrderRequest(
        symbol="AAPL", side="buy", order_type="limit", quantity=100, limit_price=99
    )
    order = service.place_order(alice, request, "part")
    with engine.begin() as conn:  # 40 filled earlier at 98, paying the $1.00 minimum
        conn.execute(
            update(m.Order)
            .where(m.Order.id == order.order_id)
            .values(status="partially_filled", filled_quantity=40, avg_fill_price=98, fees=1.0)
        )
        conn.execute(
            insert(m.Transaction),
            [
                dict(
                    user_id=ALICE,
                    account_id=1,
                    order_id=order.order_id,
                    type=kind,
                    symbol="AAPL",
                    quantity=q,
                    price=p,
                    amount=a,
                    currency="USD",
                    executed_at=IN_SESSION,
                )
                for kind, q, p, a in (("buy", 40, 98.0, -3920.0), ("fee", None, None, -1.0))
            ],
        )
    (filled,) = service.fill_triggered([(order.order_id, 97.0)])
    assert filled.status == "filled" and filled.filled_quantity == 100
    assert filled.avg_fill_price == pytest.approx((40 * 98 + 60 * 97) / 100)
    assert filled.fees == 1.0  # 100 x $0.005 = $0.50 is under the minimum already paid
    assert ledger(engine, order.order_id)[-1] == ("buy", 60, -5820.0)  # and no fee row


def test_a_triggered_buy_the_cash_no_longer_covers_is_rejected_not_overdrawn(books):
    service, engine, _ = books
    bob = customer(BOB)
    request = OrderRequest(
        symbol="AAPL", side="buy", order_type="stop", quantity=15, stop_price=100
    )
    order = service.place_order(bob, request, "gap")  # about 1,502 of Bob's 2,000 reserved
    before = snapshot(engine)
    (rejected,) = service.fill_triggered([(order.order_id, 140.0)])  # the price gapped up
    assert rejected.status == "rejected" and rejected.filled_quantity == 0
    after = snapshot(engine)
    assert after["cash"] == before["cash"] and after["counts"] == before["counts"]
    assert cash(engine, ACCOUNTS.bob_cash) == 2_000
    (entry,) = audit_rows(engine, "trading.fill")
    assert (
        entry["outcome"] == "rejected" and json.loads(entry["detail"])["order_id"] == order.order_id
    )
