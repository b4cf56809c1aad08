"""Money and ledger move together: a settled deposit credits its account's cash and writes the
ledger line in the caller's transaction, and announces itself there (the event outbox).
Shared by deposits, the webhook, refunds and withdrawals."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from services.db.models import Payment, TradingAccount, Transaction
from services.payments import announce
from services.payments.schemas import PaymentOut

PAYMENTS = Payment.__table__
ACCOUNTS = TradingAccount.__table__


def minor(amount: float) -> int:
    """An amount in cents, as Stripe counts it.

    >>> minor(12.345), minor(0.1 + 0.2)
    (1235, 30)
    """
    return int(round(amount * 100 + 1e-9))


def from_stripe_time(seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None) if seconds else None


def payment_out(row: Any) -> PaymentOut:
    return PaymentOut.model_validate(dict(row._mapping))


def settle(
    conn: Connection, payment_id: int, status: str, reason: str | None, now: datetime
) -> None:
    """Mark a deposit succeeded (crediting its account and writing the ledger) or failed, and
    announce it, inside the caller's transaction."""
    row = conn.execute(select(PAYMENTS).where(PAYMENTS.c.id == payment_id)).one()
    conn.execute(
        update(Payment)
        .where(Payment.id == payment_id)
        .values(status=status, failure_reason=reason, next_action_url=None, updated_at=now)
    )
    if status == "succeeded" and row.direction == "deposit" and row.account_id is not None:
        move_cash(conn, row.user_id, row.account_id, row.amount, "deposit", now)
    announce.settled(
        conn, conn.execute(select(PAYMENTS).where(PAYMENTS.c.id == payment_id)).one(), reason
    )


def move_cash(
    conn: Connection, user_id: int, account_id: int, amount: float, kind: str, now: datetime
) -> None:
    """Change the account's cash by `amount` and write the ledger line that says why."""
    account = conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.id == account_id)).one()
    conn.execute(
        update(TradingAccount)
        .where(TradingAccount.id == account_id)
        .values(cash_balance=round(account.cash_balance + amount, 2))
    )
    conn.execute(
        insert(Transaction).values(
            user_id=user_id,
            account_id=account_id,
            type=kind,
            amount=amount,
            currency=account.base_currency,
            executed_at=now,
        )
    )
