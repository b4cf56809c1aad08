"""Domain events: recorded in the outbox with the change, delivered by the dispatcher to the
message bus, handled once per consumer.

    with engine.begin() as conn:                      # the emitter's own transaction
        ...                                           # the change
        record(conn, new_event(OrderFilled(...), subject=f"orders/{order.id}"))

    bus = open_bus(settings)                          # memory://, amqp://, servicebus://, ...
    await bus.subscribe("com.tradingassist.order.#", idempotent(engine, "notify", handle),
                        consumer="notify")
    Dispatcher.from_settings(settings, engine, bus).start()
"""

from services.events.bus import MessageBus, RetryPolicy, open_bus
from services.events.catalogue import CATALOGUE, new_event, payload_of
from services.events.consumer import consume_once, idempotent
from services.events.dispatcher import Dispatcher, DispatchReport
from services.events.outbox import record
from services.events.runtime import EventRuntime, event_runtime

__all__ = [
    "CATALOGUE",
    "DispatchReport",
    "Dispatcher",
    "EventRuntime",
    "MessageBus",
    "RetryPolicy",
    "consume_once",
    "event_runtime",
    "idempotent",
    "new_event",
    "open_bus",
    "payload_of",
    "record",
]
