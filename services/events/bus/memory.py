"""The in-process bus (`memory://`): the embedded default, with a broker's delivery rules.

Publishing hands the event to each matching subscription's delivery task and returns; the
task calls the handler, retries it with the policy's backoff and dead-letters it after the
last attempt, as RabbitMQ would. Nothing survives the process: that is what the outbox is for
(an event is only marked dispatched once this bus has it, and a restart dispatches again
whatever was not).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from cloudevents.core.v1.event import CloudEvent

from services.events.bus.base import DeadLetter, Handler, RetryPolicy, topic_matches

log = logging.getLogger("events.bus.memory")


@dataclass(frozen=True)
class _Subscription:
    pattern: str
    handler: Handler
    consumer: str


class MemoryBus:
    description = "memory:// (in-process)"

    def __init__(self, retry: RetryPolicy | None = None) -> None:
        self.retry = retry or RetryPolicy()
        self._subscriptions: list[_Subscription] = []
        self._dead: dict[str, list[DeadLetter]] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._closed = False

    async def publish(self, event: CloudEvent) -> None:
        if self._closed:
            raise ConnectionError("the in-process bus is closed")
        for sub in self._subscriptions:
            if topic_matches(sub.pattern, event.get_type()):
                task = asyncio.create_task(self._deliver(sub, event))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)

    async def subscribe(self, pattern: str, handler: Handler, *, consumer: str) -> None:
        self._subscriptions.append(_Subscription(pattern, handler, consumer))

    async def _deliver(self, sub: _Subscription, event: CloudEvent) -> None:
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                await sub.handler(event)
                return
            except Exception as exc:  # a consumer's failure of any kind is retried
                error = f"{type(exc).__name__}: {exc}"
                log.warning(
                    "%s failed on %s %s (attempt %d): %s",
                    sub.consumer,
                    event.get_type(),
                    event.get_id(),
                    attempt,
                    error,
                )
                if attempt < self.retry.max_attempts:
                    await asyncio.sleep(self.retry.delay(attempt))
        self._dead.setdefault(sub.consumer, []).append(
            DeadLetter(
                consumer=sub.consumer,
                event_id=event.get_id(),
                event_type=event.get_type(),
                attempts=self.retry.max_attempts,
                error=error,
            )
        )

    async def drain(self) -> None:
        """Wait until every delivery started so far has succeeded or been dead-lettered."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def dead_letters(self, consumer: str, limit: int = 100) -> list[DeadLetter]:
        return list(self._dead.get(consumer, []))[:limit]

    async def ping(self) -> str:
        if self._closed:
            raise ConnectionError("the in-process bus is closed")
        return "in-process"

    async def close(self) -> None:
        """Let deliveries in flight finish (a handler's retries included), then refuse more."""
        self._closed = True
        await self.drain()
