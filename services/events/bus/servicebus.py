"""Azure Service Bus (`servicebus://NAMESPACE.servicebus.windows.net/TOPIC` with managed
identity, or an `Endpoint=sb://...;EntityPath=TOPIC` connection string), through the official
SDK and nothing else.

Events go to one topic, in CloudEvents structured mode, with the event id as the message id
(so the namespace's duplicate detection can drop a re-sent event) and the event type as the
subject (so a subscription's SQL filter `sys.Label LIKE 'com.tradingassist.order.%'` can
select them). A consumer is a subscription of the same name, created with the topic by the
infrastructure templates; its pattern is also applied here, so a broader subscription still
hands the handler only what it asked for. A failed handler abandons the message, which Service
Bus delivers again at once (it has no delay on abandon); after `RetryPolicy.max_attempts`
deliveries the message is dead-lettered with the error, and `dead_letters` peeks at the
subscription's dead-letter sub-queue.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from azure.servicebus import ServiceBusMessage, ServiceBusSubQueue
from azure.servicebus.aio import ServiceBusClient, ServiceBusReceiver, ServiceBusSender
from cloudevents.core.v1.event import CloudEvent

from services.errors import AssistantError
from services.events import wire
from services.events.bus.base import DeadLetter, Handler, RetryPolicy, topic_matches

log = logging.getLogger("events.bus.servicebus")


def client_from_url(url: str) -> tuple[ServiceBusClient, str]:
    """The SDK client and topic name a MESSAGE_BUS_URL names."""
    if url.startswith("Endpoint="):
        fields = dict(part.split("=", 1) for part in url.split(";") if "=" in part)
        topic = fields.get("EntityPath", "")
        if not topic:
            raise AssistantError("bus_unsupported", "the connection string needs EntityPath=TOPIC")
        return ServiceBusClient.from_connection_string(url), topic
    namespace, _, topic = url.removeprefix("servicebus://").partition("/")
    if not namespace or not topic.strip("/"):
        raise AssistantError(
            "bus_unsupported",
            "MESSAGE_BUS_URL must be servicebus://NAMESPACE.servicebus.windows.net/TOPIC",
        )
    try:
        from azure.identity.aio import DefaultAzureCredential
    except ImportError:
        raise AssistantError(
            "bus_unsupported",
            "managed identity needs azure-identity installed; or use an Endpoint=sb://... "
            "connection string",
        ) from None
    return ServiceBusClient(namespace, DefaultAzureCredential()), topic.strip("/")


def _body(message: Any) -> bytes:
    body = message.body
    return bytes(body) if isinstance(body, bytes | bytearray) else b"".join(body)


class ServiceBusBus:
    def __init__(
        self, client: ServiceBusClient, topic: str, *, retry: RetryPolicy | None = None
    ) -> None:
        self.client = client
        self.topic = topic
        self.retry = retry or RetryPolicy()
        self.description = f"Azure Service Bus topic {topic}"
        self._sender: ServiceBusSender | None = None
        self._receivers: list[tuple[ServiceBusReceiver, asyncio.Task[None]]] = []

    async def publish(self, event: CloudEvent) -> None:
        if self._sender is None:
            self._sender = self.client.get_topic_sender(topic_name=self.topic)
        await self._sender.send_messages(
            ServiceBusMessage(
                wire.encode(event),
                content_type=wire.CONTENT_TYPE,
                message_id=event.get_id(),
                subject=event.get_type(),
                application_properties={"cloudEvents:source": event.get_source()},
            )
        )

    async def subscribe(self, pattern: str, handler: Handler, *, consumer: str) -> None:
        receiver = self.client.get_subscription_receiver(
            topic_name=self.topic, subscription_name=consumer
        )
        task = asyncio.create_task(self._receive(receiver, pattern, handler, consumer))
        self._receivers.append((receiver, task))

    async def _receive(
        self, receiver: ServiceBusReceiver, pattern: str, handler: Handler, consumer: str
    ) -> None:
        async with receiver:
            async for message in receiver:
                await self._handle(receiver, message, pattern, handler, consumer)

    async def _handle(
        self,
        receiver: ServiceBusReceiver,
        message: Any,
        pattern: str,
        handler: Handler,
        consumer: str,
    ) -> None:
        try:
            event = wire.decode(_body(message))
        except AssistantError as exc:
            log.warning("%s: unreadable message %s: %s", consumer, message.message_id, exc)
            await receiver.dead_letter_message(
                message, reason="unreadable", error_description=exc.message[:4000]
            )
            return
        if not topic_matches(pattern, event.get_type()):
            await receiver.complete_message(message)  # the subscription is broader than asked
            return
        try:
            await handler(event)
        except Exception as exc:  # a consumer's failure of any kind is retried
            failed = (message.delivery_count or 0) + 1
            error = f"{type(exc).__name__}: {exc}"
            log.warning("%s failed on %s (attempt %d): %s", consumer, event.get_id(), failed, error)
            if failed >= self.retry.max_attempts:
                await receiver.dead_letter_message(
                    message, reason="max_attempts", error_description=error[:4000]
                )
            else:
                await receiver.abandon_message(message)
            return
        await receiver.complete_message(message)

    async def dead_letters(self, consumer: str, limit: int = 100) -> list[DeadLetter]:
        receiver = self.client.get_subscription_receiver(
            topic_name=self.topic,
            subscription_name=consumer,
            sub_queue=ServiceBusSubQueue.DEAD_LETTER,
        )
        async with receiver:
            messages = await receiver.peek_messages(max_message_count=limit)
        return [
            DeadLetter(
                consumer=consumer,
                event_id=message.message_id or "",
                event_type=message.subject or "",
                attempts=message.delivery_count or 0,
                error=message.dead_letter_error_description or "",
            )
            for message in messages
        ]

    async def ping(self) -> str:
        """Opening a sender authenticates and attaches a link to the topic, or raises."""
        async with self.client.get_topic_sender(topic_name=self.topic):
            return "answers"

    async def close(self) -> None:
        for receiver, task in self._receivers:
            task.cancel()
            await receiver.close()
        self._receivers.clear()
        if self._sender is not None:
            await self._sender.close()
            self._sender = None
        await self.client.close()
