"""The work a serving process does in the background: deliver the outbox to the bus, turn the
domain events into notifications, send the notifications that are due, and run the payment and
KYC jobs on their schedule (dunning every `DUNNING_EVERY_S`, KYC expiry every
`KYC_EXPIRY_EVERY_S`).

    async with background_work(settings, engine):   # e.g. in FastAPI's lifespan
        ...

A second process (another API worker, or `trading-assist events dispatch`) can run the same:
the outbox's claims, the consumers' event ids, the notifications' claims and the jobs' guarded
updates keep each event delivered, each notification created, each message sent and each
subscription or identity check moved once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from cloudevents.core.v1.event import CloudEvent
from sqlalchemy import Engine

from services.events.bus import MessageBus
from services.events.runtime import EventRuntime, event_runtime
from services.notifications.events import from_domain_event
from services.notifications.service import NotificationService
from services.payments.wiring import scheduled_jobs
from services.settings import Settings

log = logging.getLogger(__name__)
NOTIFICATIONS = "notifications"  # the consumer's name on the bus


async def subscribe_notifications(bus: MessageBus, notifications: NotificationService) -> None:
    """The notifications consumer: each domain event that notifies someone becomes that
    user's notifications (`handle_event` is idempotent by event id itself)."""

    async def notify(event: CloudEvent) -> None:
        wanted = from_domain_event(event)
        if wanted is not None:
            await asyncio.to_thread(notifications.handle_event, wanted)

    await bus.subscribe("com.tradingassist.#", notify, consumer=NOTIFICATIONS)


@asynccontextmanager
async def background_work(settings: Settings, engine: Engine) -> AsyncIterator[EventRuntime]:
    notifications = NotificationService.from_settings(settings, engine)
    async with event_runtime(settings, engine) as events:
        await subscribe_notifications(events.bus, notifications)
        rounds = [
            _every(
                "notification delivery", settings.notify_deliver_every_s, notifications.deliver_due
            )
        ]
        rounds += [
            # a job's events are in the outbox when it returns: deliver them now
            _every(job.name, job.every_s, job.run, then=events.dispatcher.wake)
            for job in scheduled_jobs(settings, engine)
        ]
        tasks = [asyncio.create_task(work) for work in rounds]
        try:
            yield events
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def _every(
    name: str, every_s: float, work: Callable[[], object], then: Callable[[], None] | None = None
) -> None:
    """Run `work` off the event loop now and every `every_s` seconds after each round."""
    while True:
        try:
            await asyncio.to_thread(work)
            if then is not None:
                then()
        except Exception:  # a failed round is retried next round; the rows keep their state
            log.exception("%s round failed", name)
        await asyncio.sleep(every_s)
