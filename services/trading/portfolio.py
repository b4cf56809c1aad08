"""An account's holdings and profit, computed from its positions, its ledger and prices."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, RowMapping, select

from services.db.models import Position, Transaction
from services.settings import Settings
from services.trading.models import AccountPortfolio, PositionView
from services.trading.pnl import Fill, LotBook, fifo
from services.trading.policy import TradingPolicy
from services.trading.pretrade import asset_classes, reservations, spendable
from services.trading.prices import PriceSource


def lot_books(conn: Connection, account_id: int) -> dict[str, LotBook]:
    """FIFO lots per symbol from the account's buy and sell fills, in time order."""
    ledger = Transaction.__table__
    rows = conn.execute(
        select(ledger.c.symbol, ledger.c.type, ledger.c.quantity, ledger.c.price)
        .where(ledger.c.account_id == account_id, ledger.c.type.in_(("buy", "sell")))
        .order_by(ledger.c.executed_at, ledger.c.id)
    ).all()
    fills: dict[str, list[Fill]] = defaultdict(list)
    for row in rows:
        fills[row.symbol].append(Fill(row.type, float(row.quantity), float(row.price)))
    return {symbol: fifo(items) for symbol, items in fills.items()}


def cash_flows(conn: Connection, account_id: int) -> dict[str, float]:
    """Sum of ledger amounts by type (deposit, withdrawal, fee, dividend, buy, sell)."""
    ledger = Transaction.__table__
    rows = conn.execute(
        select(ledger.c.type, ledger.c.amount).where(ledger.c.account_id == account_id)
    ).all()
    totals: dict[str, float] = defaultdict(float)
    for row in rows:
        totals[row.type] += float(row.amount)
    return totals


def account_portfolio(
    conn: Connection,
    account: RowMapping,
    *,
    tier: str,
    settings: Settings,
    policy: TradingPolicy,
    prices: PriceSource,
) -> AccountPortfolio:
    table = Position.__table__
    held = conn.execute(
        select(table.c.symbol, table.c.quantity, table.c.avg_cost)
        .where(table.c.account_id == account["id"])
        .order_by(table.c.symbol)
    ).all()
    books = lot_books(conn, account["id"])
    positions = []
    for row in held:
        quantity = float(row.quantity)
        # a holding with no fills in the ledger (loaded from elsewhere) is one lot at its cost
        book = books.get(row.symbol) or fifo([Fill("buy", quantity, float(row.avg_cost))])
        last = prices.latest(row.symbol)
        value = None if last is None else round(quantity * last, 2)
        positions.append(
            PositionView(
                symbol=row.symbol,
                quantity=quantity,
                avg_cost=round(book.avg_cost, 4),
                last_price=last,
                market_value=value,
                unrealised_pnl=None if last is None else round(book.unrealised(last), 2),
                realised_pnl=round(book.realised, 2),
            )
        )
    reserved, _ = reservations(
        conn,
        account["id"],
        policy=policy,
        settings=settings,
        tier=tier,
        asset_classes=asset_classes(conn),
        prices=prices,
    )
    flows = cash_flows(conn, account["id"])
    cash = float(account["cash_balance"])
    market_value = round(sum(p.market_value or 0.0 for p in positions), 2)
    return AccountPortfolio(
        account_id=account["id"],
        account_number=account["account_number"],
        account_type=account["account_type"],
        status=account["status"],
        currency=account["base_currency"],
        cash=cash,
        reserved=reserved,
        buying_power=round(spendable(account, settings) - reserved, 2),
        positions=positions,
        market_value=market_value,
        total_value=round(cash + market_value, 2),
        unrealised_pnl=round(sum(p.unrealised_pnl or 0.0 for p in positions), 2),
        realised_pnl=round(sum(b.realised for b in books.values()), 2),
        fees_paid=round(-flows.get("fee", 0.0), 2),
        income=round(flows.get("dividend", 0.0), 2),
        net_deposits=round(flows.get("deposit", 0.0) + flows.get("withdrawal", 0.0), 2),
    )
