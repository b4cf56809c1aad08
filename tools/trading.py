"""Trading tools: the portfolio and its P&L, orders to look at, place and cancel.

Thin typed faces of `services.trading.TradingService`: the service checks ownership, KYC,
limits and buying power and keeps the books; these say it to a person. Placing and cancelling
wait for the caller's yes, and a confirmed placement carries the confirmation's id as its
idempotency key, so a retried approval never places a second order.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.identity import Role
from services.ids import RowId
from services.trading import OrderRequest, OrderResult, Portfolio
from tools.registry import Preview, ToolContext, ToolError, ToolInput, ToolKind
from tools.tool_set import TOOLS

EVERYONE = {Role.CUSTOMER, Role.SUPPORT, Role.ADMIN}
CUSTOMERS = {Role.CUSTOMER}


def _money(value: float | None, currency: str = "") -> str:
    """
    >>> _money(1234.5, "USD")
    '1,234.50 USD'
    """
    return "unknown" if value is None else f"{value:,.2f} {currency}".strip()


class PortfolioInput(ToolInput):
    account_id: RowId | None = Field(
        None, description="One account's id; empty: every account of yours."
    )


class PortfolioOutput(BaseModel):
    portfolio: Portfolio = Field(description="Accounts, positions, cash, buying power, P&L.")

    def sentence(self) -> str:
        p = self.portfolio
        lines = [
            f"Total value {_money(p.total_value)} (cash {_money(p.cash)}, positions "
            f"{_money(p.market_value)}); unrealised P&L {_money(p.unrealised_pnl)}, "
            f"realised P&L {_money(p.realised_pnl)}."
        ]
        for a in p.accounts:
            held = ", ".join(
                f"{pos.quantity:g} {pos.symbol} (value {_money(pos.market_value)}, "
                f"unrealised {_money(pos.unrealised_pnl)})"
                for pos in a.positions
            )
            lines.append(
                f"- {a.account_type} account {a.account_number}: cash "
                f"{_money(a.cash, a.currency)}, buying power {_money(a.buying_power, a.currency)}"
                + (f"; {held}" if held else "; no positions")
            )
        return "\n".join(lines)


@TOOLS.tool(roles=EVERYONE)
def get_portfolio(ctx: ToolContext, args: PortfolioInput) -> PortfolioOutput:
    """Show your accounts' positions, cash, buying power and profit and loss (unrealised at the
    latest price, realised by FIFO lots), computed exactly."""
    trading = ctx.services.need("trading")
    return PortfolioOutput(portfolio=trading.portfolio(ctx.caller, args.account_id))


class OrderOutput(BaseModel):
    order: OrderResult = Field(description="The order as it stands.")

    def sentence(self) -> str:
        return order_sentence(self.order)


def order_sentence(o: OrderResult) -> str:
    """
    >>> order_sentence(OrderResult(order_id=7, status="filled", symbol="AAPL", side="buy",
    ...     order_type="market", quantity=2, filled_quantity=2, avg_fill_price=190.1, fees=1,
    ...     account_id=3))
    'Order 7: buy 2 AAPL at market, filled (2 filled at 190.10), fees 1.00.'
    """
    price = {"limit": o.limit_price, "stop": o.stop_price}.get(o.order_type)
    kind = f"{o.order_type} {price:g}" if price is not None else o.order_type
    filled = (
        f" ({o.filled_quantity:g} filled at {o.avg_fill_price:,.2f})" if o.avg_fill_price else ""
    )
    return (
        f"Order {o.order_id}: {o.side} {o.quantity:g} {o.symbol} at {kind}, "
        f"{o.status.replace('_', ' ')}{filled}, fees {o.fees:,.2f}."
    )


class OrderIdInput(ToolInput):
    order_id: RowId = Field(description="The order's id.")


@TOOLS.tool(roles=EVERYONE)
def get_order(ctx: ToolContext, args: OrderIdInput) -> OrderOutput:
    """Show one order's status, fills and fees."""
    trading = ctx.services.need("trading")
    return OrderOutput(order=trading.get_order(ctx.caller, args.order_id))


class ListOrdersInput(ToolInput):
    working_only: bool = Field(
        False, description="Only orders still working (open or partially filled)."
    )
    limit: int = Field(20, ge=1, le=200, description="How many orders, newest first.")


class OrdersOutput(BaseModel):
    orders: list[OrderResult] = Field(description="Newest first.")

    def sentence(self) -> str:
        if not self.orders:
            return "No orders."
        return "\n".join(f"- {order_sentence(o)}" for o in self.orders)


@TOOLS.tool(roles=EVERYONE)
def list_orders(ctx: ToolContext, args: ListOrdersInput) -> OrdersOutput:
    """List your orders, newest first, optionally only the working ones."""
    trading = ctx.services.need("trading")
    found = trading.list_orders(ctx.caller, working_only=args.working_only, limit=args.limit)
    return OrdersOutput(orders=found)


class PlaceOrderInput(ToolInput, OrderRequest):
    """An order to place; the fields are the trading service's own."""


@TOOLS.tool(roles=CUSTOMERS, kind=ToolKind.WRITE)
def place_order(ctx: ToolContext, args: PlaceOrderInput) -> OrderOutput:
    """Place a buy or sell order (market, limit or stop; a quantity or an amount of money) in
    one of your accounts. It waits for your explicit yes."""
    if not ctx.idempotency_key:
        raise ToolError(
            "idempotency_key_required",
            "placing an order needs an idempotency key, so a retried request never places it twice",
        )
    trading = ctx.services.need("trading")
    request = OrderRequest.model_validate(args.model_dump())
    return OrderOutput(order=trading.place_order(ctx.caller, request, ctx.idempotency_key))


@TOOLS.previewer("place_order")
def preview_place_order(ctx: ToolContext, args: PlaceOrderInput) -> Preview:
    trading = ctx.services.need("trading")
    p = trading.preview_order(ctx.caller, OrderRequest.model_validate(args.model_dump()))
    price = {"limit": args.limit_price, "stop": args.stop_price}.get(p.order_type)
    kind = f"{p.order_type} {price:g}" if price is not None else "market"
    summary = (
        f"{p.side} {p.quantity:g} {p.symbol} at {kind} in account {p.account_number}: about "
        f"{_money(p.estimated_price, p.currency)} each, {_money(p.estimated_cost, p.currency)} "
        f"plus {_money(p.estimated_fees, p.currency)} fees"
    )
    return Preview(
        summary=summary,
        details=p.model_dump(mode="json"),
        problems=[c.message for c in p.checks if not c.passed],
    )


class CancelOrderInput(ToolInput):
    order_id: RowId = Field(description="The working order to cancel.")


@TOOLS.tool(roles=CUSTOMERS, kind=ToolKind.WRITE)
def cancel_order(ctx: ToolContext, args: CancelOrderInput) -> OrderOutput:
    """Cancel one of your working orders (open or partially filled). It waits for your yes."""
    trading = ctx.services.need("trading")
    return OrderOutput(order=trading.cancel_order(ctx.caller, args.order_id))


@TOOLS.previewer("cancel_order")
def preview_cancel_order(ctx: ToolContext, args: CancelOrderInput) -> Preview:
    trading = ctx.services.need("trading")
    order = trading.get_order(ctx.caller, args.order_id)
    working = order.status in ("open", "partially_filled")
    return Preview(
        summary=f"cancel order {order.order_id} ({order_sentence(order).split(': ', 1)[1]})",
        details=order.model_dump(mode="json"),
        problems=[] if working else [f"order {order.order_id} is {order.status}, not working"],
    )
