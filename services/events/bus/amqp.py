"""RabbitMQ (`amqp://` or `amqps://`), through aio-pika.

Topology, all durable, all named after the exchange:
- `EXCHANGE`: a topic exchange; an event is published with its type as the routing key,
  persistent, and `publish` returns only after the broker's publisher confirm.
- `EXCHANGE.CONSUMER`: one queue per consumer name, bound with the consumer's pattern; every
  process of that consumer shares it, so each event is handled by one of them.
- `EXCHANGE.CONSUMER.retry.<delay>ms`: where a message waits after a failed attempt; the
  queue's TTL is the backoff for that attempt, and expiry dead-letters it back to the
  consumer's queue (one queue per delay, because RabbitMQ only expires messages at the head of
  a queue).
- `EXCHANGE.CONSUMER.dead`: where it goes after `RetryPolicy.max_attempts` failed attempts,
  with the last error in its headers.

Bindings add up: a consumer whose pattern changes keeps its old binding until an operator
unbinds it. The connection is robust (aio-pika reconnects and restores consumers) and opened
on first use, so a bus created while the broker is down starts working when it comes back.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from cloudevents.core.v1.event import CloudEvent

from services.errors import AssistantError
from services.events import wire
from services.events.bus.base import DeadLetter, Handler, RetryPolicy

log = logging.getLogger("events.bus.amqp")
ATTEMPTS = "x-attempts"  # failed attempts so far, carried from retry to retry
ERROR = "x-last-error"


class AmqpBus:
    def __init__(
        self,
        url: str,
        *,
        exchange: str,
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
        prefetch: int = 20,
    ) -> None:
        self.url = url
        self.exchange_name = exchange
        self.retry = retry or RetryPolicy()
        self.timeout_s = timeout_s
        self.prefetch = prefetch
        self.description = f"{_without_credentials(url)} exchange {exchange}"
        self._connection: AbstractRobustConnection | None = None
        self._publishing: AbstractChannel | None = None
        self._consuming: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._consumers: list[tuple[AbstractQueue, str]] = []
        self.subscribed: set[str] = set()  # consumer names this bus declared queues for
        self._lock = asyncio.Lock()

    def _retry_queue(self, consumer: str, failed_attempts: int) -> tuple[str, int]:
        """The queue a message waits in after its n-th failure, and that queue's TTL (ms).
        Named after the delay, so that changing the backoff settings declares new queues
        instead of clashing with the arguments of existing ones."""
        ttl_ms = max(1, round(self.retry.delay(failed_attempts) * 1000))
        return f"{self.exchange_name}.{consumer}.retry.{ttl_ms}ms", ttl_ms

    def queues_of(self, consumer: str) -> list[str]:
        """Every queue a consumer's subscription uses: its own, the retry queues, the dead
        letters (in that order)."""
        retries = dict(self._retry_queue(consumer, n) for n in range(1, self.retry.max_attempts))
        base = f"{self.exchange_name}.{consumer}"
        return [base, *retries, f"{base}.dead"]

    async def _ready(self) -> AbstractExchange:
        async with self._lock:
            if self._exchange is None:
                connection = None
                try:
                    connection = await aio_pika.connect_robust(self.url, timeout=self.timeout_s)
                    channel = await connection.channel(publisher_confirms=True)
                    exchange = await channel.declare_exchange(
                        self.exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
                    )
                except (TimeoutError, OSError, aio_pika.exceptions.AMQPError) as exc:
                    if connection is not None:
                        await connection.close()
                    raise ConnectionError(f"RabbitMQ at {self.description}: {exc}") from exc
                self._connection, self._publishing, self._exchange = connection, channel, exchange
            return self._exchange

    async def publish(self, event: CloudEvent) -> None:
        exchange = await self._ready()
        await exchange.publish(
            _message(event),
            routing_key=event.get_type(),
            mandatory=False,  # no subscriber for a type is not an error
            timeout=self.timeout_s,
        )

    async def subscribe(self, pattern: str, handler: Handler, *, consumer: str) -> None:
        exchange = await self._ready()
        assert self._connection is not None
        if self._consuming is None:
            self._consuming = await self._connection.channel(publisher_confirms=True)
            await self._consuming.set_qos(prefetch_count=self.prefetch)
        channel = self._consuming
        name, dead = self.queues_of(consumer)[0], self.queues_of(consumer)[-1]
        self.subscribed.add(consumer)
        queue = await channel.declare_queue(name, durable=True)
        await queue.bind(exchange, routing_key=pattern)
        for attempt in range(1, self.retry.max_attempts):
            retry_name, ttl_ms = self._retry_queue(consumer, attempt)
            await channel.declare_queue(
                retry_name,
                durable=True,
                arguments={
                    "x-message-ttl": ttl_ms,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": name,
                },
            )
        await channel.declare_queue(dead, durable=True)

        async def on_message(message: AbstractIncomingMessage) -> None:
            await self._handle(channel, consumer, handler, message)

        tag = await queue.consume(on_message)
        self._consumers.append((queue, tag))

    async def _handle(
        self,
        channel: AbstractChannel,
        consumer: str,
        handler: Handler,
        message: AbstractIncomingMessage,
    ) -> None:
        dead = self.queues_of(consumer)[-1]
        failed = int((message.headers or {}).get(ATTEMPTS, 0))
        try:
            event = wire.decode(message.body)
        except AssistantError as exc:
            log.warning("%s: unreadable message %s: %s", consumer, message.message_id, exc)
            await self._forward(channel, message, dead, failed + 1, exc.message)
            return
        try:
            await handler(event)
        except Exception as exc:  # a consumer's failure of any kind is retried
            failed += 1
            error = f"{type(exc).__name__}: {exc}"
            last = failed >= self.retry.max_attempts
            log.warning(
                "%s failed on %s %s (attempt %d%s): %s",
                consumer,
                event.get_type(),
                event.get_id(),
                failed,
                ", dead-lettered" if last else "",
                error,
            )
            target = dead if last else self._retry_queue(consumer, failed)[0]
            await self._forward(channel, message, target, failed, error)
            return
        await message.ack()

    async def _forward(
        self,
        channel: AbstractChannel,
        message: AbstractIncomingMessage,
        queue: str,
        attempts: int,
        error: str,
    ) -> None:
        """Move a message to a retry or dead-letter queue: confirmed there before it is
        acknowledged here, so a crash in between duplicates it but never drops it."""
        headers = {**(message.headers or {}), ATTEMPTS: attempts, ERROR: error[:1000]}
        copy = aio_pika.Message(
            message.body,
            headers=headers,
            content_type=message.content_type,
            message_id=message.message_id,
            type=message.type,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )
        await channel.default_exchange.publish(copy, routing_key=queue, timeout=self.timeout_s)
        await message.ack()

    async def dead_letters(self, consumer: str, limit: int = 100) -> list[DeadLetter]:
        await self._ready()
        assert self._connection is not None
        dead = self.queues_of(consumer)[-1]
        letters: list[DeadLetter] = []
        # read without acknowledging; closing the channel puts every message back in place
        async with self._connection.channel() as channel:
            queue = await channel.declare_queue(dead, durable=True)
            while len(letters) < limit:
                message = await queue.get(no_ack=False, fail=False, timeout=self.timeout_s)
                if message is None:
                    break
                headers = message.headers or {}
                letters.append(
                    DeadLetter(
                        consumer=consumer,
                        event_id=message.message_id or "",
                        event_type=message.type or "",
                        attempts=int(headers.get(ATTEMPTS, 0)),
                        error=str(headers.get(ERROR, "")),
                    )
                )
        return letters

    async def ping(self) -> str:
        await self._ready()
        assert self._connection is not None
        if self._connection.is_closed:
            raise ConnectionError(f"RabbitMQ at {self.description}: connection closed")
        return "answers"

    async def close(self) -> None:
        """Cancel the consumers (unacknowledged messages go back to their queues) and close."""
        for queue, tag in self._consumers:
            try:
                await queue.cancel(tag)
            except Exception as exc:  # the connection may already be gone
                log.debug("cancelling %s: %s", queue.name, exc)
        self._consumers.clear()
        if self._connection is not None:
            await self._connection.close()
        self._connection = self._publishing = self._consuming = self._exchange = None


def _message(event: CloudEvent) -> aio_pika.Message:
    time = event.get_time()
    return aio_pika.Message(
        wire.encode(event),
        content_type=wire.CONTENT_TYPE,
        message_id=event.get_id(),
        type=event.get_type(),
        timestamp=time,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


def _without_credentials(url: str) -> str:
    """amqp://user:secret@host:5672/vhost -> amqp://host:5672/vhost, for logs and doctor."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"
