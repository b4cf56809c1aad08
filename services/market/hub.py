"""In-process publish/subscribe for the real-time stream: quotes by symbol, everything else by
user.

A subscription belongs to one user and names the symbols whose quotes it wants. Quotes go to
the subscriptions that named the symbol; orders, fills, alerts and position values go only to
subscriptions of the user they belong to, so nobody ever receives another user's events.
Publishers may run in any thread (the pipeline applies batches in a worker thread): each event
is handed to the subscriber's own event loop. A subscriber that falls `max_queue` events behind
is marked lagging and its stream ends (the client reconnects and re-reads the state), rather
than silently skipping a fill.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field

log = logging.getLogger(__name__)

EventKind = Literal["subscribed", "quote", "order", "fill", "alert", "position"]


class StreamEvent(BaseModel):
    """One message of the stream, as sent to the client."""

    kind: EventKind = Field(description="What changed.")
    symbol: str | None = Field(None, description="The instrument it is about, if any.")
    data: dict[str, Any] = Field(default_factory=dict, description="The new values.")


class StreamLagging(RuntimeError):
    """The subscriber fell too far behind; its stream is over."""


class Subscription:
    """One client's queue. Created by `StreamHub.subscribe`, read with `next()`."""

    def __init__(self, user_id: int | None, symbols: Iterable[str], max_queue: int):
        self.user_id = user_id
        self.symbols = frozenset(symbols)
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[StreamEvent] = asyncio.Queue(max_queue)
        self.lagging = False

    async def next(self) -> StreamEvent:
        if self.lagging and self._queue.empty():
            raise StreamLagging(f"more than {self._queue.maxsize} events behind")
        return await self._queue.get()

    def _offer(self, event: StreamEvent) -> None:
        """Called in the subscriber's loop."""
        if self.lagging:
            return
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            log.warning("stream of user %s is lagging; it will be closed", self.user_id)
            self.lagging = True

    def deliver(self, event: StreamEvent) -> None:
        """Hand `event` over from any thread."""
        with contextlib.suppress(RuntimeError):  # the subscriber's loop is closed: it is gone
            self._loop.call_soon_threadsafe(self._offer, event)


class StreamHub:
    """Routes published events to the subscriptions allowed to see them."""

    def __init__(self, max_queue: int = 1000):
        self.max_queue = max_queue
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()

    def subscribe(self, user_id: int | None, symbols: Iterable[str]) -> Subscription:
        """Must be called from the subscriber's event loop; `unsubscribe` when done."""
        sub = Subscription(user_id, symbols, self.max_queue)
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    def publish_quote(self, event: StreamEvent) -> None:
        """A public price: to every subscription that named its symbol."""
        for sub in self._snapshot():
            if event.symbol in sub.symbols:
                sub.deliver(event)

    def publish_to_user(self, user_id: int, event: StreamEvent) -> None:
        """A user's own event (order, fill, alert, position): to that user's subscriptions."""
        for sub in self._snapshot():
            if sub.user_id is not None and sub.user_id == user_id:
                sub.deliver(event)

    def _snapshot(self) -> list[Subscription]:
        with self._lock:
            return list(self._subs)
