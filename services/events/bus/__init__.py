"""Message buses behind one `MessageBus` protocol, and the factory that picks one from
MESSAGE_BUS_URL. Vendor SDKs are imported only when their bus is chosen."""

from __future__ import annotations

from services.errors import AssistantError
from services.events.bus.base import DeadLetter, Handler, MessageBus, RetryPolicy, topic_matches
from services.settings import Settings

__all__ = ["DeadLetter", "Handler", "MessageBus", "RetryPolicy", "open_bus", "topic_matches"]


def consumer_retry(settings: Settings) -> RetryPolicy:
    return RetryPolicy(
        max_attempts=settings.events_consumer_attempts,
        backoff_s=settings.events_consumer_backoff_s,
        backoff_max_s=settings.events_consumer_backoff_max_s,
    )


def open_bus(settings: Settings) -> MessageBus:
    """The bus MESSAGE_BUS_URL names: memory://, amqp(s)://, servicebus://, Endpoint=sb://...,
    eventgrid://. Nothing connects yet; the first publish or subscribe does."""
    url = settings.message_bus_url.strip()
    retry = consumer_retry(settings)
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme == "memory":
        from services.events.bus.memory import MemoryBus

        return MemoryBus(retry)
    if scheme in ("amqp", "amqps"):
        from services.events.bus.amqp import AmqpBus

        return AmqpBus(
            url,
            exchange=settings.events_exchange,
            retry=retry,
            timeout_s=settings.events_publish_timeout_s,
        )
    if scheme == "servicebus" or url.startswith("Endpoint=sb://"):
        from services.events.bus.servicebus import ServiceBusBus, client_from_url

        client, topic = client_from_url(url)
        return ServiceBusBus(client, topic, retry=retry)
    if scheme == "eventgrid":
        from services.events.bus.eventgrid import EventGridBus
        from services.events.bus.eventgrid import client_from_url as eventgrid_client

        return EventGridBus(eventgrid_client(url, settings.eventgrid_access_key), url)
    raise AssistantError(
        "bus_unsupported",
        f"MESSAGE_BUS_URL {url.split(';')[0]!r} is not memory://, amqp://, servicebus://, "
        "Endpoint=sb://... or eventgrid://",
    )
