"""The trading domain's events, written to the outbox in the transaction that makes the change,
so an order placed, filled, cancelled or rejected is announced exactly when it is committed."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping

from services.events.catalogue import (
    OrderCancelled,
    OrderFilled,
    OrderPlaced,
    OrderRejected,
    Payload,
    new_event,
)
from services.events.outbox import record


def _record(conn: Connection, order_id: int, payload: Payload) -> None:
    record(conn, new_event(payload, subject=f"orders/{order_id}"))


def _owner(order: RowMapping) -> dict:
    return {
        "order_id": order["id"],
        "user_id": order["user_id"],
        "account_id": order["account_id"],
        "symbol": order["symbol"],
    }


def placed(conn: Connection, order: RowMapping) -> None:
    _record(
        conn,
        order["id"],
        OrderPlaced(
            **_owner(order),
            side=order["side"],
            order_type=order["order_type"],
            quantity=float(order["quantity"]),
            limit_price=None if order["limit_price"] is None else float(order["limit_price"]),
        ),
    )


def filled(conn: Connection, order: RowMapping) -> None:
    _record(
        conn,
        order["id"],
        OrderFilled(
            **_owner(order),
            side=order["side"],
            quantity=float(order["quantity"]),
            filled_quantity=float(order["filled_quantity"]),
            avg_fill_price=float(order["avg_fill_price"]),
        ),
    )


def cancelled(conn: Connection, order: RowMapping, by: str) -> None:
    _record(conn, order["id"], OrderCancelled(**_owner(order), cancelled_by=by))


def rejected(conn: Connection, order: RowMapping, reason: str) -> None:
    _record(conn, order["id"], OrderRejected(**_owner(order), reason=reason))
