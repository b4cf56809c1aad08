"""Brokerage accounts, their orders, ledger and positions, and the instruments listed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped

from services.db.models.base import Base, Money, Price, Quantity, col


class TradingAccount(Base):
    __tablename__ = "trading_accounts"
    __table_args__ = {"comment": "Brokerage and crypto accounts; a user may hold several."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Account id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Owner (users.id).")
    account_number: Mapped[str] = col(String(20), unique=True, comment="Public account number.")
    account_type: Mapped[str] = col(String(20), comment="Kind of account: cash, margin or crypto.")
    base_currency: Mapped[str] = col(
        String(3), comment="Currency the account is kept in, e.g. USD."
    )
    status: Mapped[str] = col(String(20), comment="Account status: active, suspended or closed.")
    cash_balance: Mapped[float] = col(Money, comment="Uninvested cash, in the base currency.")
    opened_at: Mapped[datetime] = col(DateTime, comment="When the account was opened (UTC).")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_user_status", "user_id", "status"),
        Index("ix_orders_user_idempotency", "user_id", "idempotency_key", unique=True),
        {"comment": "Buy and sell orders placed by customers, whatever their state."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Order id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), comment="Customer who placed it (users.id).")
    account_id: Mapped[int] = col(
        ForeignKey("trading_accounts.id"), index=True, comment="Account (trading_accounts.id)."
    )
    symbol: Mapped[str] = col(String(20), comment="Instrument ticker, e.g. AAPL, SPY or BTCUSD.")
    side: Mapped[str] = col(String(4), comment="buy or sell.")
    order_type: Mapped[str] = col(String(10), comment="market, limit or stop.")
    quantity: Mapped[float] = col(Quantity, comment="Quantity ordered, in units of the instrument.")
    limit_price: Mapped[float | None] = col(Price, comment="Limit or stop price; empty for market.")
    status: Mapped[str] = col(
        String(20),
        comment="open (working, nothing filled), partially_filled (working, some filled), "
        "filled, cancelled or rejected.",
    )
    filled_quantity: Mapped[float] = col(Quantity, comment="Quantity filled so far.")
    avg_fill_price: Mapped[float | None] = col(Price, comment="Average price of the fills.")
    created_at: Mapped[datetime] = col(DateTime, comment="When the order was placed (UTC).")
    updated_at: Mapped[datetime] = col(DateTime, comment="Last change of status or fills (UTC).")
    notional: Mapped[float | None] = col(
        Money, comment="Cash amount asked for when the order was given in money, not units."
    )
    fees: Mapped[float | None] = col(Money, comment="Commission charged on the fills so far.")
    idempotency_key: Mapped[str | None] = col(
        String(100),
        internal=True,
        comment="Caller's key that makes placing the same order twice place it once "
        "(unique per user).",
    )


class Transaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        Index("ix_transactions_user_time", "user_id", "executed_at"),
        {"comment": "Ledger of cash and asset movements: trade fills, deposits, fees, dividends."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Transaction id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), comment="Customer (users.id).")
    account_id: Mapped[int] = col(
        ForeignKey("trading_accounts.id"), index=True, comment="Account (trading_accounts.id)."
    )
    order_id: Mapped[int | None] = col(
        ForeignKey("orders.id"), index=True, comment="Order that produced a fill (orders.id)."
    )
    type: Mapped[str] = col(String(20), comment="buy, sell, deposit, withdrawal, fee or dividend.")
    symbol: Mapped[str | None] = col(String(20), comment="Instrument for buy, sell and dividend.")
    quantity: Mapped[float | None] = col(Quantity, comment="Units bought or sold.")
    price: Mapped[float | None] = col(Price, comment="Execution price per unit.")
    amount: Mapped[float] = col(
        Money, comment="Cash effect on the account: positive in, negative out (fees negative)."
    )
    currency: Mapped[str] = col(String(3), comment="Currency of amount.")
    executed_at: Mapped[datetime] = col(DateTime, comment="When it happened (UTC).")


class Position(Base):
    __tablename__ = "positions"
    __table_args__ = {"comment": "Current holdings per account and instrument, from the fills."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Position id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Customer (users.id).")
    account_id: Mapped[int] = col(
        ForeignKey("trading_accounts.id"), comment="Account (trading_accounts.id)."
    )
    symbol: Mapped[str] = col(String(20), comment="Instrument ticker.")
    quantity: Mapped[float] = col(Quantity, comment="Units held now.")
    avg_cost: Mapped[float] = col(Price, comment="Average cost per unit of the units held.")
    updated_at: Mapped[datetime] = col(DateTime, comment="Time of the last fill (UTC).")


class Instrument(Base):
    __tablename__ = "instruments"
    __table_args__ = {"comment": "Instruments the firm lists: what can be traded and in what."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Instrument id.")
    symbol: Mapped[str] = col(
        String(20), unique=True, comment="Ticker as orders name it, e.g. AAPL or BTCUSD."
    )
    asset_class: Mapped[str] = col(String(10), comment="equity (includes ETFs) or crypto.")
    tradable: Mapped[bool] = col(
        Boolean, comment="True when customers may place orders on it now; false when halted."
    )
    currency: Mapped[str] = col(String(3), comment="Currency it is priced in, e.g. USD.")
