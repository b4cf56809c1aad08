"""Payment tools: deposit, withdraw, list payments, refund and decide withdrawals (staff),
change or cancel the subscription. The caller is the one signed in; staff name the customer
as an argument.

Each write has a preview that states the sum, the account and what happens next, and refuses
up front what the service would refuse (a refund larger than what remains, say).
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from services.errors import AssistantError
from services.identity import Role
from services.ids import RowId
from services.payments.schemas import PaymentOut, Plan, RefundOut, SubscriptionOut
from services.payments.service import PaymentService
from services.payments.withdrawals import WITHDRAWAL_MOVES
from tools.registry import Preview, ToolContext, ToolInput, ToolKind
from tools.tool_set import TOOLS

CUSTOMER = {Role.CUSTOMER}
EVERYONE = {Role.CUSTOMER, Role.SUPPORT, Role.ADMIN}
STAFF = {Role.SUPPORT, Role.ADMIN}


def _payments(ctx: ToolContext) -> PaymentService:
    return ctx.services.need("payments")


class DepositInput(ToolInput):
    account_id: RowId = Field(description="Your trading account to credit.")
    amount: float = Field(gt=0, le=1_000_000, description="Amount to deposit.")
    payment_method_id: str | None = Field(
        None,
        pattern=r"^pm_[A-Za-z0-9_]+$",
        description="A saved card or SEPA debit (pm_...); default: your default method.",
    )


def _method(ctx: ToolContext, args: DepositInput) -> str:
    if args.payment_method_id:
        return args.payment_method_id
    methods = _payments(ctx).payment_methods(ctx.caller)
    if not methods:
        raise AssistantError("invalid_payment", "you have no saved card or SEPA debit mandate")
    return methods[0].id


@TOOLS.tool(roles=CUSTOMER, kind=ToolKind.WRITE)
def deposit(ctx: ToolContext, args: DepositInput) -> PaymentOut:
    """Deposit money into one of your trading accounts from a saved card or SEPA debit. A card
    that needs 3-D Secure comes back requires_action with the address to confirm it at."""
    return _payments(ctx).deposit(
        ctx.caller, args.account_id, args.amount, _method(ctx, args), ctx.idempotency_key
    )


@TOOLS.previewer("deposit")
def preview_deposit(ctx: ToolContext, args: DepositInput) -> Preview:
    service = _payments(ctx)
    try:
        account = service.account_for(ctx.caller, args.account_id)
        method = _method(ctx, args)
    except AssistantError as exc:
        return Preview(summary=f"deposit {args.amount:.2f}", problems=[exc.message])
    return Preview(
        summary=f"charge {args.amount:.2f} {account.base_currency} to {method} and credit "
        f"account {account.account_number}",
        details={"account_id": args.account_id, "amount": args.amount, "payment_method": method},
    )


class WithdrawalInput(ToolInput):
    account_id: RowId = Field(description="Your trading account to pay out from.")
    amount: float = Field(gt=0, le=1_000_000, description="Amount to withdraw.")


@TOOLS.tool(roles=CUSTOMER, kind=ToolKind.WRITE)
def request_withdrawal(ctx: ToolContext, args: WithdrawalInput) -> PaymentOut:
    """Ask to withdraw cash from one of your accounts to your bank; staff approve it before
    the money moves."""
    return _payments(ctx).request_withdrawal(ctx.caller, args.account_id, args.amount)


@TOOLS.previewer("request_withdrawal")
def preview_withdrawal(ctx: ToolContext, args: WithdrawalInput) -> Preview:
    service = _payments(ctx)
    try:
        account = service.account_for(ctx.caller, args.account_id)
    except AssistantError as exc:
        return Preview(summary=f"withdraw {args.amount:.2f}", problems=[exc.message])
    with service.engine.connect() as conn:
        available = service.available_cash(conn, account)
    problems = []
    if args.amount > available:
        problems.append(f"only {available:.2f} {account.base_currency} is available")
    return Preview(
        summary=f"ask to withdraw {args.amount:.2f} {account.base_currency} from account "
        f"{account.account_number}; staff approve it before it is paid",
        details={"account_id": args.account_id, "amount": args.amount, "available": available},
        problems=problems,
    )


class WithdrawalDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    PAY = "pay"


class DecideWithdrawalInput(ToolInput):
    payment_id: RowId = Field(description="The withdrawal request (payments.id).")
    decision: WithdrawalDecision = Field(
        description="approve (pending → approved), reject, or pay (approved → paid: the cash "
        "leaves the account)."
    )
    reason: str | None = Field(None, max_length=200, description="Why, when rejecting.")


@TOOLS.tool(roles=STAFF, kind=ToolKind.WRITE)
def decide_withdrawal(ctx: ToolContext, args: DecideWithdrawalInput) -> PaymentOut:
    """Approve, reject or mark paid a customer's withdrawal request."""
    return _payments(ctx).decide_withdrawal(
        ctx.caller, args.payment_id, args.decision.value, args.reason
    )


