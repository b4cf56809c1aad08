"""Pre-trade evaluation: which account, at what price, and every check an order must pass.

`evaluate` reads inside the caller's transaction (locked by `place_order`, plain for a
preview), so the figures it checks are the figures the order is written against. Problems that
leave nothing to preview (a malformed order, an account that is not the caller's, an unknown
symbol, no price) raise `TradingError`; the rest come back as checks, each with its code.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping, func, select

from services.db.models import Instrument, Order, Position, TradingAccount, User
from services.identity import Caller, Role
from services.kyc.service import standing
from services.settings import Settings
from services.trading.errors import TradingError
from services.trading.hours import market_open
from services.trading.locking import lock_account
from services.trading.models import CheckResult, OrderPreview, OrderRequest
from services.trading.policy import TradingPolicy
from services.trading.prices import PriceSource

WORKING = ("open", "partially_filled")
ACCOUNT_TYPES = {"crypto": ("crypto",), "equity": ("cash", "margin")}


@dataclass(frozen=True)
class Evaluation:
    preview: OrderPreview
    user_id: int
    trigger_price: float | None  # limit or stop price, stored in orders.limit_price

    def first_failure(self) -> CheckResult | None:
        return next((c for c in self.preview.checks if not c.passed), None)


def customer_id(caller: Caller) -> int:
    """Only customers trade, and only for themselves: staff may read and cancel."""
    if caller.role is not Role.CUSTOMER:
        raise TradingError(
            "orders_customers_only",
            "only customers place orders, on their own accounts; staff may view and cancel",
        )
    if caller.user_id is None:
        raise TradingError("unknown_user", "no customer is signed in")
    return caller.user_id


def validate_shape(request: OrderRequest) -> None:
    sizes = [v for v in (request.quantity, request.notional) if v is not None]
    if len(sizes) != 1:
        raise TradingError("invalid_order", "give either a quantity or a notional amount, not both")
    if not all(math.isfinite(v) and v > 0 for v in sizes):
        raise TradingError("invalid_quantity", "the quantity or notional must be greater than zero")
    needs = {"market": None, "limit": "limit_price", "stop": "stop_price"}[request.order_type]
    for name in ("limit_price", "stop_price"):
        value = getattr(request, name)
        if name == needs and value is None:
            raise TradingError("invalid_order", f"a {request.order_type} order needs a {name}")
        if name != needs and value is not None:
            raise TradingError("invalid_order", f"a {request.order_type} order takes no {name}")
        if value is not None and not (math.isfinite(value) and value > 0):
            raise TradingError("invalid_order", f"the {name} must be greater than zero")


def not_yours(account_id: int) -> TradingError:
    return TradingError("unknown_account", f"account {account_id} is not one of your accounts")


def pick_account(conn: Connection, user_id: int, account_id: int | None, asset_class: str) -> int:
    """The account the order goes to: the one named (if the caller's) or the only fit."""
    accounts = TradingAccount.__table__
    if account_id is not None:
        owner = conn.execute(
            select(accounts.c.user_id, accounts.c.account_type).where(accounts.c.id == account_id)
        ).first()
        if owner is None or owner.user_id != user_id:
            raise not_yours(account_id)
        if owner.account_type not in ACCOUNT_TYPES[asset_class]:
            kinds = " or ".join(ACCOUNT_TYPES[asset_class])
            raise TradingError(
                "wrong_account_type",
                f"account {account_id} is a {owner.account_type} account; {asset_class} "
                f"trades need a {kinds} account",
            )
        return account_id
    rows = conn.execute(
        select(accounts.c.id, accounts.c.account_number)
        .where(
            accounts.c.user_id == user_id,
            accounts.c.status == "active",
            accounts.c.account_type.in_(ACCOUNT_TYPES[asset_class]),
        )
        .order_by(accounts.c.id)
    ).all()
    if not rows:
        raise TradingError(
            "no_trading_account", f"you have no active account that can trade {asset_class}"
        )
    if len(rows) > 1:
        numbers = ", ".join(f"{r.account_number} (id {r.id})" for r in rows)
        raise TradingError(
            "ambiguous_account", f"several of your accounts can trade this; name one: {numbers}"
        )
    return rows[0].id


def instrument(conn: Connection, symbol: str) -> RowMapping:
    table = Instrument.__table__
    row = conn.execute(select(table).where(table.c.symbol == symbol)).mappings().first()
    if row is None:
        raise TradingError("unknown_symbol", f"{symbol} is not an instrument we list")
    return row


def kyc_verified(conn: Connection, user_id: int, now: datetime) -> CheckResult:
    """The KYC service's word on the customer (one rule, in `services.kyc.service.standing`),
    read inside the order's transaction."""
    found = standing(conn, user_id, now)
    return CheckResult(
        name="kyc",
        passed=found.verified,
        message=found.message,
        code=None if found.verified else "kyc_required",
    )


def spendable(account: RowMapping, settings: Settings) -> float:
    """Cash a buy may use before reservations: margin multiplies positive cash."""
    cash = float(account["cash_balance"])
    if account["account_type"] == "margin" and cash > 0:
        return cash * settings.trading_margin_multiplier
    return cash


def reservations(
    conn: Connection,
    account_id: int,
    *,
    policy: TradingPolicy,
    settings: Settings,
    tier: str,
    asset_classes: dict[str, str],
    prices: PriceSource,
) -> tuple[float, dict[str, float]]:
    """Cash held by working buys (remaining units at their price, plus fees) and units held by
    working sells, by symbol."""
    orders = Order.__table__
    rows = conn.execute(
        select(orders).where(orders.c.account_id == account_id, orders.c.status.in_(WORKING))
    ).mappings()
    cash = 0.0
    units: dict[str, float] = {}
    slip = settings.trading_slippage_bps / 10_000
    for row in rows:
        remaining = float(row["quantity"]) - float(row["filled_quantity"] or 0.0)
        if remaining <= 0:
            continue
        if row["side"] == "sell":
            units[row["symbol"]] = units.get(row["symbol"], 0.0) + remaining
            continue
        price = row["limit_price"] or prices.latest(row["symbol"]) or 0.0
        if row["order_type"] != "limit":
            price = float(price) * (1 + slip)
        gross = remaining * float(price)
        fee = policy.commission(
            asset_classes.get(row["symbol"], "equity"),
            tier,
            row["order_type"],
            quantity=remaining,
            notional=gross,
        )
        cash += gross + fee
    return round(cash, 2), units


def asset_classes(conn: Connection) -> dict[str, str]:
    table = Instrument.__table__
    return dict(conn.execute(select(table.c.symbol, table.c.asset_class)).tuples().all())


def held(conn: Connection, account_id: int, symbol: str) -> float:
    table = Position.__table__
    quantity = conn.execute(
        select(func.coalesce(func.sum(table.c.quantity), 0.0)).where(
            table.c.account_id == account_id, table.c.symbol == symbol
        )
    ).scalar_one()
    return float(quantity)


def evaluate(
    conn: Connection,
    caller: Caller,
    request: OrderRequest,
    *,
    now: datetime,
    settings: Settings,
    policy: TradingPolicy,
    prices: PriceSource,
    lock: bool,
) -> Evaluation:
    """Everything `preview_order` shows and `place_order` enforces (`lock`: hold the account
    until the transaction ends). `now` is aware UTC."""
    user_id = customer_id(caller)
    validate_shape(request)
    listed = instrument(conn, request.symbol)
    asset_class = listed["asset_class"]
    account_id = pick_account(conn, user_id, request.account_id, asset_class)
    account = lock_account(conn, account_id, lock=lock)
    latest = prices.latest(request.symbol)
    if latest is None or latest <= 0:
        raise TradingError("no_price", f"there is no current price for {request.symbol}")

    slip = settings.trading_slippage_bps / 10_000
    trigger = request.limit_price or request.stop_price
    if request.order_type == "limit":
        price = float(request.limit_price)  # type: ignore[arg-type]
    else:
        base = latest if request.order_type == "market" else float(trigger)  # type: ignore[arg-type]
        price = base * (1 + slip if request.side == "buy" else 1 - slip)
    price = round(price, 8)
    if request.quantity is not None:
        quantity = round(request.quantity, 8)  # what the orders table keeps
    else:
        quantity = math.floor(request.notional / price * 1e6) / 1e6  # type: ignore[operator]
    if quantity <= 0:
        raise TradingError(
            "invalid_quantity",
            f"the order comes to less than the smallest tradable fraction of {request.symbol}",
        )
    cost = round(quantity * price, 2)
    user = conn.execute(select(User.__table__.c.tier).where(User.__table__.c.id == user_id))
    tier = user.scalar_one()
    fees = policy.commission(
        asset_class, tier, request.order_type, quantity=quantity, notional=cost
    )
    limits = policy.limits(tier)

    checks = [kyc_verified(conn, user_id, now)]
    active = account["status"] == "active"
    checks.append(
        CheckResult(
            name="account",
            passed=active,
            message=f"account {account['account_number']} is {account['status']}",
            code=None if active else "account_inactive",
        )
    )
    checks.append(
        CheckResult(
            name="instrument",
            passed=bool(listed["tradable"]),
            message=f"{request.symbol} is "
            + ("tradable" if listed["tradable"] else "halted: no orders are accepted"),
            code=None if listed["tradable"] else "not_tradable",
        )
    )
    within = quantity <= limits.max_quantity and cost <= limits.max_order_notional
    checks.append(
        CheckResult(
            name="limits",
            passed=within,
            message=f"{tier} tier: at most {limits.max_quantity:g} units and "
            f"{limits.max_order_notional:,.2f} {account['base_currency']} per order "
            f"(this order: {quantity:g} units, {cost:,.2f})",
            code=None if within else "order_limit_exceeded",
        )
    )
    reserved, reserved_units = reservations(
        conn,
        account_id,
        policy=policy,
        settings=settings,
        tier=tier,
        asset_classes=asset_classes(conn),
        prices=prices,
    )
    if request.side == "buy":
        power = round(spendable(account, settings) - reserved, 2)
        enough = cost + fees <= power + 1e-9
        checks.append(
            CheckResult(
                name="buying_power",
                passed=enough,
                message=f"needs {cost + fees:,.2f} (cost {cost:,.2f} + fees {fees:,.2f}); "
                f"buying power {power:,.2f} {account['base_currency']}",
                code=None if enough else "insufficient_buying_power",
            )
        )
    else:
        free = round(
            held(conn, account_id, request.symbol) - reserved_units.get(request.symbol, 0), 8
        )
        enough = quantity <= free + 1e-9
        checks.append(
            CheckResult(
                name="holdings",
                passed=enough,
                message=f"sells {quantity:g} {request.symbol}; {max(free, 0):g} held and not "
                "already offered by working sells",
                code=None if enough else "insufficient_holdings",
            )
        )
    is_open = market_open(asset_class, now)
    checks.append(
        CheckResult(
            name="market_hours",
            passed=is_open,
            message="crypto trades around the clock"
            if asset_class == "crypto"
            else "the US equity market is "
            + ("open" if is_open else "closed (09:30-16:00 New York time, Monday to Friday)"),
            code=None if is_open else "market_closed",
        )
    )
    preview = OrderPreview(
        account_id=account_id,
        account_number=account["account_number"],
        symbol=request.symbol,
        side=request.side,
        order_type=request.order_type,
        quantity=quantity,
        estimated_price=price,
        estimated_cost=cost,
        estimated_fees=fees,
        currency=account["base_currency"],
        checks=checks,
        ok=all(c.passed for c in checks),
    )
    return Evaluation(preview=preview, user_id=user_id, trigger_price=trigger)
