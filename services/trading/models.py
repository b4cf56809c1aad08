"""The trading service's typed edges: what callers send and what they get back."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Side = Literal["buy", "sell"]
OrderType = Literal["market", "limit", "stop"]


class OrderRequest(BaseModel):
    """An order as a customer asks for it. Shape rules (exactly one of quantity or notional,
    a positive size, the price its type needs) are checked by the service, not here, so that a
    malformed order is refused with a specific code and an audit row like any other refusal.
    Unknown fields are refused: a misspelt `qty` must not become an order without a size."""

    model_config = ConfigDict(extra="forbid")

    account_id: int | None = Field(
        None,
        description="Account to trade in; empty: the caller's only active account that can "
        "trade the symbol (crypto needs a crypto account, equities a cash or margin one).",
    )
    symbol: str = Field(min_length=1, max_length=20, description="Ticker, e.g. AAPL or BTCUSD.")
    side: Side = Field(description="buy or sell.")
    order_type: OrderType = Field(
        "market",
        description="market fills now at the latest price; limit and stop rest until the "
        "price crosses their price.",
    )
    quantity: float | None = Field(
        None, description="Units to trade; give this or notional, not both."
    )
    notional: float | None = Field(
        None, description="Money to trade, in the account's currency; give this or quantity."
    )
    limit_price: float | None = Field(
        None, description="Limit price: required for limit orders, refused for the others."
    )
    stop_price: float | None = Field(
        None, description="Stop price: required for stop orders, refused for the others."
    )

    @field_validator("symbol")
    @classmethod
    def _ticker(cls, value: str) -> str:
        return value.strip().upper()


class CheckResult(BaseModel):
    name: str = Field(description="Which pre-trade check: kyc, account, instrument, limits, ...")
    passed: bool = Field(description="True when the order satisfies it.")
    message: str = Field(description="What was checked, or why the order fails it.")
    code: str | None = Field(None, description="The refusal's error code when it failed.")


class OrderPreview(BaseModel):
    """What placing the order would do now; nothing is written."""

    account_id: int = Field(description="Account the order would be placed in.")
    account_number: str = Field(description="That account's public number.")
    symbol: str = Field(description="Ticker.")
    side: Side = Field(description="buy or sell.")
    order_type: OrderType = Field(description="market, limit or stop.")
    quantity: float = Field(description="Units; estimated at the price below for notional.")
    estimated_price: float = Field(
        description="Expected price per unit: latest price plus slippage for market and stop "
        "orders, the limit price for limit orders."
    )
    estimated_cost: float = Field(description="quantity x estimated price, before fees.")
    estimated_fees: float = Field(description="Commission on the whole order.")
    currency: str = Field(description="Currency of the amounts.")
    checks: list[CheckResult] = Field(description="Every pre-trade check and its outcome.")
    ok: bool = Field(description="True when every check passed and the order can be placed.")


class OrderResult(BaseModel):
    order_id: int = Field(description="Order id.")
    status: str = Field(description="open, partially_filled, filled, cancelled or rejected.")
    symbol: str = Field(description="Ticker.")
    side: Side = Field(description="buy or sell.")
    order_type: OrderType = Field(description="market, limit or stop.")
    quantity: float = Field(description="Units ordered.")
    filled_quantity: float = Field(description="Units filled so far.")
    avg_fill_price: float | None = Field(description="Average price of the fills, if any.")
    limit_price: float | None = Field(None, description="Limit price of a limit order.")
    stop_price: float | None = Field(None, description="Stop price of a stop order.")
    fees: float = Field(description="Commission charged so far.")
    account_id: int = Field(description="Account (trading_accounts.id).")
    user_id: int | None = Field(None, description="Owner of the order (users.id).")
    created_at: datetime | None = Field(None, description="When it was placed (UTC).")
    updated_at: datetime | None = Field(None, description="Last change (UTC).")
    created: bool = Field(
        True, description="False when an idempotency key replayed an earlier order."
    )


class PositionView(BaseModel):
    symbol: str = Field(description="Ticker.")
    quantity: float = Field(description="Units held.")
    avg_cost: float = Field(description="Average cost per unit of the open FIFO lots.")
    last_price: float | None = Field(description="Latest price; empty when none is known.")
    market_value: float | None = Field(description="quantity x last price.")
    unrealised_pnl: float | None = Field(description="Market value minus the open lots' cost.")
    realised_pnl: float = Field(description="Profit taken by sales, FIFO, before fees.")


class AccountPortfolio(BaseModel):
    account_id: int = Field(description="Account id.")
    account_number: str = Field(description="Public account number.")
    account_type: str = Field(description="cash, margin or crypto.")
    status: str = Field(description="active, suspended or closed.")
    currency: str = Field(description="Base currency of the amounts.")
    cash: float = Field(description="Cash balance.")
    reserved: float = Field(description="Cash working buy orders hold (cost + fees).")
    buying_power: float = Field(
        description="What a new buy may spend: cash (times the margin multiplier for a margin "
        "account with positive cash) minus what working buys reserve."
    )
    positions: list[PositionView] = Field(description="Holdings, by symbol.")
    market_value: float = Field(description="Sum of the positions' market values.")
    total_value: float = Field(description="cash + market value.")
    unrealised_pnl: float = Field(description="Sum over positions.")
    realised_pnl: float = Field(description="FIFO, over every symbol ever sold, before fees.")
    fees_paid: float = Field(description="Commissions charged (a positive number).")
    income: float = Field(description="Dividends received.")
    net_deposits: float = Field(description="Deposits minus withdrawals.")


class Portfolio(BaseModel):
    user_id: int | None = Field(description="Owner of the accounts shown.")
    accounts: list[AccountPortfolio] = Field(description="One entry per account.")
    cash: float = Field(description="Total cash.")
    market_value: float = Field(description="Total market value of positions.")
    total_value: float = Field(description="cash + market value.")
    unrealised_pnl: float = Field(description="Total unrealised profit.")
    realised_pnl: float = Field(description="Total realised profit.")
