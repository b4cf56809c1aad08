"""Events inside a long-running process (the API server, a worker): one bus, one dispatcher.

    async with event_runtime(settings, engine) as events:       # e.g. in FastAPI's lifespan
        await events.bus.subscribe("com.tradingassist.#", handler, consumer="notifications")
        ...
        events.dispatcher.wake()                                 # after a commit, optional

On the way out the dispatcher finishes its round (so its outcome is written) before the bus
closes; whatever was not delivered stays in the outbox for the next start.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import Engine

from services.events.bus import MessageBus, open_bus
from services.events.dispatcher import Dispatcher
from services.settings import Settings


@dataclass(frozen=True)
class EventRuntime:
    bus: MessageBus
    dispatcher: Dispatcher


@asynccontextmanager
async def event_runtime(settings: Settings, engine: Engine) -> AsyncIterator[EventRuntime]:
    bus = open_bus(settings)
    dispatcher = Dispatcher.from_settings(settings, engine, bus)
    dispatcher.start()
    try:
        yield EventRuntime(bus, dispatcher)
    finally:
        await dispatcher.stop()
        await bus.close()