@TOOLS.previewer("decide_withdrawal")
def preview_decide_withdrawal(ctx: ToolContext, args: DecideWithdrawalInput) -> Preview:
    row = _payments(ctx).get_payment(args.payment_id)
    if row is None or row.direction != "withdrawal":
        return Preview(
            summary=f"{args.decision.value} withdrawal {args.payment_id}",
            problems=[f"there is no withdrawal {args.payment_id}"],
        )
    allowed, target = WITHDRAWAL_MOVES[args.decision.value]
    problems = [] if row.status in allowed else [f"it is {row.status}; it cannot become {target}"]
    return Preview(
        summary=f"{args.decision.value} withdrawal {row.id} of {row.amount:.2f} {row.currency} "
        f"for customer {row.user_id}" + (f" ({args.reason})" if args.reason else ""),
        details={"payment_id": row.id, "status": row.status, "becomes": target},
        problems=problems,
    )


class ListPaymentsInput(ToolInput):
    customer_id: RowId | None = Field(
        None, description="Staff only: the customer whose payments to list."
    )
    limit: int = Field(20, ge=1, le=100, description="How many, newest first.")


class ListPaymentsOutput(BaseModel):
    payments: list[PaymentOut] = Field(description="Newest first.")


@TOOLS.tool(roles=EVERYONE)
def list_payments(ctx: ToolContext, args: ListPaymentsInput) -> ListPaymentsOutput:
    """List deposits, withdrawals and refunds' status: your own, or (staff) a customer's."""
    if ctx.caller.role is Role.CUSTOMER and args.customer_id not in (None, ctx.caller.user_id):
        raise AssistantError("tool_forbidden", "you can only list your own payments")
    found = _payments(ctx).list_payments(ctx.caller, args.customer_id, args.limit)
    return ListPaymentsOutput(payments=found)


class RefundInput(ToolInput):
    payment_id: RowId = Field(description="The deposit to refund (payments.id).")
    amount: float | None = Field(
        None, gt=0, description="How much; default: all that is still refundable."
    )
    reason: str = Field(min_length=3, max_length=200, description="Why, for the record.")


@TOOLS.tool(roles=STAFF, kind=ToolKind.WRITE)
def refund_payment(ctx: ToolContext, args: RefundInput) -> RefundOut:
    """Refund a customer's deposit, in full or in part, to the card or account it came from."""
    return _payments(ctx).refund(
        ctx.caller, args.payment_id, args.amount, args.reason, ctx.idempotency_key
    )


@TOOLS.previewer("refund_payment")
def preview_refund(ctx: ToolContext, args: RefundInput) -> Preview:
    payment, amount, problems = _payments(ctx).check_refund(args.payment_id, args.amount)
    if payment is None:
        return Preview(summary=f"refund payment {args.payment_id}", problems=problems)
    return Preview(
        summary=f"refund {amount:.2f} {payment.currency} of payment {payment.id} to customer "
        f"{payment.user_id} ({args.reason})",
        details={"payment_id": payment.id, "amount": amount, "user_id": payment.user_id},
        problems=problems,
    )


class ChangeSubscriptionInput(ToolInput):
    plan: Plan = Field(description="basic, pro or premium.")


@TOOLS.tool(roles=CUSTOMER, kind=ToolKind.WRITE)
def change_subscription(ctx: ToolContext, args: ChangeSubscriptionInput) -> SubscriptionOut:
    """Subscribe to a plan, or move your subscription to another plan now (the rest of the
    month is prorated on the next invoice)."""
    service = _payments(ctx)
    if service.current_subscription(ctx.caller.user_id) is None:
        return service.subscribe(ctx.caller, args.plan)
    return service.change_plan(ctx.caller, args.plan)


@TOOLS.previewer("change_subscription")
def preview_change(ctx: ToolContext, args: ChangeSubscriptionInput) -> Preview:
    service = _payments(ctx)
    price = service.price(args.plan)
    currency = service.settings.payments_currency.upper()
    current = service.current_subscription(ctx.caller.user_id)
    if current is None:
        return Preview(
            summary=f"subscribe to {args.plan.value} at {price:.2f} {currency} a month",
            details={"plan": args.plan.value, "monthly_price": price},
        )
    problems = [f"you are already on {current.plan}"] if current.plan == args.plan.value else []
    return Preview(
        summary=f"move from {current.plan} ({current.monthly_price:.2f}) to {args.plan.value} "
        f"({price:.2f} {currency} a month) now, prorated",
        details={"from": current.plan, "to": args.plan.value, "monthly_price": price},
        problems=problems,
    )


class CancelSubscriptionInput(ToolInput):
    at_period_end: bool = Field(
        True, description="True: keep it until the paid period ends; false: end it now."
    )


@TOOLS.tool(roles=CUSTOMER, kind=ToolKind.WRITE)
def cancel_subscription(ctx: ToolContext, args: CancelSubscriptionInput) -> SubscriptionOut:
    """Cancel your subscription at the end of the paid period, or at once."""
    return _payments(ctx).cancel(ctx.caller, args.at_period_end)


@TOOLS.previewer("cancel_subscription")
def preview_cancel(ctx: ToolContext, args: CancelSubscriptionInput) -> Preview:
    current = _payments(ctx).current_subscription(ctx.caller.user_id)
    if current is None:
        return Preview(summary="cancel your subscription", problems=["you have no subscription"])
    when = f"on {current.current_period_end:%Y-%m-%d}" if args.at_period_end else "now"
    return Preview(
        summary=f"cancel your {current.plan} subscription {when}",
        details={"plan": current.plan, "at_period_end": args.at_period_end},
    )
