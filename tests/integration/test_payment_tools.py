"""The payment, KYC and notification tools through the platform registry, as the chat graph and
the REST surface call them: the caller from the context, writes only when confirmed, previews
that refuse up front, staff tools closed to customers. Stripe is localstripe."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from services.db.models import Payment, Refund
from services.errors import AssistantError
from services.notifications.service import NotificationService
from tests.integration.localstripe import localstripe_fixture  # noqa: F401 - used by name
from tests.integration.payments_fixtures import (
    ANN_ACCOUNT,
    ANN_CALLER,
    BOB,
    BOB_ACCOUNT,
    BOB_CALLER,
    CARD_OK,
    SAM_CALLER,
    World,
    world_fixture,  # noqa: F401 - the fixture is used by name
)
from tools.context import ToolServices
from tools.registry import ToolContext
from tools.tool_set import platform_tools

TOOLS = platform_tools()


def ctx(world: World, caller, key: str | None = None) -> ToolContext:
    services = ToolServices(
        engine=world.engine,
        settings=world.settings,
        payments=world.services.payments,
        kyc=world.services.kyc,
        notifications=NotificationService.from_settings(world.settings, world.engine),
    )
    return ToolContext(caller=caller, services=services, idempotency_key=key)


def payments(world: World) -> int:
    with world.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Payment))


async def test_deposit_needs_confirmation_then_runs_once_for_its_key(world):
    world.services.payments.save_payment_method(ANN_CALLER, world.card(CARD_OK))
    args = {"account_id": ANN_ACCOUNT, "amount": 20}
    preview = await TOOLS.preview(ctx(world, ANN_CALLER), "deposit", args)
    assert preview.ok and "charge 20.00 USD" in preview.summary
    with pytest.raises(AssistantError) as unconfirmed:
        await TOOLS.call(ctx(world, ANN_CALLER), "deposit", args)
    assert unconfirmed.value.code == "confirmation_required" and payments(world) == 0

    first = await TOOLS.call(ctx(world, ANN_CALLER, "yes-1"), "deposit", args, confirmed=True)
    again = await TOOLS.call(ctx(world, ANN_CALLER, "yes-1"), "deposit", args, confirmed=True)
    assert first.output["status"] == "succeeded" and first.output == again.output
    assert (
        first.text == f"Deposit {first.output['id']} of 20.00 USD: succeeded."
        and payments(world) == 1
    )


async def test_the_caller_comes_from_the_sign_in_never_from_arguments(world):
    with pytest.raises(AssistantError) as smuggled:
        await TOOLS.call(
            ctx(world, BOB_CALLER), "list_payments", {"customer_id": 1}, confirmed=False
        )
    assert smuggled.value.code == "tool_forbidden"
    with pytest.raises(AssistantError) as extra:
        await TOOLS.preview(
            ctx(world, BOB_CALLER), "deposit", {"account_id": 1, "amount": 5, "user_id": 1}
        )
    assert extra.value.code == "invalid_arguments"
    preview = await TOOLS.preview(
        ctx(world, BOB_CALLER), "deposit", {"account_id": ANN_ACCOUNT, "amount": 5}
    )
    assert preview.problems == [f"you have no account {ANN_ACCOUNT}"]


async def test_refund_is_staff_only_and_its_preview_refuses_too_much(world):
    paid = world.services.payments.deposit(
        ANN_CALLER,
        ANN_ACCOUNT,
        30.0,
        world.services.payments.save_payment_method(ANN_CALLER, world.card(CARD_OK)).id,
    )
    args = {"payment_id": paid.id, "amount": 31, "reason": "duplicate"}
    with pytest.raises(AssistantError) as customer:
        await TOOLS.preview(ctx(world, ANN_CALLER), "refund_payment", args)
    assert customer.value.code == "tool_forbidden"
    too_much = await TOOLS.preview(ctx(world, SAM_CALLER), "refund_payment", args)
    assert too_much.problems == [
        f"31.00 is more than the 30.00 USD still refundable on payment {paid.id}"
    ]
    with pytest.raises(AssistantError) as refused:
        await TOOLS.call(ctx(world, SAM_CALLER, "r-1"), "refund_payment", args, confirmed=True)
    assert refused.value.code == "refund_too_large"
    done = await TOOLS.call(
        ctx(world, SAM_CALLER, "r-2"), "refund_payment", {**args, "amount": 30}, confirmed=True
    )
    assert done.output["payment_status"] == "refunded"
    with world.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Refund)) == 1


async def test_withdrawal_subscription_kyc_and_notification_tools(world):
    bob = ctx(world, BOB_CALLER, "w-1")
    short = await TOOLS.preview(
        bob, "request_withdrawal", {"account_id": BOB_ACCOUNT, "amount": 500}
    )
    assert short.problems == ["only 100.00 USD is available"]
    asked = await TOOLS.call(
        bob, "request_withdrawal", {"account_id": BOB_ACCOUNT, "amount": 50}, confirmed=True
    )
    assert asked.output["status"] == "pending_approval"
    sam = ctx(world, SAM_CALLER, "d-1")
    early = await TOOLS.preview(
        sam, "decide_withdrawal", {"payment_id": asked.output["id"], "decision": "pay"}
    )
    assert early.problems == ["it is pending_approval; it cannot become paid"]
    approved = await TOOLS.call(
        sam,
        "decide_withdrawal",
        {"payment_id": asked.output["id"], "decision": "approve"},
        confirmed=True,
    )
    assert approved.output["status"] == "approved"

    world.services.payments.save_payment_method(BOB_CALLER, world.card(CARD_OK))
    plan = await TOOLS.preview(bob, "change_subscription", {"plan": "pro"})
    assert plan.summary == "subscribe to pro at 29.00 USD a month"
    sub = await TOOLS.call(
        ctx(world, BOB_CALLER, "s-1"), "change_subscription", {"plan": "pro"}, confirmed=True
    )
    assert sub.output["plan"] == "pro"
    moved = await TOOLS.preview(bob, "change_subscription", {"plan": "premium"})
    assert "move from pro" in moved.summary and moved.ok
    cancel = await TOOLS.call(
        ctx(world, BOB_CALLER, "c-1"), "cancel_subscription", {}, confirmed=True
    )
    assert cancel.output["cancel_at_period_end"] is True

    status = await TOOLS.call(bob, "kyc_status", {})
    assert status.output["status"] == "not_started"
    queue = await TOOLS.call(ctx(world, SAM_CALLER), "kyc_review_queue", {})
    assert queue.output == {"cases": []}
    review = await TOOLS.preview(
        ctx(world, SAM_CALLER), "review_kyc", {"customer_id": BOB, "decision": "approve"}
    )
    assert review.problems == ["the check is not started, not open for review"]

    prefs = await TOOLS.call(bob, "notification_preferences", {})
    assert any(p["kind"] == "payment_failed" for p in prefs.output["preferences"])
    await TOOLS.call(
        ctx(world, BOB_CALLER, "p-1"),
        "set_notification_preference",
        {"kind": "payment_failed", "channel": "sms", "enabled": True},
        confirmed=True,
    )
    prefs = await TOOLS.call(bob, "notification_preferences", {})
    sms = [
        p
        for p in prefs.output["preferences"]
        if (p["kind"], p["channel"]) == ("payment_failed", "sms")
    ]
    assert sms[0]["enabled"] is True
    with pytest.raises(AssistantError) as customer:
        await TOOLS.preview(
            bob, "send_notification", {"customer_id": 1, "subject": "x", "body": "y"}
        )
    assert customer.value.code == "tool_forbidden"
    sent = await TOOLS.call(
        ctx(world, SAM_CALLER, "n-1"),
        "send_notification",
        {"customer_id": BOB, "subject": "Your withdrawal", "body": "We are on it."},
        confirmed=True,
    )
    assert sent.output["user_id"] == BOB
