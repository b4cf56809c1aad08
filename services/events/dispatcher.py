"""Delivering the outbox to the bus: claim due rows, publish, mark; on failure, back off.

Claiming is a single UPDATE that stamps a batch of due rows with this dispatcher's name and a
lease end (`claimed_by`, `claimed_until`) and returns them. On PostgreSQL the rows are chosen
with `SELECT ... FOR UPDATE SKIP LOCKED`, so dispatchers claiming at the same moment take
disjoint batches without waiting on each other; on SQLite the UPDATE's condition (unclaimed,
or lease over) does the same, SQLite running one writer at a time. No transaction stays open
while the bus is called: the lease keeps the batch out of the others' hands meanwhile, and a
batch is published concurrently within one publish timeout, shorter than the lease, so two
dispatchers never send the same row (a crash between the broker's confirm and the mark does
send it again later: consumers deduplicate by event id).

A row the bus refuses gets `attempts + 1`, the error, and its next attempt after an
exponential backoff (capped); it stays in the outbox until delivered, so a broker outage
delays events and never loses one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from datetime import timedelta

from pydantic import BaseModel
from sqlalchemy import Engine, RowMapping, or_, select, update

from services import clock
from services.events.bus.base import MessageBus
from services.events.outbox import OUTBOX, event_from_row
from services.settings import Settings

log = logging.getLogger("events.dispatcher")


class DispatchReport(BaseModel):
    """What one or more dispatch rounds did."""

    claimed: int = 0
    delivered: int = 0
    failed: int = 0

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            **{
                field: getattr(self, field) + getattr(other, field)
                for field in type(self).model_fields
            }
        )


def default_name() -> str:
    """Host, process and a random part: unique among dispatchers sharing one outbox."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        bus: MessageBus,
        *,
        name: str | None = None,
        batch_size: int = 100,
        lease_s: float = 60.0,
        publish_timeout_s: float = 10.0,
        backoff_s: float = 1.0,
        backoff_max_s: float = 300.0,
        poll_s: float = 1.0,
    ) -> None:
        if lease_s <= publish_timeout_s:
            raise ValueError("the lease must outlast one publish timeout")
        self.engine = engine
        self.bus = bus
        self.name = name or default_name()
        self.batch_size = batch_size
        self.lease_s = lease_s
        self.publish_timeout_s = publish_timeout_s
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.poll_s = poll_s
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine, bus: MessageBus) -> Dispatcher:
        return cls(
            engine,
            bus,
            batch_size=settings.events_batch_size,
            lease_s=settings.events_lease_s,
            publish_timeout_s=settings.events_publish_timeout_s,
            backoff_s=settings.events_retry_backoff_s,
            backoff_max_s=settings.events_retry_backoff_max_s,
            poll_s=settings.events_poll_s,
        )

    def delay(self, attempts: int) -> float:
        """Seconds before the next attempt of a row that has failed `attempts` times."""
        return min(self.backoff_s * 2 ** (attempts - 1), self.backoff_max_s)

    # -- one round ------------------------------------------------------------------------

    async def dispatch_once(self) -> DispatchReport:
        """Claim one batch of due rows and deliver it; the report says what happened.

        The batch is published concurrently (in claim order), so broker confirms overlap
        instead of queueing, and the whole batch is settled within one publish timeout, well
        inside the lease."""
        rows = await asyncio.to_thread(self._claim)
        if not rows:
            return DispatchReport()
        outcomes = await asyncio.gather(*map(self._publish, rows), return_exceptions=True)
        delivered = [row["id"] for row, out in zip(rows, outcomes, strict=True) if out is None]
        failures = [
            (row, f"{type(out).__name__}: {out}"[:2000])
            for row, out in zip(rows, outcomes, strict=True)
            if isinstance(out, BaseException)
        ]
        await asyncio.to_thread(self._settle, delivered, failures)
        return DispatchReport(claimed=len(rows), delivered=len(delivered), failed=len(failures))

    async def _publish(self, row: RowMapping) -> None:
        """One row to the bus; a row that no longer reads as an event fails like a refusal."""
        await asyncio.wait_for(self.bus.publish(event_from_row(row)), self.publish_timeout_s)

    def _claim(self) -> list[RowMapping]:
        now = clock.utcnow()
        lease_end = now + timedelta(seconds=self.lease_s)
        due = (
            select(OUTBOX.c.id)
            .where(
                OUTBOX.c.dispatched_at.is_(None),
                OUTBOX.c.available_at <= now,
                or_(OUTBOX.c.claimed_until.is_(None), OUTBOX.c.claimed_until < now),
            )
            .order_by(OUTBOX.c.available_at, OUTBOX.c.created_at)
            .limit(self.batch_size)
        )
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)
            rows = (
                conn.execute(
                    update(OUTBOX)
                    .where(OUTBOX.c.id.in_(due))
                    .values(claimed_by=self.name, claimed_until=lease_end)
                    .returning(*OUTBOX.c)
                )
                .mappings()
                .all()
            )
        return sorted(rows, key=lambda row: (row["available_at"], row["created_at"]))

    def _settle(self, delivered: Sequence[str], failures: Sequence[tuple[RowMapping, str]]) -> None:
        """Write a round's outcome in one transaction, only on rows this dispatcher holds."""
        now = clock.utcnow()
        mine = OUTBOX.c.claimed_by == self.name
        unclaimed = {"claimed_by": None, "claimed_until": None}
        if failures:
            row, error = failures[0]
            log.warning(
                "%s: %d of %d events not delivered, next attempt of %s in %.1fs: %s",
                self.name,
                len(failures),
                len(failures) + len(delivered),
                row["id"],
                self.delay(row["attempts"] + 1),
                error,
            )
        with self.engine.begin() as conn:
            if delivered:
                conn.execute(
                    update(OUTBOX)
                    .where(OUTBOX.c.id.in_(delivered), mine)
                    .values(dispatched_at=now, **unclaimed)
                )
            for row, error in failures:
                attempts = row["attempts"] + 1
                conn.execute(
                    update(OUTBOX)
                    .where(OUTBOX.c.id == row["id"], mine)
                    .values(
                        attempts=attempts,
                        last_error=error,
                        available_at=now + timedelta(seconds=self.delay(attempts)),
                        **unclaimed,
                    )
                )

    async def drain(self) -> DispatchReport:
        """Dispatch rounds until nothing is due (rows backing off stay for later)."""
        total = DispatchReport()
        while True:
            report = await self.dispatch_once()
            total += report
            if report.claimed == 0 or report.delivered == 0:
                return total

    # -- as a task ------------------------------------------------------------------------

    def wake(self) -> None:
        """Dispatch now instead of after the poll interval (an emitter just committed)."""
        self._wake.set()

    async def run(self) -> None:
        """Dispatch until stopped: full batches back to back, then wait for a wake or a poll."""
        while not self._stopping:
            self._wake.clear()  # a wake from now on, even during the round, means: go again
            try:
                report = await self.dispatch_once()
            except Exception:  # the database is unreachable: keep trying, loudly
                log.exception("%s: dispatch round failed", self.name)
                report = DispatchReport()
            if (report.claimed < self.batch_size or report.failed) and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self.run(), name=f"dispatcher {self.name}")
        return self._task

    async def stop(self) -> None:
        """Finish the round in progress (so its outcome is written), then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
