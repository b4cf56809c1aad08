"""The payment and KYC services as one deployment runs them, built from settings, and the jobs
a serving process runs for them on a schedule."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

from sqlalchemy import Engine

from services.errors import AssistantError
from services.kyc.providers import IdentityProvider, StripeIdentityProvider, TestIdentityProvider
from services.kyc.service import KycService
from services.payments.dunning import run_dunning
from services.payments.service import PaymentService
from services.payments.webhooks import StripeWebhooks
from services.settings import Settings

log = logging.getLogger(__name__)


class PaymentServices(NamedTuple):
    payments: PaymentService
    kyc: KycService
    webhooks: StripeWebhooks


def identity_provider(settings: Settings) -> IdentityProvider | None:
    """The provider `KYC_PROVIDER` names; None for manual review."""
    if settings.kyc_provider == "stripe_identity":
        return StripeIdentityProvider.from_settings(settings)
    if settings.kyc_provider == "test":
        if settings.stripe_webhook_secret is None:
            raise AssistantError(
                "webhook_not_configured", "the test identity provider needs STRIPE_WEBHOOK_SECRET"
            )
        return TestIdentityProvider(settings.stripe_webhook_secret.get_secret_value())
    return None


def build_payment_services(settings: Settings, engine: Engine) -> PaymentServices:
    """Payments (Stripe is reached on first use, so an unset key only fails payment calls),
    KYC with its provider, and the webhook that serves both. Their changes are announced
    through the event outbox; notifications follow from there (services/workers.py)."""
    payments = PaymentService(engine, settings)
    kyc = KycService(engine, settings, provider=identity_provider(settings))
    webhooks = StripeWebhooks(payments, identity=kyc.apply_provider_result)
    return PaymentServices(payments, kyc, webhooks)


class ScheduledJob(NamedTuple):
    name: str
    every_s: float
    run: Callable[[], object]


def scheduled_jobs(settings: Settings, engine: Engine) -> list[ScheduledJob]:
    """KYC expiry every `KYC_EXPIRY_EVERY_S` and dunning every `DUNNING_EVERY_S` (only with
    Stripe configured: the retries are Stripe's invoices). An interval of 0 leaves the job to
    another process or to cron with `trading-assist payments expire-kyc | dunning`."""
    jobs = []
    if settings.kyc_expiry_every_s > 0:
        kyc = KycService(engine, settings)  # expiry needs no identity provider
        jobs.append(ScheduledJob("kyc expiry", settings.kyc_expiry_every_s, kyc.expire_due))
    if settings.dunning_every_s > 0 and settings.stripe_api_key is not None:
        dunning = partial(run_dunning, PaymentService(engine, settings))
        jobs.append(ScheduledJob("dunning", settings.dunning_every_s, dunning))
    elif settings.dunning_every_s > 0:
        log.info("dunning is not scheduled: STRIPE_API_KEY is unset")
    return jobs
