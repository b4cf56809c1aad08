"""Market tools: quotes, price history, and price alerts that fire once when crossed.

Faces of `services.market.MarketData`. Quotes and history are public market data; alerts are
the caller's own, and creating or deleting one waits for their yes like any other write.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field

from services import clock
from services.identity import Role
from services.ids import RowId
from services.llm.privacy import Sensitivity
from services.market.service import AlertOut, BarOut, QuoteOut
from tools.registry import Preview, ToolContext, ToolInput, ToolKind
from tools.tool_set import TOOLS

EVERYONE = {Role.CUSTOMER, Role.SUPPORT, Role.ADMIN}
SYSTEMS = EVERYONE | {Role.SERVICE}  # public market data: other systems may read it too
CUSTOMERS = {Role.CUSTOMER}
Symbol = Field(min_length=1, max_length=20, description="Ticker, e.g. AAPL or BTCUSD.")


class QuoteInput(ToolInput):
    symbol: str = Symbol


class QuoteOutput(BaseModel):
    quote: QuoteOut = Field(description="The latest price and when it was seen.")

    def sentence(self) -> str:
        q = self.quote
        return f"{q.symbol} last traded at {q.price:,.2f} (as of {q.as_of:%Y-%m-%d %H:%M} UTC)."


@TOOLS.tool(roles=SYSTEMS, sensitivity=Sensitivity.PUBLIC)
def get_quote(ctx: ToolContext, args: QuoteInput) -> QuoteOutput:
    """The latest price of an instrument."""
    market = ctx.services.need("market")
    return QuoteOutput(quote=market.quote(args.symbol))


class HistoryInput(ToolInput):
    symbol: str = Symbol
    interval: Literal["1m", "1h", "1d"] = Field("1d", description="Bar length.")
    days: int = Field(30, ge=1, le=3660, description="How many days back from today.")


class HistoryOutput(BaseModel):
    bars: list[BarOut] = Field(description="Oldest first.")

    def sentence(self) -> str:
        if not self.bars:
            return "No bars in that period."
        first, last = self.bars[0], self.bars[-1]
        low = min(b.low for b in self.bars)
        high = max(b.high for b in self.bars)
        return (
            f"{last.symbol}: {len(self.bars)} {last.interval} bars from {first.start:%Y-%m-%d} "
            f"to {last.start:%Y-%m-%d}; open {first.open:,.2f}, last close {last.close:,.2f}, "
            f"low {low:,.2f}, high {high:,.2f}."
        )


@TOOLS.tool(roles=SYSTEMS, sensitivity=Sensitivity.PUBLIC)
def get_price_history(ctx: ToolContext, args: HistoryInput) -> HistoryOutput:
    """An instrument's price bars (open, high, low, close, volume) over the last days."""
    market = ctx.services.need("market")
    end = clock.utcnow()
    bars = market.history(args.symbol, args.interval, end - timedelta(days=args.days), end)
    return HistoryOutput(bars=bars)


class NewAlertInput(ToolInput):
    symbol: str = Symbol
    direction: Literal["above", "below"] = Field(
        description="Fire when the price rises above, or falls below, the threshold."
    )
    threshold: float = Field(gt=0, description="The price level.")


class AlertOutput(BaseModel):
    alert: AlertOut = Field(description="The alert as it stands.")

    def sentence(self) -> str:
        return alert_sentence(self.alert)


def alert_sentence(a: AlertOut) -> str:
    return f"Alert {a.id}: {a.symbol} {a.direction} {a.threshold:,.2f} ({a.status})."


@TOOLS.tool(roles=CUSTOMERS, kind=ToolKind.WRITE)
def create_price_alert(ctx: ToolContext, args: NewAlertInput) -> AlertOutput:
    """Set a price alert that notifies you once when an instrument's price crosses a level."""
    market = ctx.services.need("market")
    alert = market.create_alert(ctx.caller, args.symbol, args.direction, args.threshold)
    return AlertOutput(alert=alert)


@TOOLS.previewer("create_price_alert")
def preview_create_price_alert(ctx: ToolContext, args: NewAlertInput) -> Preview:
    return Preview(
        summary=f"alert you once when {args.symbol.upper()} goes {args.direction} "
        f"{args.threshold:,.2f}",
        details=args.model_dump(),
    )


class AlertsOutput(BaseModel):
    alerts: list[AlertOut] = Field(description="Newest first.")

    def sentence(self) -> str:
        return "\n".join(f"- {alert_sentence(a)}" for a in self.alerts) or "No alerts."


class NoInput(ToolInput):
    """No arguments."""


@TOOLS.tool(roles=EVERYONE)
def list_price_alerts(ctx: ToolContext, args: NoInput) -> AlertsOutput:
    """List your price alerts (active and fired)."""
    market = ctx.services.need("market")
    return AlertsOutput(alerts=market.list_alerts(ctx.caller))


class AlertIdInput(ToolInput):
    alert_id: RowId = Field(description="The alert's id.")


@TOOLS.tool(roles=CUSTOMERS, kind=ToolKind.WRITE)
def delete_price_alert(ctx: ToolContext, args: AlertIdInput) -> AlertOutput:
    """Delete one of your price alerts."""
    market = ctx.services.need("market")
    return AlertOutput(alert=market.delete_alert(ctx.caller, args.alert_id))


@TOOLS.previewer("delete_price_alert")
def preview_delete_price_alert(ctx: ToolContext, args: AlertIdInput) -> Preview:
    market = ctx.services.need("market")
    mine = {a.id: a for a in market.list_alerts(ctx.caller)}
    alert = mine.get(args.alert_id)
    if alert is None:
        return Preview(
            summary=f"delete alert {args.alert_id}",
            problems=[f"there is no alert {args.alert_id}"],
        )
    return Preview(summary=f"delete {alert_sentence(alert).rstrip('.')}")
