"""The payment and KYC jobs run on their schedule inside a serving process's background work
(`services.workers.background_work`, as the API's lifespan runs it), with the clock pinned: a
round before the date changes nothing, a round past it expires the identity check or cancels
the subscription, and the events it writes are delivered (the expiry notice reaches the
customer) by the same process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from services import clock
from services.db.engines import make_engine
from services.db.migrate import upgrade
from services.db.models import KycVerification, Notification, OutboxEvent, Subscription
from services.kyc.service import KycService
from services.payments.dunning import renewal_failed
from services.payments.schemas import Plan
from services.payments.wiring import scheduled_jobs
from services.settings import Settings
from services.workers import background_work
from tests.integration import postgres
from tests.integration.events.helpers import outbox_types
from tests.integration.localstripe import localstripe_fixture  # noqa: F401 - used by name
from tests.integration.payments_fixtures import (
    ANN,
    ANN_CALLER,
    CARD_DECLINED_LATER,
    CARD_OK,
    SAM_CALLER,
    World,
    payment_settings,
    seed,
    world_fixture,  # noqa: F401 - the fixture is used by name
)

pytestmark = pytest.mark.timeout(180)
FAST = {
    "kyc_expiry_every_s": 0.05,
    "dunning_every_s": 0.05,
    "notify_deliver_every_s": 0.05,
    "events_poll_s": 0.05,
}


async def run_until(
    settings: Settings, engine, done: Callable[[], bool], timeout_s: float = 60
) -> None:
    """Background work as a serving process runs it, until `done()` holds."""
    async with background_work(settings, engine):
        waited = 0.0
        while not await asyncio.to_thread(done):
            assert waited < timeout_s, "the background work did not get there in time"
            await asyncio.sleep(0.05)
            waited += 0.05


def logged(caplog, text: str, times: int) -> Callable[[], bool]:
    """True once a job has logged `text` this many times: that many rounds have run."""
    return lambda: caplog.text.count(text) >= times


def delivered(engine, event_type: str) -> Callable[[], bool]:
    def check() -> bool:
        with engine.connect() as conn:
            return bool(
                conn.scalar(
                    select(func.count()).where(
                        OutboxEvent.type == f"com.tradingassist.{event_type}.v1",
                        OutboxEvent.dispatched_at.is_not(None),
                    )
                )
            )

    return check


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def kyc_world(request, tmp_path):
    name = postgres.create_database() if request.param == "postgresql" else None
    extra = {"database_url": postgres.url(name)} if name else {}
    settings = payment_settings(tmp_path, None, stripe_api_key=None, **FAST, **extra)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        seed(engine)
        yield settings, engine
    finally:
        engine.dispose()
        if name:
            postgres.drop_database(name)


async def test_kyc_expiry_runs_on_its_schedule_and_tells_the_customer_first(kyc_world, caplog):
    settings, engine = kyc_world
    caplog.set_level(logging.INFO, logger="services.kyc.service")
    kyc = KycService(engine, settings)
    start = datetime(2026, 12, 7, 9, 0)
    with time_machine.travel(start, tick=False):
        kyc.submit(ANN_CALLER, "passport")
        approved = kyc.review(SAM_CALLER, ANN, "approve")
    lapses = approved.expires_at

    def status() -> str:
        return kyc.status(ANN_CALLER).status

    def expiry_notices() -> int:
        with engine.connect() as conn:
            return conn.scalar(
                select(func.count()).where(
                    Notification.kind == "kyc_expiring", Notification.user_id == ANN
                )
            )

    months_before = lapses - timedelta(days=settings.kyc_expiry_notice_days + 60)
    with time_machine.travel(months_before, tick=False):
        await run_until(settings, engine, logged(caplog, "approvals expired", 3))
    assert status() == "approved" and expiry_notices() == 0
    assert "kyc.expiring" not in outbox_types(engine)

    with time_machine.travel(lapses - timedelta(days=5), tick=False):
        await run_until(settings, engine, lambda: expiry_notices() > 0)
        await run_until(settings, engine, logged(caplog, "approvals expired", 8))
    assert status() == "approved"  # told, not yet expired
    assert outbox_types(engine).count("kyc.expiring") == 1  # told once, however many rounds

    with time_machine.travel(lapses + timedelta(minutes=1), tick=False):
        await run_until(settings, engine, delivered(engine, "kyc.expired"))
    assert status() == "expired"
    assert outbox_types(engine).count("kyc.expired") == 1
    with engine.connect() as conn:
        assert conn.scalar(select(KycVerification.expiry_notice_at)) is not None


async def test_dunning_runs_on_its_schedule_and_cancels_after_the_last_retry(world: World, caplog):
    settings = world.settings.model_copy(update={**FAST, "dunning_retry_days": [2]})
    caplog.set_level(logging.INFO, logger="services.payments.dunning")
    payments = world.services.payments
    payments.save_payment_method(ANN_CALLER, world.card(CARD_OK))
    sub = payments.subscribe(ANN_CALLER, Plan.PRO)
    payments.save_payment_method(ANN_CALLER, world.card(CARD_DECLINED_LATER))
    with world.engine.begin() as conn:
        row = conn.execute(select(Subscription.__table__).where(Subscription.id == sub.id)).one()
        world.stripe.v1.invoices.create(
            params={"customer": payments.customer_id(ANN), "subscription": row.provider_reference}
        )
        renewal_failed(conn, settings, row, 29.0, clock.utcnow())
    failed_at = clock.now()

    def state() -> tuple[str, int]:
        with world.engine.connect() as conn:
            found = conn.execute(
                select(Subscription.status, Subscription.failed_attempts).where(
                    Subscription.id == sub.id
                )
            ).one()
        return found.status, found.failed_attempts

    with time_machine.travel(failed_at + timedelta(days=1), tick=False):
        await run_until(settings, world.engine, logged(caplog, "dunning: ", 3))
    assert state() == ("past_due", 1)  # the retry is a day away: nothing was tried
    assert "'retried': 1" not in caplog.text

    with time_machine.travel(failed_at + timedelta(days=2, minutes=1), tick=False):
        await run_until(settings, world.engine, delivered(world.engine, "subscription.cancelled"))
    assert state() == ("cancelled", 2)
    assert world.stripe.v1.subscriptions.retrieve(row.provider_reference).status == "canceled"
    assert outbox_types(world.engine).count("subscription.cancelled") == 1


def test_the_jobs_follow_their_settings(tmp_path):
    def names(**values) -> list[str]:
        settings = payment_settings(tmp_path, None, **values)
        return [job.name for job in scheduled_jobs(settings, make_engine(settings.database_url))]

    assert names() == ["kyc expiry", "dunning"]
    assert names(stripe_api_key=None) == ["kyc expiry"]  # no Stripe, nothing to retry
    assert names(kyc_expiry_every_s=0, dunning_every_s=0) == []  # left to cron and the CLI
