"""The trading service: portfolios, order previews, placing, cancelling and paper fills.

Who may do what: customers read, place and cancel on their own accounts only; an account or
order that is not theirs is refused exactly as a missing one is. Support and admin staff may
read any account and order and cancel any working order (a customer on the phone asks them
to), but never place an order: trading decisions are the customer's own.

Every place and cancel, accepted or refused, and every refused preview writes one audit row,
after its transaction has ended (a refusal writes nothing else). Fills happen in
`execution.apply_fill`; a fill or rejection triggered by a price event is audited as the
operator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection, Engine, RowMapping, func, select
from sqlalchemy.exc import IntegrityError

from services import audit, clock
from services.db.models import Instrument, Order, TradingAccount, Transaction, User
from services.identity import Caller, Role
from services.settings import Settings
from services.trading import announce
from services.trading.errors import TradingError
from services.trading.execution import FillSpec, apply_fill
from services.trading.locking import lock_account, write_transaction
from services.trading.models import OrderPreview, OrderRequest, OrderResult, Portfolio
from services.trading.policy import TradingPolicy, load_trading_policy
from services.trading.portfolio import account_portfolio
from services.trading.pretrade import (
    WORKING,
    customer_id,
    evaluate,
    held,
    not_yours,
    spendable,
)
from services.trading.prices import LatestClose, PriceSource

log = logging.getLogger(__name__)
OPERATOR = Caller(user_id=None, role=Role.ADMIN)  # the platform itself, as services/users.py


OnChange = Callable[[OrderResult], None]


class TradingService:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        prices: PriceSource | None = None,
        *,
        on_change: OnChange | None = None,
    ):
        """`on_change` hears of every order placed, cancelled, filled or rejected, after its
        transaction committed (the real-time stream tells the owner)."""
        self.engine = engine
        self.settings = settings
        self.prices = prices or LatestClose(engine)
        self.on_change = on_change
        self.policy: TradingPolicy = load_trading_policy(settings.trading_policy_file)

    # -- reading -------------------------------------------------------------------------------
    def portfolio(self, caller: Caller, account_id: int | None = None) -> Portfolio:
        """Customers: all their accounts, or the one named. Staff: the account named."""
        accounts = TradingAccount.__table__
        query = select(accounts).order_by(accounts.c.id)
        if caller.role is Role.CUSTOMER:
            query = query.where(accounts.c.user_id == customer_id(caller))
        elif account_id is None:
            raise TradingError("account_required", "name the account whose portfolio to show")
        if account_id is not None:
            query = query.where(accounts.c.id == account_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).mappings().all()
            if account_id is not None and not rows:
                if caller.role is Role.CUSTOMER:
                    raise not_yours(account_id)
                raise TradingError("unknown_account", f"there is no account {account_id}")
            views = [
                account_portfolio(
                    conn,
                    row,
                    tier=self._tier(conn, row["user_id"]),
                    settings=self.settings,
                    policy=self.policy,
                    prices=self.prices,
                )
                for row in rows
            ]
        return Portfolio(
            user_id=rows[0]["user_id"] if rows else caller.user_id,
            accounts=views,
            cash=round(sum(a.cash for a in views), 2),
            market_value=round(sum(a.market_value for a in views), 2),
            total_value=round(sum(a.total_value for a in views), 2),
            unrealised_pnl=round(sum(a.unrealised_pnl for a in views), 2),
            realised_pnl=round(sum(a.realised_pnl for a in views), 2),
        )

    def get_order(self, caller: Caller, order_id: int) -> OrderResult:
        with self.engine.connect() as conn:
            return _result(self._visible_order(conn, caller, order_id))

    def list_orders(
        self,
        caller: Caller,
        working_only: bool = False,
        limit: int = 50,
        account_id: int | None = None,
    ) -> list[OrderResult]:
        """Newest first. Customers see their own; staff see everyone's (or one account's)."""
        orders = Order.__table__
        query = select(orders).order_by(orders.c.created_at.desc(), orders.c.id.desc())
        if caller.role is Role.CUSTOMER:
            query = query.where(orders.c.user_id == customer_id(caller))
        if account_id is not None:
            query = query.where(orders.c.account_id == account_id)
        if working_only:
            query = query.where(orders.c.status.in_(WORKING))
        with self.engine.connect() as conn:
            rows = conn.execute(query.limit(max(1, min(limit, 500)))).mappings().all()
        return [_result(row) for row in rows]

    def preview_order(self, caller: Caller, request: OrderRequest) -> OrderPreview:
        """Every pre-trade check against the books as they are now; nothing is written."""
        try:
            with self.engine.connect() as conn:
                return self._evaluate(conn, caller, request, lock=False).preview
        except TradingError as exc:
            self._refused(caller, "trading.preview", exc, request=request)
            raise

    # -- writing -------------------------------------------------------------------------------
    def place_order(
        self, caller: Caller, request: OrderRequest, idempotency_key: str
    ) -> OrderResult:
        """Check and place in one locked transaction; a market order fills in it at once.

        A key this customer used before returns that order (created=False) whatever the
        request now says: the retry of a request that may have gone through places nothing."""
        key = idempotency_key.strip()
        try:
            if not key or len(key) > 100:
                raise TradingError(
                    "invalid_order", "an idempotency key of 1-100 characters is needed"
                )
            try:
                result = self._place(caller, request, key)
            except IntegrityError:  # the same key raced in from another request: replay it
                result = self._replay(caller, key)
                if result is None:
                    raise
        except TradingError as exc:
            self._refused(caller, "trading.place", exc, request=request, idempotency_key=key)
            raise
        audit.record(
            self.engine,
            caller,
            "trading.place",
            "ok",
            order_id=result.order_id,
            status=result.status,
            replayed=not result.created,
            request=request.model_dump(),
        )
        self._changed(result)
        return result

    def cancel_order(self, caller: Caller, order_id: int) -> OrderResult:
        """Cancel a working order (open or partially filled); what has filled stays filled."""
        try:
            with write_transaction(self.engine) as conn:
                order = self._visible_order(conn, caller, order_id)
                lock_account(conn, order["account_id"])
                order = self._visible_order(conn, caller, order_id)  # as of the lock
                if order["status"] not in WORKING:
                    raise TradingError(
                        "order_not_working",
                        f"order {order_id} is {order['status']}; only working orders can be "
                        "cancelled",
                    )
                orders = Order.__table__
                conn.execute(
                    orders.update()
                    .where(orders.c.id == order_id)
                    .values(status="cancelled", updated_at=clock.utcnow())
                )
                row = self._order_row(conn, order_id)
                by = "customer" if caller.role is Role.CUSTOMER else "support"
                announce.cancelled(conn, row, by)
                result = _result(row)
        except TradingError as exc:
            self._refused(caller, "trading.cancel", exc, order_id=order_id)
            raise
        audit.record(self.engine, caller, "trading.cancel", "ok", order_id=order_id)
        self._changed(result)
        return result

    def fill_triggered(self, triggers: list[tuple[int, float]]) -> list[OrderResult]:
        """Fill working limit and stop orders that a price event crossed, each in its own
        locked transaction. An order the price did not cross, or that is no longer working,
        is left alone. A buy the account can no longer pay for, or a sell of units no longer
        held, is rejected. Each fill or rejection writes an audit row as the operator (the
        platform acted, not a person). Returns the orders filled or rejected."""
        done = []
        for order_id, price in triggers:
            result = self._fill_one(order_id, float(price))
            if result is not None:
                outcome = "rejected" if result.status == "rejected" else "ok"
                audit.record(
                    self.engine,
                    OPERATOR,
                    "trading.fill",
                    outcome,
                    order_id=order_id,
                    price=price,
                    status=result.status,
                )
                done.append(result)
                self._changed(result)
        return done

    def _changed(self, result: OrderResult) -> None:
        if self.on_change is None or not result.created:
            return
        try:
            self.on_change(result)
        except Exception:  # a listener's failure never undoes or hides a committed order
            log.exception("order %s: change listener failed", result.order_id)

    # -- internals -----------------------------------------------------------------------------
    def _evaluate(self, conn: Connection, caller: Caller, request: OrderRequest, *, lock: bool):
        return evaluate(
            conn,
            caller,
            request,
            now=clock.now(),
            settings=self.settings,
            policy=self.policy,
            prices=self.prices,
            lock=lock,
        )

    def _place(self, caller: Caller, request: OrderRequest, key: str) -> OrderResult:
        with write_transaction(self.engine) as conn:
            replay = self._by_key(conn, customer_id(caller), key)
            if replay is not None:  # placed before: nothing is checked or written again
                return replay
            evaluation = self._evaluate(conn, caller, request, lock=True)
            failed = evaluation.first_failure()
            if failed is not None:
                raise TradingError(failed.code or "invalid_order", failed.message)
            preview = evaluation.preview
            now = clock.utcnow()
            orders = Order.__table__
            order_id = conn.execute(
                orders.insert().values(
                    user_id=evaluation.user_id,
                    account_id=preview.account_id,
                    symbol=preview.symbol,
                    side=preview.side,
                    order_type=preview.order_type,
                    quantity=preview.quantity,
                    limit_price=evaluation.trigger_price,
                    notional=request.notional,
                    status="open",
                    filled_quantity=0.0,
                    avg_fill_price=None,
                    fees=0.0,
                    idempotency_key=key,
                    created_at=now,
                    updated_at=now,
                )
            ).inserted_primary_key[0]
            announce.placed(conn, self._order_row(conn, order_id))
            if preview.order_type == "market":
                apply_fill(
                    conn,
                    FillSpec(
                        order_id,
                        preview.quantity,
                        preview.estimated_price,
                        preview.estimated_fees,
                        now,
                    ),
                )
            return _result(self._order_row(conn, order_id))

    def _replay(self, caller: Caller, key: str) -> OrderResult | None:
        with self.engine.connect() as conn:
            return self._by_key(conn, customer_id(caller), key)

    def _by_key(self, conn: Connection, user_id: int, key: str) -> OrderResult | None:
        orders = Order.__table__
        row = (
            conn.execute(
                select(orders).where(orders.c.user_id == user_id, orders.c.idempotency_key == key)
            )
            .mappings()
            .first()
        )
        return None if row is None else _result(row, created=False)

    def _fill_one(self, order_id: int, price: float) -> OrderResult | None:
        with write_transaction(self.engine) as conn:
            order = self._order_row(conn, order_id)
            if order is None:
                log.warning("trigger for unknown order %s ignored", order_id)
                return None
            account = lock_account(conn, order["account_id"])
            order = self._order_row(conn, order_id)
            if order["status"] not in WORKING or order["order_type"] == "market":
                log.info("order %s is %s: trigger ignored", order_id, order["status"])
                return None
            if not _crossed(order, price):
                log.info("price %s does not cross order %s: ignored", price, order_id)
                return None
            if account["status"] != "active":
                log.warning(
                    "order %s: account %s is %s, fill held",
                    order_id,
                    account["id"],
                    account["status"],
                )
                return None
            remaining = round(float(order["quantity"]) - float(order["filled_quantity"]), 8)
            fill_price = price
            if order["order_type"] == "stop":
                slip = self.settings.trading_slippage_bps / 10_000
                fill_price = price * (1 + slip if order["side"] == "buy" else 1 - slip)
            fill_price = round(fill_price, 8)
            gross = round(remaining * fill_price, 2)
            fee = self.policy.commission(
                self._asset_class(conn, order["symbol"]),
                self._tier(conn, order["user_id"]),
                order["order_type"],
                quantity=remaining,
                notional=gross,
                filled_before=float(order["filled_quantity"]),
                charged=_fees_charged(conn, order_id),
            )
            if not self._can_settle(conn, order, account, remaining, gross + fee):
                log.warning("order %s rejected at trigger: cannot be settled", order_id)
                orders = Order.__table__
                conn.execute(
                    orders.update()
                    .where(orders.c.id == order_id)
                    .values(status="rejected", updated_at=clock.utcnow())
                )
                announce.rejected(
                    conn, self._order_row(conn, order_id), "not enough cash or units at the trigger"
                )
            else:
                apply_fill(conn, FillSpec(order_id, remaining, fill_price, fee, clock.utcnow()))
            return _result(self._order_row(conn, order_id))

    def _can_settle(
        self, conn: Connection, order: RowMapping, account: RowMapping, units: float, cost: float
    ) -> bool:
        """A buy needs the cash now (a cash account never goes below zero); a sell the units."""
        if order["side"] == "buy":
            return cost <= spendable(account, self.settings) + 1e-9
        return units <= held(conn, order["account_id"], order["symbol"]) + 1e-9

    def _visible_order(self, conn: Connection, caller: Caller, order_id: int) -> RowMapping:
        order = self._order_row(conn, order_id)
        if caller.role is Role.CUSTOMER:
            if order is None or order["user_id"] != customer_id(caller):
                raise TradingError("unknown_order", f"order {order_id} is not one of your orders")
        elif order is None:
            raise TradingError("unknown_order", f"there is no order {order_id}")
        return order

    @staticmethod
    def _order_row(conn: Connection, order_id: int) -> RowMapping | None:
        orders = Order.__table__
        return conn.execute(select(orders).where(orders.c.id == order_id)).mappings().first()

    @staticmethod
    def _tier(conn: Connection, user_id: int) -> str:
        users = User.__table__
        return conn.execute(select(users.c.tier).where(users.c.id == user_id)).scalar_one()

    @staticmethod
    def _asset_class(conn: Connection, symbol: str) -> str:
        table = Instrument.__table__
        value = conn.execute(
            select(table.c.asset_class).where(table.c.symbol == symbol)
        ).scalar_one_or_none()
        return value or "equity"

    def _refused(self, caller: Caller, action: str, exc: TradingError, **detail) -> None:
        log.info("%s refused (%s): %s", action, exc.code, exc.message)
        for name, value in list(detail.items()):
            if hasattr(value, "model_dump"):
                detail[name] = value.model_dump()
        audit.record(self.engine, caller, action, "rejected", code=exc.code, **detail)


def _fees_charged(conn: Connection, order_id: int) -> float:
    """Commission the ledger holds for the order's earlier fills (orders loaded from elsewhere
    may not carry it in `orders.fees`)."""
    ledger = Transaction.__table__
    total = conn.execute(
        select(func.coalesce(func.sum(ledger.c.amount), 0.0)).where(
            ledger.c.order_id == order_id, ledger.c.type == "fee"
        )
    ).scalar_one()
    return -float(total)


def _crossed(order: RowMapping, price: float) -> bool:
    """Limit buys fill at or below their price, limit sells at or above; buy stops trigger at
    or above their price, sell stops at or below."""
    if order["limit_price"] is None:  # a resting order with no price has nothing to cross
        return False
    level = float(order["limit_price"])
    buy = order["side"] == "buy"
    if order["order_type"] == "limit":
        return price <= level if buy else price >= level
    return price >= level if buy else price <= level


def _result(row: RowMapping, *, created: bool = True) -> OrderResult:
    trigger = None if row["limit_price"] is None else float(row["limit_price"])
    return OrderResult(
        order_id=row["id"],
        status=row["status"],
        symbol=row["symbol"],
        side=row["side"],
        order_type=row["order_type"],
        quantity=float(row["quantity"]),
        filled_quantity=float(row["filled_quantity"] or 0.0),
        avg_fill_price=None if row["avg_fill_price"] is None else float(row["avg_fill_price"]),
        limit_price=trigger if row["order_type"] == "limit" else None,
        stop_price=trigger if row["order_type"] == "stop" else None,
        fees=float(row["fees"] or 0.0),
        account_id=row["account_id"],
        user_id=row["user_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        created=created,
    )
