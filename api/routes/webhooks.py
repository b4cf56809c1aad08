"""Webhooks from providers. Thin: `services.payments.webhooks` verifies and applies."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Header, Request

from services.payments.webhooks import WebhookOutcome

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post("/stripe", response_model=WebhookOutcome, summary="Stripe events")
async def stripe_webhook(
    request: Request,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> WebhookOutcome:
    """Verified against STRIPE_WEBHOOK_SECRET (400 and no change when it does not verify);
    each event id is applied once, a replay answers 200 and changes nothing."""
    payload = await request.body()
    webhooks = request.app.state.assistant.payment_services.webhooks
    return await asyncio.to_thread(webhooks.handle, payload, stripe_signature)
