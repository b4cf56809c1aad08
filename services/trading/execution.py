"""Writing a fill: the one place the books change because a trade happened.

`apply_fill` updates, in the caller's transaction, the order (status, filled quantity, average
fill price, fees, time), the ledger (the trade as a signed buy/sell row, the commission as a
negative fee row), the position and the account's cash. The position is rebuilt from the
ledger's fills as FIFO lots: its quantity is what they leave open, its average cost what those
open lots cost (so it agrees with the portfolio's unrealised profit). A position sold to zero is
deleted: the positions table holds what is held now, and the ledger keeps the history.

Events: an outbox event for a fill belongs here, written on `conn` beside the rows above.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from services.db.models import Order, Position, TradingAccount, Transaction
from services.trading import announce
from services.trading.pnl import EPSILON, Fill, fifo


@dataclass(frozen=True)
class FillSpec:
    order_id: int
    quantity: float
    price: float
    fee: float
    at: datetime  # naive UTC


def apply_fill(conn: Connection, fill: FillSpec) -> None:
    """Book one fill of a working order; the caller holds the account's lock."""
    orders = Order.__table__
    order = conn.execute(select(orders).where(orders.c.id == fill.order_id)).mappings().one()
    account = TradingAccount.__table__
    cash, currency = conn.execute(
        select(account.c.cash_balance, account.c.base_currency).where(
            account.c.id == order["account_id"]
        )
    ).one()

    buy = order["side"] == "buy"
    gross = round(fill.quantity * fill.price, 2)
    signed = -gross if buy else gross
    filled_before = float(order["filled_quantity"] or 0.0)
    filled = round(filled_before + fill.quantity, 8)
    average = (
        float(order["avg_fill_price"] or 0.0) * filled_before + fill.price * fill.quantity
    ) / filled
    complete = filled >= float(order["quantity"]) - EPSILON
    conn.execute(
        update(orders)
        .where(orders.c.id == fill.order_id)
        .values(
            status="filled" if complete else "partially_filled",
            filled_quantity=filled,
            avg_fill_price=round(average, 8),
            fees=round(float(order["fees"] or 0.0) + fill.fee, 2),
            updated_at=fill.at,
        )
    )
    common = {
        "user_id": order["user_id"],
        "account_id": order["account_id"],
        "order_id": fill.order_id,
        "symbol": order["symbol"],
        "currency": currency,
        "executed_at": fill.at,
    }
    rows = [
        {
            **common,
            "type": order["side"],
            "quantity": fill.quantity,
            "price": fill.price,
            "amount": signed,
        }
    ]
    if fill.fee:  # a fill the order's minimum already paid for has no fee row
        rows.append({**common, "type": "fee", "quantity": None, "price": None, "amount": -fill.fee})
    conn.execute(insert(Transaction.__table__), rows)
    conn.execute(
        update(account)
        .where(account.c.id == order["account_id"])
        .values(cash_balance=round(float(cash) + signed - fill.fee, 2))
    )
    _rebook_position(conn, order["user_id"], order["account_id"], order["symbol"], fill.at)
    announce.filled(
        conn, conn.execute(select(orders).where(orders.c.id == fill.order_id)).mappings().one()
    )


def _rebook_position(
    conn: Connection, user_id: int, account_id: int, symbol: str, at: datetime
) -> None:
    """Set the position to the open FIFO lots of the account's fills of the symbol."""
    ledger = Transaction.__table__
    rows = conn.execute(
        select(ledger.c.type, ledger.c.quantity, ledger.c.price)
        .where(
            ledger.c.account_id == account_id,
            ledger.c.symbol == symbol,
            ledger.c.type.in_(("buy", "sell")),
        )
        .order_by(ledger.c.executed_at, ledger.c.id)
    ).all()
    book = fifo([Fill(r.type, float(r.quantity), float(r.price)) for r in rows])
    positions = Position.__table__
    where = (positions.c.account_id == account_id) & (positions.c.symbol == symbol)
    current = conn.execute(select(positions.c.id).where(where)).scalar_one_or_none()
    quantity = round(book.quantity, 8)
    if quantity <= EPSILON:
        conn.execute(delete(positions).where(where))
        return
    values = {"quantity": quantity, "avg_cost": round(book.avg_cost, 8), "updated_at": at}
    if current is None:
        conn.execute(
            insert(positions).values(
                user_id=user_id, account_id=account_id, symbol=symbol, **values
            )
        )
    else:
        conn.execute(update(positions).where(positions.c.id == current).values(**values))
