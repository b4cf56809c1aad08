"""Withdrawals: a customer asks, staff approve, and only a payout moves the money.

pending_approval → approved → paid, or → rejected (from either open status)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from services import audit, clock
from services.db.models import Payment
from services.identity import Caller
from services.payments import announce
from services.payments.ledger import PAYMENTS, move_cash, payment_out
from services.payments.schemas import PaymentOut

OPEN_WITHDRAWALS = ("pending_approval", "approved")
# decision: (statuses it may be taken from, status it leads to)
WITHDRAWAL_MOVES = {
    "approve": (("pending_approval",), "approved"),
    "reject": (OPEN_WITHDRAWALS, "rejected"),
    "pay": (("approved",), "paid"),
}


class Withdrawals:
    """Part of `PaymentService` (engine, refuse, account_for and _require_staff come from it)."""

    def available_cash(self, conn: Connection, account: Any) -> float:
        """Cash not already promised to a withdrawal waiting for approval or payout."""
        held = conn.scalar(
            select(func.sum(PAYMENTS.c.amount)).where(
                PAYMENTS.c.account_id == account.id,
                PAYMENTS.c.direction == "withdrawal",
                PAYMENTS.c.status.in_(OPEN_WITHDRAWALS),
            )
        )
        return round(account.cash_balance - (held or 0), 2)

    def request_withdrawal(self, caller: Caller, account_id: int, amount: float) -> PaymentOut:
        """Ask for money out; staff approve before any money moves."""
        if amount <= 0:
            self.refuse(
                caller, "withdraw", "invalid_payment", "a withdrawal must be more than zero"
            )
        account = self.account_for(caller, account_id)
        now = clock.utcnow()
        row = None
        with self.engine.begin() as conn:
            available = self.available_cash(conn, account)
            if amount <= available:
                payment_id = conn.execute(
                    insert(Payment).values(
                        user_id=account.user_id,
                        account_id=account_id,
                        direction="withdrawal",
                        method="bank_transfer",
                        amount=amount,
                        currency=account.base_currency,
                        status="pending_approval",
                        created_at=now,
                        updated_at=now,
                        refunded_amount=0,
                    )
                ).inserted_primary_key[0]
                row = conn.execute(select(PAYMENTS).where(PAYMENTS.c.id == payment_id)).one()
                announce.withdrawal_requested(conn, row)
        if row is None:
            self.refuse(
                caller,
                "withdraw",
                "insufficient_funds",
                f"account {account_id} has {available:.2f} available, less than {amount:.2f}",
            )
        audit.record(self.engine, caller, "payments.withdraw", "ok", payment_id=row.id)
        return payment_out(row)

    def decide_withdrawal(
        self, staff: Caller, payment_id: int, decision: str, reason: str | None = None
    ) -> PaymentOut:
        """approve (pending_approval → approved), reject (→ rejected, with a reason) or pay
        (approved → paid: the cash leaves the account and the ledger says so)."""
        self._require_staff(staff, "withdrawal")
        if decision not in WITHDRAWAL_MOVES:
            self.refuse(staff, "withdrawal", "invalid_payment", f"unknown decision {decision!r}")
        allowed, target = WITHDRAWAL_MOVES[decision]
        now = clock.utcnow()
        problem: tuple[str, str] | None = None
        with self.engine.begin() as conn:
            row = conn.execute(select(PAYMENTS).where(PAYMENTS.c.id == payment_id)).first()
            if row is None or row.direction != "withdrawal":
                problem = ("unknown_payment", f"there is no withdrawal {payment_id}")
            elif row.status not in allowed:
                problem = (
                    "withdrawal_not_allowed",
                    f"withdrawal {payment_id} is {row.status}; it cannot become {target}",
                )
            else:
                values: dict[str, Any] = {
                    "status": target,
                    "updated_at": now,
                    "reviewed_by": staff.user_id,
                }
                if target == "rejected":
                    values["failure_reason"] = reason or "rejected by staff"
                if target == "paid":
                    move_cash(conn, row.user_id, row.account_id, -row.amount, "withdrawal", now)
                conn.execute(update(Payment).where(Payment.id == payment_id).values(**values))
                row = conn.execute(select(PAYMENTS).where(PAYMENTS.c.id == payment_id)).one()
                announce.withdrawal_decided(conn, row, reason)
        if problem is not None:
            self.refuse(staff, "withdrawal", *problem, payment_id=payment_id, decision=decision)
        audit.record(
            self.engine, staff, "payments.withdrawal", "ok", payment_id=payment_id, status=target
        )
        return payment_out(row)
